//! Inviting people into a workspace, and their answer.
//!
//! The inviter learns nothing about accounts: an invitation to an address with an account and
//! one without are answered alike, and the only thing that happens at once is an e-mail to the
//! address. Membership needs the invitee's own act: signed in with the invited address, they
//! accept with the token the e-mail carried.

use std::sync::Arc;

use chrono::Duration;

use crate::clock::Clock;
use crate::error::{DomainError, DomainResult, ForbiddenReason};
use crate::identity::email::Email;
use crate::identity::invitation::{
    Invitation, InvitationDetails, InvitationState, invitation_link, invitation_mail,
};
use crate::identity::member_service::require_owner_for;
use crate::identity::membership::Membership;
use crate::identity::ports::{
    InvitationRepository, InvitationThrottle, MembershipRepository, SecretGenerator, UserRepository,
};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::ids::InvitationId;
use crate::mail::Mailer;
use crate::pagination::{Page, PageRequest};

/// Most invitations a workspace may have waiting (pending and unexpired) at once: the table
/// and the mail sent stay bounded however the rate limit is set.
pub const MAX_PENDING_INVITATIONS: u64 = 100;

const NO_SUCH_INVITATION: &str = "invitation";

/// How invitations are made.
#[derive(Debug, Clone)]
pub struct InvitationSettings {
    /// How long an invitation's link works.
    pub ttl: Duration,
    /// The address the world reaches the service at; links are built on it.
    pub public_base_url: String,
}

/// Everything [`InvitationService`] is built from.
pub struct InvitationPorts {
    /// Invitations.
    pub invitations: Arc<dyn InvitationRepository>,
    /// Users (the invitee's address).
    pub users: Arc<dyn UserRepository>,
    /// Memberships (who already belongs).
    pub memberships: Arc<dyn MembershipRepository>,
    /// Tokens and their fingerprints.
    pub secrets: Arc<dyn SecretGenerator>,
    /// Delivers the invitation e-mails.
    pub mailer: Arc<dyn Mailer>,
    /// Limits the e-mails one workspace sends.
    pub throttle: Arc<dyn InvitationThrottle>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The invitation use cases.
pub struct InvitationService {
    ports: InvitationPorts,
    settings: InvitationSettings,
}

impl InvitationService {
    /// Builds the service.
    pub fn new(ports: InvitationPorts, settings: InvitationSettings) -> Self {
        Self { ports, settings }
    }

    /// Invites `email` into the caller's workspace with `role` and mails them the link.
    /// Owners and admins only; only owners offer ownership. The answer is the same whether or
    /// not an account uses the address; inviting a pending address again refreshes its
    /// invitation (new link, new expiry, the role given now).
    pub async fn invite(
        &self,
        principal: &Principal,
        email: &str,
        role: Role,
    ) -> DomainResult<InvitationDetails> {
        let access = principal.require_role(Role::Admin)?;
        require_owner_for(principal, role)?;
        let email = Email::parse(email)?;
        // Admins see the member list: saying someone is in it already tells them nothing new.
        if self
            .ports
            .memberships
            .has_member_with_email(access.tenant_id, &email)
            .await?
        {
            return Err(DomainError::conflict(
                "email",
                "already a member of this workspace",
            ));
        }
        let now = self.ports.clock.now();
        if self
            .ports
            .invitations
            .count_pending(access.tenant_id, &email, now)
            .await?
            >= MAX_PENDING_INVITATIONS
        {
            return Err(DomainError::conflict(
                "email",
                format!(
                    "this workspace has {MAX_PENDING_INVITATIONS} invitations waiting for an answer; revoke some first"
                ),
            ));
        }
        self.ports
            .throttle
            .check(access.tenant_id)
            .map_err(|retry_after_secs| DomainError::RateLimited { retry_after_secs })?;
        let token = self.ports.secrets.random_token();
        let invitation = Invitation {
            id: InvitationId::generate(),
            tenant_id: access.tenant_id,
            email,
            role,
            token_fingerprint: self.ports.secrets.fingerprint(&token),
            invited_by: principal.user_id(),
            state: InvitationState::Pending,
            created_at: now,
            expires_at: now + self.settings.ttl,
            responded_at: None,
        };
        let stored = self.ports.invitations.save_pending(&invitation).await?;
        let link = invitation_link(&self.settings.public_base_url, &token);
        self.ports.mailer.send(invitation_mail(&stored, &link));
        tracing::info!(
            tenant_id = %access.tenant_id,
            invitation_id = %stored.invitation.id,
            %role,
            "invitation sent"
        );
        Ok(stored)
    }

