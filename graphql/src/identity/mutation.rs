use async_graphql::{Context, ID, Object, Result};
use refhub_domain::identity::{LogOutScope, TenantStatus as DomainTenantStatus};
use refhub_domain::ids::{ApiKeyId, InvitationId, TenantId, UserId};

use super::inputs::{
    AcceptInvitationInput, CreateApiKeyInput, DeclineInvitationInput, InviteMemberInput,
    LogInInput, LogOutInput, ReactivateTenantInput, RefreshTokenInput, RemoveMemberInput,
    RevokeApiKeyInput, RevokeInvitationInput, SignUpInput, SuspendTenantInput, SwitchTenantInput,
    UpdateMemberRoleInput,
};
use super::types::{
    ApiKey, AuthPayload, CreateApiKeyPayload, Invitation, LogOutPayload, Membership, Tenant,
};
use crate::auth_context::{principal, services, throttle_sign_in};
use crate::error::IntoGraphql;
use crate::ids::{parse_id, to_id};

/// Mutations about identity and workspaces.
#[derive(Default)]
pub(crate) struct IdentityMutation;

/// Mutations about identity and workspaces.
#[Object]
impl IdentityMutation {
    /// Creates a workspace and its owner's account, and signs the owner in.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `SignUpInput`.")] input: SignUpInput,
    ) -> Result<AuthPayload> {
        throttle_sign_in(ctx).gql()?;
        services(ctx)
            .auth
            .sign_up(&input.email, input.password, &input.tenant_name)
            .await
            .map(AuthPayload::from)
            .gql()
    }

    /// Signs in with e-mail and password.
    async fn log_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `LogInInput`.")] input: LogInInput,
    ) -> Result<AuthPayload> {
        throttle_sign_in(ctx).gql()?;
        let tenant_id = input
            .tenant_id
            .as_ref()
            .map(|id| parse_id::<TenantId>(id, "tenantId"))
            .transpose()
            .gql()?;
        services(ctx)
            .auth
            .log_in(&input.email, input.password, tenant_id)
            .await
            .map(AuthPayload::from)
            .gql()
    }

    /// Exchanges a refresh token for a new access and refresh token. Each refresh token works
    /// once: presenting a used one again ends the whole session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RefreshTokenInput`.")] input: RefreshTokenInput,
    ) -> Result<AuthPayload> {
        throttle_sign_in(ctx).gql()?;
        services(ctx)
            .auth
            .refresh(&input.refresh_token)
            .await
            .map(AuthPayload::from)
            .gql()
    }

    /// Ends sessions: the current one by default.
    async fn log_out(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `LogOutInput`; optional.")] input: Option<LogOutInput>,
    ) -> Result<LogOutPayload> {
        let principal = principal(ctx).gql()?;
        let input = input.unwrap_or_default();
        let scope = match (input.everywhere.unwrap_or(false), input.refresh_token) {
            (true, _) => LogOutScope::Everywhere,
            (false, Some(token)) => LogOutScope::RefreshToken(token),
            (false, None) => LogOutScope::Current,
        };
        let revoked = services(ctx).auth.log_out(principal, scope).await.gql()?;
        Ok(LogOutPayload {
            revoked_sessions: i64::try_from(revoked).unwrap_or(i64::MAX),
        })
    }

    /// Starts a session in another workspace you belong to.
    async fn switch_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `SwitchTenantInput`.")] input: SwitchTenantInput,
    ) -> Result<AuthPayload> {
        let principal = principal(ctx).gql()?;
        let tenant_id = parse_id::<TenantId>(&input.tenant_id, "tenantId").gql()?;
        services(ctx)
            .auth
            .switch_tenant(principal, tenant_id)
            .await
            .map(AuthPayload::from)
            .gql()
    }

    /// Invites a person into the workspace by e-mail (owners and admins; only owners offer
    /// `OWNER`). Answered alike whether or not an account uses the address; inviting a pending
    /// address again refreshes its invitation and sends a new link.
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `InviteMemberInput`.")] input: InviteMemberInput,
    ) -> Result<Invitation> {
        let principal = principal(ctx).gql()?;
        let services = services(ctx);
        let invitation = services
            .invitations
            .invite(principal, &input.email, input.role.into())
            .await
            .gql()?;
        Ok(Invitation::at(invitation, services.clock.now()))
    }

    /// Accepts an invitation: signed in with the address it was sent to, you become a member
    /// of its workspace with its role (then `switchTenant` to act there).
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `AcceptInvitationInput`.")] input: AcceptInvitationInput,
    ) -> Result<Invitation> {
        let principal = principal(ctx).gql()?;
        let services = services(ctx);
        let invitation = services
            .invitations
            .accept(principal, &input.token)
            .await
            .gql()?;
        Ok(Invitation::at(invitation, services.clock.now()))
    }

    /// Declines an invitation. The token is enough: no account is needed to say no.
    async fn decline_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DeclineInvitationInput`.")] input: DeclineInvitationInput,
    ) -> Result<Invitation> {
        let services = services(ctx);
        let invitation = services.invitations.decline(&input.token).await.gql()?;
        Ok(Invitation::at(invitation, services.clock.now()))
    }

    /// Revokes a pending invitation of the workspace (owners and admins); its link stops
    /// working.
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RevokeInvitationInput`.")] input: RevokeInvitationInput,
    ) -> Result<Invitation> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<InvitationId>(&input.id, "id").gql()?;
        let services = services(ctx);
        let invitation = services.invitations.revoke(principal, id).await.gql()?;
        Ok(Invitation::at(invitation, services.clock.now()))
    }

    /// Changes a member's role (owners and admins; only owners touch ownership).
    async fn update_member_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `UpdateMemberRoleInput`.")] input: UpdateMemberRoleInput,
    ) -> Result<Membership> {
        let principal = principal(ctx).gql()?;
        let user_id = parse_id::<UserId>(&input.user_id, "userId").gql()?;
        services(ctx)
            .members
            .change_role(principal, user_id, input.role.into())
            .await
            .map(Membership::from)
            .gql()
    }

    /// Removes a member, or leaves the workspace when given your own id. Returns the user id.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RemoveMemberInput`.")] input: RemoveMemberInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let user_id = parse_id::<UserId>(&input.user_id, "userId").gql()?;
        services(ctx)
            .members
            .remove(principal, user_id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Creates an API key; its secret is in the answer and nowhere else, ever.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CreateApiKeyInput`.")] input: CreateApiKeyInput,
    ) -> Result<CreateApiKeyPayload> {
        let principal = principal(ctx).gql()?;
        let created = services(ctx)
            .api_keys
            .create(principal, &input.name, input.role.into())
            .await
            .gql()?;
        Ok(CreateApiKeyPayload {
            api_key: created.key.into(),
            secret: created.secret.0,
        })
    }

    /// Revokes an API key at once.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RevokeApiKeyInput`.")] input: RevokeApiKeyInput,
    ) -> Result<ApiKey> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<ApiKeyId>(&input.id, "id").gql()?;
        services(ctx)
            .api_keys
            .revoke(principal, id)
            .await
            .map(ApiKey::from)
            .gql()
    }

    /// Suspends a workspace: its members' and keys' requests are refused (operators only).
    async fn suspend_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `SuspendTenantInput`.")] input: SuspendTenantInput,
    ) -> Result<Tenant> {
        set_status(ctx, &input.tenant_id, DomainTenantStatus::Suspended).await
    }

    /// Reactivates a suspended workspace (operators only).
    async fn reactivate_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `ReactivateTenantInput`.")] input: ReactivateTenantInput,
    ) -> Result<Tenant> {
        set_status(ctx, &input.tenant_id, DomainTenantStatus::Active).await
    }
}

async fn set_status(
    ctx: &Context<'_>,
    tenant_id: &ID,
    status: DomainTenantStatus,
) -> Result<Tenant> {
    let principal = principal(ctx).gql()?;
    let tenant_id = parse_id::<TenantId>(tenant_id, "tenantId").gql()?;
    services(ctx)
        .operators
        .set_tenant_status(principal, tenant_id, status)
        .await
        .map(Tenant::from)
        .gql()
}
