#!/usr/bin/env bash
# Dashboard load benchmark: a release build on PostgreSQL, wrk on loopback, beside the bare
# actix-web ceiling measured in the same run on the same machine:
#   - GET /r/{code}: the short-link redirect (the click counted off the request path);
#   - POST /graphql: a page of 20 subscribers with their fields, tags and opt-ins, and the
#     list's totalCount, with 1 thousand, 100 thousand and 1 million subscribers in the tenant
#     (generated with bench/generate_subscribers.sql).
# Reports requests/s, p50 and p99, and the server's resident memory under load.
#
# The subscribers page is measured at each concurrency of QUERY_CONNS: a closed loop of C
# connections waits C / throughput on average, so p99 at 32 connections says how much the
# machine serves, and at fewer how long one dashboard waits while the machine is busy.
#
# The page is read with an API key (an integration's credential) at every QUERY_CONNS, and with
# a signed-in member's access token (the dashboard's own credential) at every TOKEN_CONNS; then
# paced to about PACED_RATE pages a second (the latency at a steady load, not at saturation).
# REFHUB names a binary to measure instead of building one (A/B runs of two builds).
#
#   bash bench/dashboard.sh                  # defaults: 32 connections, 2 threads, 15 s
#   SIZES="1000 100000" QUERY_CONNS="8" DURATION=10s bash bench/dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=refhub_bench_dashboard
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-15s}
SIZES=${SIZES:-1000 100000 1000000}
QUERY_CONNS=${QUERY_CONNS:-4 8 32}
TOKEN_CONNS=${TOKEN_CONNS:-4}
# A paced run per size: PACED_CONNS connections each pausing PACED_CONNS * 1000 / PACED_RATE
# ms between requests (0: none), at most PACED_RATE pages a second in all (less by each
# request's own time). The closed loops show capacity; this shows the latency at a steady load
# the machine carries.
PACED_RATE=${PACED_RATE:-500}
PACED_CONNS=${PACED_CONNS:-8}
PACE_MS=$(( PACED_RATE > 0 ? PACED_CONNS * 1000 / PACED_RATE : 0 ))
APP_PORT=8089
BARE_PORT=8091
TARGET=${CARGO_TARGET_DIR:-target}
# A refhub binary to measure instead of building one (A/B runs of two builds).
REFHUB=${REFHUB:-}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start

echo "==> release build"
[ -n "$REFHUB" ] || cargo build -q --release -p refhub-api --bin refhub
REFHUB=${REFHUB:-$TARGET/release/refhub}
cargo build -q --release -p refhub-tests --bin bare_ceiling
cargo build -q --release -p refhub-tests --bin fake_meta
# The stand-in Graph API: refhub checks page tokens with Meta and sets pages up.
"${CARGO_TARGET_DIR:-target}/release/fake_meta" --page "104857600000001:EAAB-dash-token:Dash" >"$work/meta.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 50); do grep -q "listening on" "$work/meta.log" && break; sleep 0.1; done
META_URL="http://127.0.0.1:$(sed -n 's/listening on //p' "$work/meta.log")/v26.0"

psql_admin() { psql "$ADMIN_URL" -qAt "$@"; }
BENCH_URL="${ADMIN_URL%/*}/$DB"
psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
psql_admin -c "DO \$\$ BEGIN CREATE ROLE refhub_app LOGIN; EXCEPTION WHEN duplicate_object THEN ALTER ROLE refhub_app LOGIN; END \$\$"
DATABASE_URL="$BENCH_URL" "$REFHUB" migrate >/dev/null

echo "==> starting refhub (PostgreSQL, app role)"
# The per-tenant request limit guards against abuse; here we measure capacity.
DATABASE_URL="postgres://refhub_app@127.0.0.1:5432/$DB" MIGRATE_ON_START=false APP_ENV=development \
  BIND_ADDR=127.0.0.1:$APP_PORT PUBLIC_BASE_URL=http://127.0.0.1:$APP_PORT GRAPH_API_BASE_URL="$META_URL" \
  JWT_SECRET=bench-jwt-secret-0123456789-0123456789-abcdef ENCRYPTION_KEY=$(printf 'a%.0s' $(seq 64)) \
  DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-16} GRAPHQL_PER_TENANT_PER_SECOND=1000000 RUST_LOG=warn \
  "$REFHUB" serve >"$work/refhub.log" 2>&1 &
