//! `POST /graphql` executes a request or a batch; `GET /graphql` executes a query for a client
//! asking for JSON, and serves GraphiQL to a browser asking for HTML (GraphQL over HTTP).
//!
//! The bearer credential is resolved here, once per request, into an [`Authentication`] that
//! resolvers read; bodies are read with a size cap and parsed here so that a malformed body
//! gets a GraphQL-shaped error with a code instead of a bare 400 text.
//!
//! The answer's type follows `Accept` (see `graphql_media`). With
//! `application/graphql-response+json`, a request error (the document does not parse or
//! validate, the variables do not coerce, the operation is not found) is a 400; with
//! `application/json` every GraphQL answer is a 200, as clients of that type expect. Either
//! way a request error has no `data`: it was never executed.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensions, Executor, Response, ServerError};
use refhub_domain::DomainError;
use refhub_graphql::{
    AppSchema, Authentication, ClientAddress, Services, TaskSpawner, operation_type,
    prepare_request, refusal_response, spawn_plainly, tag_uncoded_errors,
};
use refhub_persistence::{ReadSession, Store};
use tracing::Instrument;

use super::bearer::bearer;
use super::client_address::client_ip;
use super::graphql_media::{AnswerType, GRAPHQL_RESPONSE_JSON, Wanted, wanted};
use super::graphql_request::{self, Incoming};
use super::persisted_queries::PersistedQueries;
use super::throttles::RequestThrottles;
use crate::security::retry_after_secs;

/// Whether GraphiQL is served.
#[derive(Clone, Copy)]
pub struct GraphiqlEnabled(pub bool);

/// What executing requests needs from the application.
struct Endpoint {
    schema: web::Data<AppSchema>,
    services: web::Data<Services>,
    throttles: web::Data<RequestThrottles>,
    store: web::Data<Store>,
    persisted: web::Data<PersistedQueries>,
}

/// Executes a `POST`: one request (a JSON object) or a batch (an array).
pub async fn execute(
    request: HttpRequest,
    body: web::Bytes,
    schema: web::Data<AppSchema>,
    services: web::Data<Services>,
    throttles: web::Data<RequestThrottles>,
    store: web::Data<Store>,
    persisted: web::Data<PersistedQueries>,
) -> HttpResponse {
    let Wanted::Graphql(answer) = wanted(request.headers(), false) else {
        return not_acceptable();
    };
    if !is_json(&request) {
        return refused_media_type(answer);
    }
    let endpoint = Endpoint {
        schema,
        services,
        throttles,
        store,
        persisted,
    };
    match graphql_request::from_body(&body) {
        Ok(Incoming::Single(gql_request)) => endpoint
            .one_named(&request, *gql_request)
            .await
            .render(answer),
        Ok(Incoming::Batch(gql_requests)) => {
            // One after another, in their order: a batch may hold mutations that depend on
            // each other, as separate requests would.
            let mut outcomes = Vec::with_capacity(gql_requests.len());
            for gql_request in gql_requests {
                outcomes.push(endpoint.one_named(&request, gql_request).await);
            }
            render_batch(outcomes, answer)
        }
        Err(message) => bad_request(answer, &message),
    }
}

/// `GET /graphql`: GraphiQL for a browser asking for HTML (when it is on), otherwise the query
/// in the query string, executed; a mutation is refused (405): a `GET` must change nothing,
/// and browsers send one from any page without asking.
pub async fn get(
    request: HttpRequest,
    schema: web::Data<AppSchema>,
    services: web::Data<Services>,
    throttles: web::Data<RequestThrottles>,
    store: web::Data<Store>,
    persisted: web::Data<PersistedQueries>,
    graphiql: web::Data<GraphiqlEnabled>,
) -> HttpResponse {
    let mut response = match wanted(request.headers(), graphiql.0) {
        Wanted::Html => graphiql_response(),
        Wanted::Nothing => not_acceptable(),
        Wanted::Graphql(answer) => {
            let endpoint = Endpoint {
                schema,
                services,
                throttles,
                store,
                persisted,
            };
            endpoint.get(&request, answer).await
        }
    };
    // The same address answers HTML or JSON by `Accept`: caches must keep them apart.
    response
        .headers_mut()
        .append(header::VARY, header::HeaderValue::from_static("Accept"));
    response
}

