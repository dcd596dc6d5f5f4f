//! Reading `Authorization: Bearer <token>` and resolving it into the caller, for every route.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use refhub_domain::identity::{AuthService, Principal};
use refhub_domain::{DomainError, DomainResult};

use super::client_address::client_ip;
use super::throttles::{Caller, RequestThrottles};
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
    let caller = match principal.tenant {
        Some(tenant) => Some(Caller::Tenant(tenant.tenant_id)),
        None => client_ip(request).map(Caller::address),
    };
    if let (Some(caller), Some(throttles)) =
        (caller, request.app_data::<web::Data<RequestThrottles>>())
    {
        throttles
            .graphql
            .check(&caller)
            .map_err(|wait| DomainError::RateLimited {
                retry_after_secs: retry_after_secs(wait),
            })?;
    }
    Ok(principal)
}
