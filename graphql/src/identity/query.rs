use async_graphql::{Context, Object, Result};
use refhub_domain::identity::Actor;

use super::types::{
    ApiKey, Invitation, Me, Membership, MyMembership, PrincipalKind, Tenant, TenantStatus,
};
use crate::auth_context::{principal, services};
use crate::connection::{ListConnection, from_page, page_request};
use crate::error::IntoGraphql;
use crate::ids::to_id;

/// Queries about identity and workspaces.
#[derive(Default)]
pub(crate) struct IdentityQuery;

/// Queries about identity and workspaces.
#[Object]
impl IdentityQuery {
    /// The caller: account, current workspace and role, and the workspaces to switch to.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let principal = principal(ctx).gql()?;
        let services = services(ctx);
        let current = match principal.tenant {
            Some(access) => Some((
                Tenant::from(services.auth.current_tenant(principal).await.gql()?),
                access.role.into(),
            )),
            None => None,
        };
        let (tenant, role) = current.unzip();
        match principal.actor {
            Actor::User { .. } => {
                let (user, memberships) = services.auth.me(principal).await.gql()?;
                Ok(Me {
                    id: to_id(user.id.0),
                    kind: PrincipalKind::User,
                    email: Some(user.email.as_str().to_owned()),
                    is_operator: user.is_operator,
                    tenant,
                    role,
                    memberships: memberships.into_iter().map(MyMembership::from).collect(),
                })
            }
            Actor::ApiKey { key_id } => Ok(Me {
                id: to_id(key_id.0),
                kind: PrincipalKind::ApiKey,
                email: None,
                is_operator: false,
                tenant,
                role,
                memberships: Vec::new(),
            }),
        }
    }

    /// The current workspace.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .auth
            .current_tenant(principal)
            .await
            .map(Tenant::from)
            .gql()
    }

    /// Members of the current workspace, oldest first.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Membership>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let members = services(ctx).members.list(principal, page).await.gql()?;
        Ok(from_page(
            members,
            had_cursor,
            |m| m.membership.id.0,
            Membership::from,
        ))
    }

    /// Invitations of the current workspace, oldest first, whatever became of them (owners and
    /// admins only).
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Invitation>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let services = services(ctx);
        let invitations = services.invitations.list(principal, page).await.gql()?;
        Ok(invitation_connection(ctx, invitations, had_cursor))
    }

    /// Invitations waiting for your answer, from every workspace, oldest first: those sent to
    /// the address you sign in with, pending and unexpired. Needs no current workspace.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn my_invitations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Invitation>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let services = services(ctx);
        let invitations = services.invitations.mine(principal, page).await.gql()?;
        Ok(invitation_connection(ctx, invitations, had_cursor))
    }

    /// API keys of the current workspace, oldest first, revoked ones included (owners and
    /// admins only).
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<ApiKey>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let keys = services(ctx).api_keys.list(principal, page).await.gql()?;
        Ok(from_page(keys, had_cursor, |k| k.id.0, ApiKey::from))
    }

    /// Every workspace on the platform, oldest first (platform operators only).
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only workspaces with this status.")] status: Option<TenantStatus>,
    ) -> Result<ListConnection<Tenant>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let tenants = services(ctx)
            .operators
            .list_tenants(principal, status.map(Into::into), page)
            .await
            .gql()?;
        Ok(from_page(tenants, had_cursor, |t| t.id.0, Tenant::from))
    }
}

/// A page of invitations as a connection, each shown as it stands now (expired or not).
fn invitation_connection(
    ctx: &Context<'_>,
    invitations: refhub_domain::pagination::Page<refhub_domain::identity::InvitationDetails>,
    had_cursor: bool,
) -> ListConnection<Invitation> {
    let now = services(ctx).clock.now();
    from_page(
        invitations,
        had_cursor,
        |i| i.invitation.id.0,
        |i| Invitation::at(i, now),
    )
}
