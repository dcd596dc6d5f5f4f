//! Reading `Authorization: Bearer <token>` and resolving it into the caller, for every route.

use actix_web::HttpRequest;
use actix_web::http::header;
use refhub_domain::identity::{AuthService, Principal};
use refhub_domain::{DomainError, DomainResult};

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

/// The caller of a route that needs one.
pub async fn require_principal(
    auth: &AuthService,
    request: &HttpRequest,
) -> DomainResult<Principal> {
    match bearer(request)? {
        Some(token) => auth.authenticate(token).await,
        None => Err(DomainError::Unauthenticated(
            "sign in first: send Authorization: Bearer <access token or API key>",
        )),
    }
}
