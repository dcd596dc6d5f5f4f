//! Invitations: how a person joins a workspace. An owner or admin invites an e-mail address;
//! the person who signs in with that address accepts (or declines) through the link mailed to
//! it. Nobody becomes a member without acting themselves.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult};
use crate::identity::email::Email;
use crate::identity::role::Role;
use crate::identity::tenant::Tenant;
use crate::ids::{InvitationId, TenantId, UserId};
use crate::mail::MailMessage;

/// Where the dashboard answers invitations, under `PUBLIC_BASE_URL`.
pub const INVITATION_PATH: &str = "/invitations/accept";

/// What became of an invitation, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// Waiting for an answer (until it expires).
    Pending,
    /// The invitee became a member.
    Accepted,
    /// The invitee said no.
    Declined,
    /// An owner or admin took it back.
    Revoked,
}

impl InvitationState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Declined => "declined",
            InvitationState::Revoked => "revoked",
        }
    }
}

impl fmt::Display for InvitationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvitationState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(InvitationState::Pending),
            "accepted" => Ok(InvitationState::Accepted),
            "declined" => Ok(InvitationState::Declined),
            "revoked" => Ok(InvitationState::Revoked),
            other => Err(format!("unknown invitation state {other:?}")),
        }
    }
}

/// What an invitation's status is at a given instant: its stored state, except that a pending
/// invitation past its expiry is expired (nothing needs to run to make it so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waiting for an answer.
    Pending,
    /// Accepted.
    Accepted,
    /// Declined.
    Declined,
    /// Revoked.
    Revoked,
    /// Not answered in time.
    Expired,
}

/// An invitation as stored. Its token is kept only as a fingerprint: the link in the e-mail is
/// the one place the token itself exists.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Its id.
    pub id: InvitationId,
    /// The workspace it invites to.
    pub tenant_id: TenantId,
    /// The address it was sent to; only the account with this address may accept it.
    pub email: Email,
    /// The role the invitee gets.
    pub role: Role,
    /// The fingerprint of the token the e-mail carries.
    pub token_fingerprint: String,
    /// The member who sent it (none when an API key did).
    pub invited_by: Option<UserId>,
    /// What became of it.
    pub state: InvitationState,
    /// When it was first sent.
    pub created_at: DateTime<Utc>,
    /// When its link stops working (a re-invitation moves it).
    pub expires_at: DateTime<Utc>,
    /// When it was accepted, declined or revoked.
    pub responded_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// Its status at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        match self.state {
            InvitationState::Pending if self.expires_at <= now => InvitationStatus::Expired,
            InvitationState::Pending => InvitationStatus::Pending,
            InvitationState::Accepted => InvitationStatus::Accepted,
            InvitationState::Declined => InvitationStatus::Declined,
            InvitationState::Revoked => InvitationStatus::Revoked,
        }
    }

    /// `Ok` while the invitation can still be answered; else a `CONFLICT` on `field` saying
    /// what became of it.
    pub fn require_answerable(&self, now: DateTime<Utc>, field: &str) -> DomainResult<()> {
        let message = match self.status_at(now) {
            InvitationStatus::Pending => return Ok(()),
            InvitationStatus::Accepted => "this invitation was already accepted",
            InvitationStatus::Declined => "this invitation was declined",
            InvitationStatus::Revoked => "this invitation was revoked",
            InvitationStatus::Expired => "this invitation has expired; ask for a new one",
        };
        Err(DomainError::conflict(field, message))
    }
}

/// An invitation with what its readers see beside it: the workspace (the invitee may not
/// belong to it yet) and the inviter's address.
#[derive(Debug, Clone)]
pub struct InvitationDetails {
    /// The invitation.
    pub invitation: Invitation,
    /// The workspace it invites to.
    pub tenant: Tenant,
    /// The inviter's sign-in address, when a member (not an API key) sent it.
    pub inviter_email: Option<Email>,
}

/// The link an invitation e-mail carries. The token travels in the fragment, which browsers
/// never send to a server: it stays out of access logs and `Referer` headers, and the
/// dashboard page at [`INVITATION_PATH`] reads it and calls `acceptInvitation`.
pub fn invitation_link(public_base_url: &str, token: &str) -> String {
    format!(
        "{}{INVITATION_PATH}#token={token}",
        public_base_url.trim_end_matches('/')
    )
}