impl Endpoint {
    async fn get(&self, request: &HttpRequest, answer: AnswerType) -> HttpResponse {
        let mut gql_request = match graphql_request::from_query_string(request.query_string()) {
            Ok(gql_request) => gql_request,
            Err(message) => return bad_request(answer, &message),
        };
        // A query named by its hash is looked up first, so that the GET rule sees its text.
        if let Err(refusal) = self.name(&mut gql_request) {
            return refusal.render(answer);
        }
        match operation_type(&mut gql_request) {
            Some(OperationType::Mutation | OperationType::Subscription) => {
                let mut response = refused(
                    StatusCode::METHOD_NOT_ALLOWED,
                    answer,
                    "a GET request runs queries only: send mutations with POST (subscriptions \
                     over /graphql/ws)",
                    Some("query"),
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
                response
            }
            // A query, or a document the executor explains the fault of.
            _ => self.one(request, gql_request).await.render(answer),
        }
    }

    /// Fills in a persisted query's text (or registers it); a refusal is a request error.
    fn name(&self, gql_request: &mut async_graphql::Request) -> Result<(), Box<Outcome>> {
        self.persisted.resolve(gql_request).map_err(|err| {
            let (message, code) = err.message_and_code();
            let mut error = async_graphql::ServerError::new(message, None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", code);
            error.extensions = Some(extensions);
            Box::new(Outcome::Answered(Response::from_errors(vec![error])))
        })
    }

    /// Executes one GraphQL request, naming its persisted query first.
    async fn one_named(
        &self,
        request: &HttpRequest,
        mut gql_request: async_graphql::Request,
    ) -> Outcome {
        if let Err(refusal) = self.name(&mut gql_request) {
            return *refusal;
        }
        self.one(request, gql_request).await
    }

    /// Executes one GraphQL request.
    ///
    /// A read-only operation by a caller who names a workspace reads through one snapshot
    /// transaction (see `ReadSession`), authentication included: the credential's lookups are
    /// reads of that workspace like the others. Loaders' batches, which run as tasks of their
    /// own, enter the session too.
    async fn one(&self, request: &HttpRequest, mut gql_request: async_graphql::Request) -> Outcome {
        let credential = bearer(request);
        let session = credential
            .as_ref()
            .ok()
            .and_then(|credential| *credential)
            .filter(|_| only_reads(&mut gql_request))
            .and_then(|token| self.services.auth.claimed_tenant(token))
            .and_then(|tenant_id| self.store.read_session(tenant_id));
        let call = Call {
            request,
            schema: &self.schema,
            services: &self.services,
            throttles: &self.throttles,
            spawner: match &session {
                Some(session) => spawn_in(session.clone()),
                None => spawn_plainly(),
            },
        };
        let work = async {
            let authentication = match credential {
                Ok(credential) => call.authenticate(credential).await,
                Err(err) => Authentication::Rejected(err),
            };
            call.run(gql_request, authentication).await
        };
        match session {
            Some(session) => {
                let outcome = session.scope(work).await;
                session.finish().await;
                outcome
            }
            None => work.await,
        }
    }
}

/// Starts loaders' batches inside the request's read session.
fn spawn_in(session: Arc<ReadSession>) -> TaskSpawner {
    Arc::new(move |task| {
        let session = session.clone();
        tokio::spawn(async move { session.scope(task).await });
    })
}

/// What became of one GraphQL request.
enum Outcome {
    /// The schema answered it (executed, or refused as a request error).
    Answered(Response),
    /// Over the caller's rate limit: not executed; retry after so many seconds.
    Throttled(Response, u64),
}

impl Outcome {
    /// The HTTP answer to a request made alone.
    fn render(self, answer: AnswerType) -> HttpResponse {
        match self {
            Self::Answered(response) => {
                let status = match answer {
                    AnswerType::GraphqlResponse if is_request_error(&response) => {
                        StatusCode::BAD_REQUEST
                    }
                    _ => StatusCode::OK,
                };
                graphql_answer(&response, status, answer)
            }
            Self::Throttled(response, retry_after) => {
                let mut http = graphql_answer(&response, StatusCode::TOO_MANY_REQUESTS, answer);
                set_retry_after(&mut http, retry_after);
                http
            }
        }
    }
}

/// A batch's answer: 200 and an array of the requests' answers in their order, whatever
/// became of each (a request over the rate limit is answered `RATE_LIMITED`, and the
/// longest wait is in `Retry-After`).
fn render_batch(outcomes: Vec<Outcome>, answer: AnswerType) -> HttpResponse {
    let mut retry_after = None::<u64>;
    let mut items = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let response = match outcome {
            Outcome::Answered(response) => response,
            Outcome::Throttled(response, wait) => {
                retry_after = Some(retry_after.map_or(wait, |longest| longest.max(wait)));
                response
            }
        };
        match answer_body(&response) {
            Ok(item) => items.push(item),
            Err(err) => return unserialisable(&err),
        }
    }
    let mut body = Vec::with_capacity(items.iter().map(|item| item.len() + 1).sum::<usize>() + 1);
    body.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.push(b']');
    let mut http = HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, answer.content_type()))
        .body(body);
    if let Some(wait) = retry_after {
        set_retry_after(&mut http, wait);
    }
    http
}

