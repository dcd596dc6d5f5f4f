//! Reading `Authorization: Bearer <token>` and resolving it into the caller, for every route.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use refhub_domain::identity::{AuthService, Principal, SIGNED_LINK_PARAMETER};
use refhub_domain::{DomainError, DomainResult};

use super::client_address::client_ip;
use super::throttles::RequestThrottles;
use crate::security::retry_after_secs;

/// The bearer credential, if any. Another scheme is refused rather than ignored.
pub fn bearer(request: &HttpRequest) -> DomainResult<Option<&str>> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let refused =
        || DomainError::Unauthenticated("the Authorization header must be `Bearer <token>`");
    let value = value.to_str().map_err(|_| refused())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(refused)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(refused());
    }
    Ok(Some(token.trim()))
}

/// The caller of a route that needs one, within their workspace's request allowance (the one
/// `/graphql` takes from, so REST routes are no way around it).
pub async fn require_principal(
    auth: &AuthService,
    request: &HttpRequest,
) -> DomainResult<Principal> {
    let principal = match bearer(request)? {
        Some(token) => auth.authenticate(token).await?,
        None => {
            return Err(DomainError::Unauthenticated(
                "sign in first: send Authorization: Bearer <access token or API key>",
            ));
        }
    };
    within_allowance(principal, request)
}

/// Like [`require_principal`], for the routes a browser opens by URL (`<img src>`,
/// `<a download>`): a signed link to this very path (`?link=…`, from the GraphQL fields that
/// hand them out) stands for the member who asked for it.
pub async fn require_principal_or_link(
    auth: &AuthService,
    request: &HttpRequest,
) -> DomainResult<Principal> {
    let link = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .ok()
        .and_then(|query| {
            query
                .0
                .into_iter()
                .find(|(name, _)| name == SIGNED_LINK_PARAMETER)
                .map(|(_, value)| value)
        });
    match link {
        Some(token) if bearer(request)?.is_none() => {
            let principal = auth.authenticate_link(request.path(), &token).await?;
            within_allowance(principal, request)
        }
        _ => require_principal(auth, request).await,
    }
}

fn within_allowance(principal: Principal, request: &HttpRequest) -> DomainResult<Principal> {
    if let Some(throttles) = request.app_data::<web::Data<RequestThrottles>>() {
        throttles
            .admit(Some(&principal), client_ip(request))
            .map_err(|wait| DomainError::RateLimited {
                retry_after_secs: retry_after_secs(wait),
            })?;
    }
    Ok(principal)
}