    /// Accepts the invitation `token` belongs to: the caller, signed in with the address it
    /// was sent to, becomes a member with the role it offers.
    pub async fn accept(
        &self,
        principal: &Principal,
        token: &str,
    ) -> DomainResult<InvitationDetails> {
        let (user_id, _) = principal.require_user()?;
        let user = self
            .ports
            .users
            .find(user_id)
            .await?
            .ok_or(DomainError::Unauthenticated("sign in first"))?;
        let mut details = self.answerable(token).await?;
        let invitation = &details.invitation;
        if invitation.email != user.email {
            return Err(DomainError::Forbidden(
                ForbiddenReason::InvitationForAnotherEmail,
            ));
        }
        let now = self.ports.clock.now();
        let membership = Membership::new(invitation.tenant_id, user.id, invitation.role, now);
        if !self
            .ports
            .invitations
            .accept(invitation, &membership, now)
            .await?
        {
            // Answered between the read and the write: say what became of it.
            return Err(self
                .answerable(token)
                .await
                .err()
                .unwrap_or_else(|| DomainError::conflict("token", "answered meanwhile")));
        }
        tracing::info!(
            tenant_id = %invitation.tenant_id,
            invitation_id = %invitation.id,
            %user_id,
            role = %invitation.role,
            "invitation accepted"
        );
        details.invitation.state = InvitationState::Accepted;
        details.invitation.responded_at = Some(now);
        Ok(details)
    }

    /// Declines the invitation `token` belongs to. Holding the token (the e-mail) is enough:
    /// the recipient may have no account and no wish to make one.
    pub async fn decline(&self, token: &str) -> DomainResult<InvitationDetails> {
        let details = self.answerable(token).await?;
        let invitation = &details.invitation;
        let closed = self
            .close(invitation, InvitationState::Declined, "token")
            .await?;
        tracing::info!(
            tenant_id = %invitation.tenant_id,
            invitation_id = %invitation.id,
            "invitation declined"
        );
        Ok(closed)
    }

    /// Revokes a pending invitation of the caller's workspace (owners and admins); its link
    /// stops working. Revoking it again changes nothing.
    pub async fn revoke(
        &self,
        principal: &Principal,
        id: InvitationId,
    ) -> DomainResult<InvitationDetails> {
        let access = principal.require_role(Role::Admin)?;
        let now = self.ports.clock.now();
        let details = self
            .ports
            .invitations
            .close(access.tenant_id, id, InvitationState::Revoked, now)
            .await?
            .ok_or(DomainError::not_found_in(NO_SUCH_INVITATION, "id"))?;
        if details.invitation.state != InvitationState::Revoked {
            details.invitation.require_answerable(now, "id")?;
        }
        tracing::info!(tenant_id = %access.tenant_id, invitation_id = %id, "invitation revoked");
        Ok(details)
    }

    /// The caller's workspace's invitations, whatever became of them (owners and admins).
    pub async fn list(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> DomainResult<Page<InvitationDetails>> {
        let access = principal.require_role(Role::Admin)?;
        self.ports.invitations.list(access.tenant_id, page).await
    }

    /// The invitations waiting for the caller's answer, from every workspace: a person who
    /// belongs to no workspace yet sees them too.
    pub async fn mine(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> DomainResult<Page<InvitationDetails>> {
        let (user_id, _) = principal.require_user()?;
        let user = self
            .ports
            .users
            .find(user_id)
            .await?
            .ok_or(DomainError::Unauthenticated("sign in first"))?;
        self.ports
            .invitations
            .list_pending_for_email(&user.email, self.ports.clock.now(), page)
            .await
    }

    /// The invitation `token` belongs to, if it can still be answered.
    async fn answerable(&self, token: &str) -> DomainResult<InvitationDetails> {
        let fingerprint = self.ports.secrets.fingerprint(token.trim());
        let details = self
            .ports
            .invitations
            .find_by_token(&fingerprint)
            .await?
            .ok_or(DomainError::not_found_in(NO_SUCH_INVITATION, "token"))?;
        details
            .invitation
            .require_answerable(self.ports.clock.now(), "token")?;
        Ok(details)
    }

    /// Closes a pending invitation as `state`, or says what became of it instead.
    async fn close(
        &self,
        invitation: &Invitation,
        state: InvitationState,
        field: &str,
    ) -> DomainResult<InvitationDetails> {
        let now = self.ports.clock.now();
        let details = self
            .ports
            .invitations
            .close(invitation.tenant_id, invitation.id, state, now)
            .await?
            .ok_or(DomainError::not_found_in(NO_SUCH_INVITATION, field))?;
        if details.invitation.state != state {
            details.invitation.require_answerable(now, field)?;
        }
        Ok(details)
    }
}