fn set_retry_after(response: &mut HttpResponse, seconds: u64) {
    if let Ok(value) = seconds.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// Whether `response` refuses the request before its execution began (GraphQL's "request
/// error": its document does not parse or validate, its variables do not coerce, it names no
/// operation the document has): no data, and errors that no field raised. An error a field
/// raised has a `path`; a null `data` from a failed non-null field is an executed answer.
fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// What executing one request needs.
struct Call<'a> {
    request: &'a HttpRequest,
    schema: &'a AppSchema,
    services: &'a Services,
    throttles: &'a RequestThrottles,
    spawner: TaskSpawner,
}

impl Call<'_> {
    async fn authenticate(&self, credential: Option<&str>) -> Authentication {
        let Some(token) = credential else {
            return Authentication::Anonymous;
        };
        match self.services.auth.authenticate(token).await {
            Ok(principal) => Authentication::Authenticated(principal),
            Err(err) => {
                if let DomainError::Internal(source) = &err {
                    tracing::error!(error = %source, "authentication failed on our side");
                }
                Authentication::Rejected(err)
            }
        }
    }

    async fn run(
        &self,
        gql_request: async_graphql::Request,
        authentication: Authentication,
    ) -> Outcome {
        let principal = match &authentication {
            Authentication::Authenticated(p) => Some(p),
            _ => None,
        };
        let tenant_id = principal.and_then(|p| p.tenant).map(|t| t.tenant_id);
        let client = client_ip(self.request);
        if let Err(wait) = self.throttles.admit(principal, client) {
            let retry_after = retry_after_secs(wait);
            let refusal = refusal_response(&DomainError::RateLimited {
                retry_after_secs: retry_after,
            });
            return Outcome::Throttled(refusal, retry_after);
        }
        let tenant = tenant_id.map(|t| t.to_string());
        let span = tracing::info_span!(
            "graphql",
            operation = gql_request.operation_name.as_deref().unwrap_or(""),
            tenant_id = tenant.as_deref().unwrap_or(""),
        );
        let response = self
            .schema
            .execute(prepare_request(
                gql_request,
                self.services,
                authentication,
                client.map(ClientAddress),
                &self.spawner,
            ))
            .instrument(span)
            .await;
        Outcome::Answered(tag_uncoded_errors(response))
    }
}

/// Whether the request runs a query (not a mutation or subscription). The document parsed
/// here stays on the request, so the executor does not parse it again; a request that does not
/// parse is left to the executor, which explains what is wrong with it.
fn only_reads(request: &mut async_graphql::Request) -> bool {
    operation_type(request) == Some(OperationType::Query)
}

/// The GraphiQL page.
fn graphiql_response() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(graphiql_page())
}

/// GraphiQL's page, loading its scripts and styles from this service rather than a CDN (so it
/// works on closed networks), with subscriptions over `/graphql/ws`.
fn graphiql_page() -> String {
    let mut page = GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .title("refhub GraphiQL")
        .finish();
    for (cdn, local) in [
        (
            "https://unpkg.com/react@18/umd/react.development.js",
            "/graphiql/react.production.min.js",
        ),
        (
            "https://unpkg.com/react-dom@18/umd/react-dom.development.js",
            "/graphiql/react-dom.production.min.js",
        ),
        (
            "https://unpkg.com/graphiql@4/graphiql.min.css",
            "/graphiql/graphiql.min.css",
        ),
        (
            "https://unpkg.com/graphiql@4/graphiql.min.js",
            "/graphiql/graphiql.min.js",
        ),
        ("https://graphql.org/favicon.ico", "data:,"),
    ] {
        page = page.replace(cdn, local);
    }
    page
}