/// The e-mail that carries an invitation.
pub fn invitation_mail(details: &InvitationDetails, link: &str) -> MailMessage {
    let invitation = &details.invitation;
    let inviter = details
        .inviter_email
        .as_ref()
        .map_or_else(|| "An administrator".to_owned(), |email| email.to_string());
    let text = format!(
        "{inviter} invited you to join the workspace \"{workspace}\" on refhub as {role}.\n\n\
         To accept (or decline), sign in or sign up with this address ({to}) and open:\n\n\
         {link}\n\n\
         The link works once and expires at {expires} UTC. If you did not expect this \
         invitation, ignore this e-mail: nothing happens unless you accept.\n",
        workspace = details.tenant.name,
        role = invitation.role,
        to = invitation.email,
        expires = invitation.expires_at.format("%Y-%m-%d %H:%M"),
    );
    MailMessage {
        to: invitation.email.clone(),
        subject: format!(
            "You are invited to join \"{}\" on refhub",
            details.tenant.name
        ),
        text,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::ErrorCode;
    use crate::identity::tenant::{Tenant, TenantName};

    fn invitation(state: InvitationState, expires_in: Duration) -> Invitation {
        let now = Utc::now();
        Invitation {
            id: InvitationId::generate(),
            tenant_id: TenantId::generate(),
            email: Email::parse("ann@example.com").unwrap(),
            role: Role::Editor,
            token_fingerprint: "f".repeat(64),
            invited_by: None,
            state,
            created_at: now,
            expires_at: now + expires_in,
            responded_at: None,
        }
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_is_expired() {
        let now = Utc::now();
        let fresh = invitation(InvitationState::Pending, Duration::days(7));
        assert_eq!(fresh.status_at(now), InvitationStatus::Pending);
        assert!(fresh.require_answerable(now, "token").is_ok());

        let stale = invitation(InvitationState::Pending, Duration::seconds(-1));
        assert_eq!(stale.status_at(now), InvitationStatus::Expired);
        let err = stale.require_answerable(now, "token").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert_eq!(err.field(), Some("token"));
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn an_answered_invitation_cannot_be_answered_again() {
        let now = Utc::now();
        for (state, word) in [
            (InvitationState::Accepted, "accepted"),
            (InvitationState::Declined, "declined"),
            (InvitationState::Revoked, "revoked"),
        ] {
            // Answered before it expired or after: what became of it is what counts.
            for expires_in in [Duration::days(1), Duration::days(-1)] {
                let answered = invitation(state, expires_in);
                let err = answered.require_answerable(now, "token").unwrap_err();
                assert_eq!(err.code(), ErrorCode::Conflict);
                assert!(err.to_string().contains(word), "{err}");
            }
        }
    }

    #[test]
    fn stored_states_round_trip() {
        for state in [
            InvitationState::Pending,
            InvitationState::Accepted,
            InvitationState::Declined,
            InvitationState::Revoked,
        ] {
            assert_eq!(state.as_str().parse::<InvitationState>().unwrap(), state);
        }
        assert!("expired".parse::<InvitationState>().is_err());
    }

    #[test]
    fn the_link_carries_the_token_in_its_fragment() {
        assert_eq!(
            invitation_link("https://app.example.com/", "abc123"),
            "https://app.example.com/invitations/accept#token=abc123"
        );
    }

    #[test]
    fn the_mail_names_the_workspace_role_address_and_link() {
        let now = Utc::now();
        let details = InvitationDetails {
            invitation: invitation(InvitationState::Pending, Duration::days(7)),
            tenant: Tenant::new(&TenantName::parse("Acme").unwrap(), now),
            inviter_email: Some(Email::parse("boss@example.com").unwrap()),
        };
        let mail = invitation_mail(&details, "https://x.test/invitations/accept#token=t");
        assert_eq!(mail.to.as_str(), "ann@example.com");
        assert!(mail.subject.contains("\"Acme\""), "{}", mail.subject);
        for part in [
            "boss@example.com",
            "\"Acme\"",
            "editor",
            "ann@example.com",
            "#token=t",
        ] {
            assert!(
                mail.text.contains(part),
                "{part} missing from {}",
                mail.text
            );
        }
    }
}
