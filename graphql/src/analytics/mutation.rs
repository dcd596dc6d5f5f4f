use async_graphql::{Context, InputObject, Object, Result};

use crate::auth_context::{principal, services};
use crate::error::IntoGraphql;
use crate::identity::types::Tenant;

/// Sets the workspace's time zone.
#[derive(InputObject)]
pub(crate) struct SetTenantTimeZoneInput {
    /// An IANA time zone name, such as `Europe/Paris` or `UTC`.
    pub time_zone: String,
}

/// Workspace settings reports depend on.
#[derive(Default)]
pub(crate) struct AnalyticsMutation;

/// Workspace settings reports depend on.
#[Object]
impl AnalyticsMutation {
    /// Sets the time zone the workspace's reports count days in (owners and admins).
    async fn set_tenant_time_zone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `SetTenantTimeZoneInput`.")] input: SetTenantTimeZoneInput,
    ) -> Result<Tenant> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .auth
            .set_time_zone(principal, &input.time_zone)
            .await
            .map(Tenant::from)
            .gql()
    }
}
