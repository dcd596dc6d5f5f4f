//! `POST /graphql` executes a request; `GET /graphql` serves GraphiQL.
//!
//! The bearer credential is resolved here, once per request, into an [`Authentication`] that
//! resolvers read; bodies are read with a size cap and parsed here so that a malformed body
//! gets a GraphQL-shaped error with a code instead of a bare 400 text.

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
use super::throttles::RequestThrottles;
use crate::security::retry_after_secs;

/// Whether GraphiQL is served.
#[derive(Clone, Copy)]
pub struct GraphiqlEnabled(pub bool);

/// Executes one GraphQL request.
///
/// A read-only operation by a caller who names a workspace reads through one snapshot
/// transaction (see `ReadSession`), authentication included: the credential's lookups are
/// reads of that workspace like the others. Loaders' batches, which run as tasks of their own,
/// enter the session too.
pub async fn execute(
    request: HttpRequest,
    body: web::Bytes,
    schema: web::Data<AppSchema>,
    services: web::Data<Services>,
    throttles: web::Data<RequestThrottles>,
    store: web::Data<Store>,
) -> HttpResponse {
    if !is_json(&request) {
        return refused_media_type();
    }
    let mut gql_request = match serde_json::from_slice::<async_graphql::Request>(&body) {
        Ok(gql_request) => gql_request,
        Err(err) => return bad_request(&format!("the body is not a GraphQL request: {err}")),
    };
    let credential = bearer(&request);
    let session = credential
        .as_ref()
        .ok()
        .and_then(|credential| *credential)
        .filter(|_| only_reads(&mut gql_request))
        .and_then(|token| services.auth.claimed_tenant(token))
        .and_then(|tenant_id| store.read_session(tenant_id));
    let call = Call {
        request: &request,
        schema: &schema,
        services: &services,
        throttles: &throttles,
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
            let response = session.scope(work).await;
            session.finish().await;
            response
        }
        None => work.await,
    }
}

/// Starts loaders' batches inside the request's read session.
fn spawn_in(session: Arc<ReadSession>) -> TaskSpawner {
    Arc::new(move |task| {
        let session = session.clone();
        tokio::spawn(async move { session.scope(task).await });
    })
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
    ) -> HttpResponse {
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
            let mut response = json_with_status(&refusal, StatusCode::TOO_MANY_REQUESTS);
            if let Ok(value) = retry_after.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
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
        json_response(&tag_uncoded_errors(response))
    }
}

/// Whether the request runs a query (not a mutation or subscription). The document parsed
/// here stays on the request, so the executor does not parse it again; a request that does not
/// parse is left to the executor, which explains what is wrong with it.
fn only_reads(request: &mut async_graphql::Request) -> bool {
    operation_type(request) == Some(OperationType::Query)
}

/// Serves the GraphiQL page (when enabled).
pub async fn graphiql(enabled: web::Data<GraphiqlEnabled>) -> HttpResponse {
    if !enabled.0 {
        return HttpResponse::NotFound().finish();
    }
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

fn json_response(response: &Response) -> HttpResponse {
    json_with_status(response, actix_web::http::StatusCode::OK)
}

/// Whether the body is declared JSON (`application/json`, with or without parameters).
///
/// Browsers send `text/plain` and form bodies to other sites without asking first (no CORS
/// preflight); read as GraphQL, they would let any page make its visitors' browsers call the
/// mutations that need no token (`logIn` into an attacker's account, or spending a visitor's
/// sign-in allowance). A JSON body needs a preflight, which this service never grants.
fn is_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn refused_media_type() -> HttpResponse {
    refused(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "send the request as JSON, with Content-Type: application/json",
        Some("Content-Type"),
    )
}

fn bad_request(message: &str) -> HttpResponse {
    refused(StatusCode::BAD_REQUEST, message, None)
}

/// A request refused before it reached the schema, answered as GraphQL errors are.
fn refused(status: StatusCode, message: &str, field: Option<&str>) -> HttpResponse {
    let mut error = ServerError::new(message, None);
    error.extensions = async_graphql::Error::new(message)
        .extend_with(|_, ext| {
            ext.set("code", "VALIDATION");
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
        .extensions;
    json_with_status(&Response::from_errors(vec![error]), status)
}

fn json_with_status(response: &Response, status: actix_web::http::StatusCode) -> HttpResponse {
    match serde_json::to_vec(response) {
        Ok(body) => HttpResponse::build(status)
            .content_type(ContentType::json())
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "could not serialise a GraphQL response");
            HttpResponse::InternalServerError().finish()
        }
    }
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