/// GraphiQL's own files (see `api/assets/graphiql/README.md`).
pub async fn graphiql_asset(
    file: web::Path<String>,
    enabled: web::Data<GraphiqlEnabled>,
) -> HttpResponse {
    let asset: Option<(&'static [u8], &str)> = match file.as_str() {
        "react.production.min.js" => Some((
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            "text/javascript; charset=utf-8",
        )),
        "react-dom.production.min.js" => Some((
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            "text/javascript; charset=utf-8",
        )),
        "graphiql.min.js" => Some((
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
            "text/javascript; charset=utf-8",
        )),
        "graphiql.min.css" => Some((
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            "text/css; charset=utf-8",
        )),
        _ => None,
    };
    match asset {
        Some((body, content_type)) if enabled.0 => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(body),
        _ => HttpResponse::NotFound().finish(),
    }
}

/// Whether the body is declared JSON (`application/json`, with or without parameters).
///
/// Browsers send `text/plain` and form bodies to other sites without asking first (no CORS
/// preflight); read as GraphQL, they would let any page make its visitors' browsers call the
/// mutations that need no token (`logIn` into an attacker's account, or spending a visitor's
/// sign-in allowance). A JSON body needs a preflight, which only the origins in
/// `CORS_ALLOWED_ORIGINS` are granted.
fn is_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn refused_media_type(answer: AnswerType) -> HttpResponse {
    refused(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        answer,
        "send the request as JSON, with Content-Type: application/json",
        Some("Content-Type"),
    )
}

/// `Accept` names nothing this endpoint writes.
fn not_acceptable() -> HttpResponse {
    let mut response = refused(
        StatusCode::NOT_ACCEPTABLE,
        AnswerType::Json,
        &format!(
            "this endpoint answers {GRAPHQL_RESPONSE_JSON} or application/json: accept one of \
             them (or */*)"
        ),
        Some("Accept"),
    );
    response
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    response
}

fn bad_request(answer: AnswerType, message: &str) -> HttpResponse {
    refused(StatusCode::BAD_REQUEST, answer, message, None)
}

/// A request refused before it reached the schema, answered as GraphQL errors are.
fn refused(
    status: StatusCode,
    answer: AnswerType,
    message: &str,
    field: Option<&str>,
) -> HttpResponse {
    let mut error = ServerError::new(message, None);
    error.extensions = async_graphql::Error::new(message)
        .extend_with(|_, ext| {
            ext.set("code", "VALIDATION");
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
        .extensions;
    graphql_answer(&Response::from_errors(vec![error]), status, answer)
}

/// `response` as the client asked for it, with `status`.
fn graphql_answer(response: &Response, status: StatusCode, answer: AnswerType) -> HttpResponse {
    match answer_body(response) {
        Ok(body) => HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, answer.content_type()))
            .body(body),
        Err(err) => unserialisable(&err),
    }
}

/// `response` as JSON; without `data` for a request error (GraphQL, "Response Format": an
/// error raised before execution began leaves no `data` entry).
fn answer_body(response: &Response) -> serde_json::Result<Vec<u8>> {
    if !is_request_error(response) {
        return serde_json::to_vec(response);
    }
    let mut body = serde_json::to_value(response)?;
    if let Some(object) = body.as_object_mut() {
        object.remove("data");
    }
    serde_json::to_vec(&body)
}

fn unserialisable(err: &serde_json::Error) -> HttpResponse {
    tracing::error!(error = %err, "could not serialise a GraphQL response");
    HttpResponse::InternalServerError().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graphiql_page_loads_nothing_from_elsewhere() {
        let page = graphiql_page();
        assert!(!page.contains("https://"), "{page}");
        assert!(page.contains("/graphiql/graphiql.min.js"));
        assert!(page.contains("/graphql/ws"));
    }
}
