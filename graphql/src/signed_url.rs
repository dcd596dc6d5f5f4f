//! Signed URLs for the REST routes a browser opens by address (`<img src>`, `<a download>`),
//! where it cannot send an `Authorization` header.

use async_graphql::{Context, Result};

use crate::auth_context::{principal, services};
use crate::error::IntoGraphql;

/// `{public base URL}{path}?link=…`, opening `path` for the caller's session for
/// [`SIGNED_LINK_TTL`](refhub_domain::identity::SIGNED_LINK_TTL); `None` for an API key, which
/// has a header to send.
pub(crate) fn signed_url(ctx: &Context<'_>, path: &str) -> Result<Option<String>> {
    let principal = principal(ctx).gql()?;
    let services = services(ctx);
    let signed = services.auth.sign_link(principal, path).gql()?;
    Ok(signed.map(|(token, _)| {
        format!(
            "{}{path}?{}={token}",
            services.public_base_url.trim_end_matches('/'),
            refhub_domain::identity::SIGNED_LINK_PARAMETER
        )
    }))
}