app_pid=$!; pids+=("$app_pid")
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$APP_PORT/readyz" >/dev/null && break; sleep 0.2; done

gql() {
  curl -fs -XPOST "http://127.0.0.1:$APP_PORT/graphql" -H 'content-type: application/json' \
    ${TOKEN:+-H "Authorization: Bearer $TOKEN"} -d "$1"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
TOKEN=$(gql '{"query":"mutation { signUp(input:{email:\"dash@example.com\", password:\"correct-Horse-battery-9\", tenantName:\"Dash\"}) { accessToken } }"}' | field "['data']['signUp']['accessToken']")
KEY=$(gql '{"query":"mutation { createApiKey(input:{name:\"bench\", role: VIEWER}) { secret } }"}' | field "['data']['createApiKey']['secret']")
TENANT=$(gql '{"query":"{ tenant { id } }"}' | field "['data']['tenant']['id']")
PAGE=$(gql '{"query":"mutation { connectPage(input:{facebookPageId:\"104857600000001\", name:\"Dash\", accessToken:\"EAAB-dash-token\"}) { id } }"}' | field "['data']['connectPage']['id']")
FIELD=$(gql '{"query":"mutation { createCustomField(input:{name:\"City\", type: TEXT}) { id } }"}' | field "['data']['createCustomField']['id']")
TAG=$(gql '{"query":"mutation { createTag(input:{name:\"vip\"}) { id } }"}' | field "['data']['createTag']['id']")
CODE=$(gql "{\"query\":\"mutation { createRefLink(input:{pageId:\\\"$PAGE\\\", ref:\\\"spring\\\"}) { shortCode } }\"}" | field "['data']['createRefLink']['shortCode']")

run_wrk() { wrk -t"$THREADS" -c"${2:-$CONNS}" -d"$DURATION" -s bench/get_result.lua "$1" | grep '^RESULT'; }
value() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
row() { printf '| %-56s | %10s | %6s | %6s |\n' "$1" "$(value rps "$2")" "$(value p50_ms "$2")" "$(value p99_ms "$2")"; }
rss() { echo $(( $(ps -o rss= -p "$app_pid" | tr -d ' ') / 1024 )); }
# CPU per page, ours and PostgreSQL's (all its processes), read from /proc around each run.
. bench/cpu_time.sh

echo "==> ceiling: bare actix-web handler"
BIND_ADDR=127.0.0.1:$BARE_PORT "$TARGET/release/bare_ceiling" & bare_pid=$!; pids+=("$bare_pid")
sleep 0.5
bare=$(run_wrk "http://127.0.0.1:$BARE_PORT/")
kill "$bare_pid"

echo "==> GET /r/$CODE"
redirect=$(run_wrk "http://127.0.0.1:$APP_PORT/r/$CODE")
redirect_rss=$(rss)
# Clicks are stored off the request path; let the writer catch up before measuring anything
# else on this machine (and report how long it took).
clicks_sent=$(value requests "$redirect")
drain_start=$(date +%s)
clicks=0
for _ in $(seq 1 600); do
  clicks=$(psql "$BENCH_URL" -qAt -c "SELECT count(*) FROM link_clicks")
  [ "$clicks" -ge "${clicks_sent%.*}" ] && break
  sleep 1
done
clicks_drain=$(( $(date +%s) - drain_start ))
# Write the flood's million clicks out now, so that the checkpoint does not land in (and its
# CPU does not count against) the first subscriber pages.
psql "$ADMIN_URL" -qAt -c "CHECKPOINT"

QUERY="{\"query\":\"query(\$page: ID!) { subscribers(pageId: \$page, first: 20) { totalCount nodes { id psid firstSeenAt lastInteractionAt withinMessagingWindow fields { field { id name } value } tags { id name } optIns { topicTitle status } } } }\",\"variables\":{\"page\":\"$PAGE\"}}"
declare -A pages_result pages_rss pages_cpu
# One run of the page at `$2` connections with the credential `$3`, recorded under `$1`; with
# `$4`, each connection pauses that many milliseconds between requests.
measure_page() {
  # shellcheck disable=SC2046 # one pid per word
  ours_before=$(ticks "$app_pid"); pg_before=$(ticks $(postgres_pids))
  pages_result[$1]=$(WRK_METHOD=POST WRK_BODY="$QUERY" WRK_TOKEN="$3" PACE_MS="${4:-}" run_wrk "http://127.0.0.1:$APP_PORT/graphql" "$2")
  pages_rss[$1]=$(rss)
  served=$(value requests "${pages_result[$1]}")
  # shellcheck disable=SC2046 # one pid per word
  pages_cpu[$1]="$(per_request_ms "$ours_before" "$(ticks "$app_pid")" "${served%.*}") ms ours, $(per_request_ms "$pg_before" "$(ticks $(postgres_pids))" "${served%.*}") ms PostgreSQL's"
}
for size in $SIZES; do
  echo "==> $size subscribers: generating"
  psql "$BENCH_URL" -q -v tenant="$TENANT" -v page="$PAGE" -v field="$FIELD" -v tag="$TAG" -v target="$size" \
    -f bench/generate_subscribers.sql >/dev/null
  got=$(WRK_TOKEN= TOKEN=$KEY gql "$QUERY" | field "['data']['subscribers']['totalCount']")
  echo "    totalCount $got; measuring"
  for conns in $QUERY_CONNS; do measure_page "$size/$conns" "$conns" "$KEY"; done
  # Access tokens live 15 minutes: log in afresh for each size.
  ACCESS=$(gql '{"query":"mutation { logIn(input:{email:\"dash@example.com\", password:\"correct-Horse-battery-9\"}) { accessToken } }"}' | field "['data']['logIn']['accessToken']")
  for conns in $TOKEN_CONNS; do measure_page "$size/$conns/token" "$conns" "$ACCESS"; done
  [ "$PACED_RATE" = 0 ] || measure_page "$size/paced" "$PACED_CONNS" "$KEY" "$PACE_MS"
done
# Every page run's key, in the order run, with its label.
runs=()
for size in $SIZES; do
  for conns in $QUERY_CONNS; do runs+=("$size/$conns|subscribers page of 20, $size in the tenant, $conns conns"); done
  for conns in $TOKEN_CONNS; do runs+=("$size/$conns/token|same, access token, $conns conns"); done
  [ "$PACED_RATE" = 0 ] || runs+=("$size/paced|same, paced: $PACED_CONNS conns, each pausing $PACE_MS ms")
done

cat <<REPORT

Dashboard benchmark ($(nproc) cores, $CONNS connections unless said, $THREADS wrk threads, $DURATION per run, PostgreSQL through refhub_app)
| what                                                     | requests/s | p50 ms | p99 ms |
|----------------------------------------------------------|-----------:|-------:|-------:|
$(row "bare actix-web handler (ceiling)" "$bare")
$(row "GET /r/{code} (302, click counted)" "$redirect")
$(for run in "${runs[@]}"; do row "${run#*|}" "${pages_result[${run%%|*}]}"; done)

redirect: $(value requests "$redirect") requests ($(value errors_status "$redirect") non-2xx/3xx), $clicks clicks stored ${clicks_drain}s after the load, RSS $redirect_rss MiB
$(for run in "${runs[@]}"; do key=${run%%|*}; echo "${run#*|}: $(value errors_status "${pages_result[$key]}") errors, RSS ${pages_rss[$key]} MiB, CPU per page ${pages_cpu[$key]}"; done)
REPORT
