//! Input types of the identity API: one per mutation, named after it.

use async_graphql::{ID, InputObject};

use super::types::Role;

/// Creates a workspace and its owner.
#[derive(InputObject)]
pub(crate) struct SignUpInput {
    /// The owner's sign-in address.
    pub email: String,
    /// At least 10 characters, and not easy to guess.
    pub password: String,
    /// The new workspace's name.
    pub tenant_name: String,
}

/// Signs in.
#[derive(InputObject)]
pub(crate) struct LogInInput {
    /// The sign-in address.
    pub email: String,
    /// The password.
    pub password: String,
    /// The workspace to act in; by default the first active one.
    pub tenant_id: Option<ID>,
}

/// Exchanges a refresh token for a new pair.
#[derive(InputObject)]
pub(crate) struct RefreshTokenInput {
    /// The refresh token from the last `AuthPayload`.
    pub refresh_token: String,
}

/// Ends sessions. With neither field, ends the session of the access token used.
#[derive(InputObject, Default)]
pub(crate) struct LogOutInput {
    /// End the session this refresh token belongs to instead.
    pub refresh_token: Option<String>,
    /// End every session of the user, on every device.
    pub everywhere: Option<bool>,
}

/// Moves to another workspace the user belongs to.
#[derive(InputObject)]
pub(crate) struct SwitchTenantInput {
    /// The workspace.
    pub tenant_id: ID,
}

/// Invites a person into the current workspace by e-mail.
#[derive(InputObject)]
pub(crate) struct InviteMemberInput {
    /// The address to send the invitation to; whoever signs in with it may accept.
    pub email: String,
    /// The role they get on accepting (only owners offer `OWNER`).
    pub role: Role,
}

/// Accepts an invitation.
#[derive(InputObject)]
pub(crate) struct AcceptInvitationInput {
    /// The token from the invitation e-mail's link (after `#token=`).
    pub token: String,
}

/// Declines an invitation.
#[derive(InputObject)]
pub(crate) struct DeclineInvitationInput {
    /// The token from the invitation e-mail's link (after `#token=`).
    pub token: String,
}

/// Revokes an invitation of the current workspace.
#[derive(InputObject)]
pub(crate) struct RevokeInvitationInput {
    /// The invitation's id.
    pub id: ID,
}

/// Changes a member's role.
#[derive(InputObject)]
pub(crate) struct UpdateMemberRoleInput {
    /// The member's user id.
    pub user_id: ID,
    /// The new role.
    pub role: Role,
}

/// Removes a member (or, with your own id, leaves the workspace).
#[derive(InputObject)]
pub(crate) struct RemoveMemberInput {
    /// The member's user id.
    pub user_id: ID,
}

/// Creates an API key.
#[derive(InputObject)]
pub(crate) struct CreateApiKeyInput {
    /// A name to recognise it by.
    pub name: String,
    /// What it may do; at most your own role.
    pub role: Role,
}

/// Revokes an API key.
#[derive(InputObject)]
pub(crate) struct RevokeApiKeyInput {
    /// The key's id.
    pub id: ID,
}

/// Suspends a workspace (operators only).
#[derive(InputObject)]
pub(crate) struct SuspendTenantInput {
    /// The workspace.
    pub tenant_id: ID,
}

/// Reactivates a suspended workspace (operators only).
#[derive(InputObject)]
pub(crate) struct ReactivateTenantInput {
    /// The workspace.
    pub tenant_id: ID,
}
