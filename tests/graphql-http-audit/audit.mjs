// The GraphQL-over-HTTP audit of the `graphql-http` package (its `serverAudits`) against a
// running refhub: `node audit.mjs http://127.0.0.1:PORT/graphql`. Prints one JSON object:
// every audit's id, name, status (`ok`, `error` for a failed MUST, `warn` for a failed SHOULD,
// `notice` for a failed MAY) and, when it failed, why; exits 0 whatever the results (the Rust
// test `graphql_http_audit` reads them).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  let body;
  if (result.status !== 'ok' && result.response) {
    try {
      body = await result.response.text();
    } catch {
      body = undefined;
    }
  }
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.reason,
    responseStatus: result.response ? result.response.status : undefined,
    body,
  });
}
const count = (status) => results.filter((r) => r.status === status).length;
console.log(JSON.stringify({
  ok: count('ok'),
  errors: count('error'),
  warnings: count('warn'),
  notices: count('notice'),
  results,
}, null, 2));
