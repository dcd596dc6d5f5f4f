//! The inbox as admins see it: what arrived, what happened to it, and replaying an event.

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::WebhookEventId;
use crate::pagination::{Page, PageRequest};
use crate::webhooks::inbox::{InboxEvent, InboxStatus};
use crate::webhooks::ports::InboxRepository;

/// The inbox use cases; owners and admins only (events carry people's messages).
pub struct InboxService {
    inbox: Arc<dyn InboxRepository>,
    clock: Arc<dyn Clock>,
}

impl InboxService {
    /// Builds the service.
    pub fn new(inbox: Arc<dyn InboxRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { inbox, clock }
    }

    /// The tenant's events, newest first.
    pub async fn list(
        &self,
        principal: &Principal,
        status: Option<InboxStatus>,
        page: PageRequest,
    ) -> DomainResult<Page<InboxEvent>> {
        let access = principal.require_role(Role::Admin)?;
        self.inbox.list(access.tenant_id, status, page).await
    }

    /// One event.
    pub async fn get(&self, principal: &Principal, id: WebhookEventId) -> DomainResult<InboxEvent> {
        let access = principal.require_role(Role::Admin)?;
        self.inbox
            .find(access.tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("webhook event", "id"))
    }

    /// Puts an event back in line. Applying it again changes nothing it already changed. A
    /// rejected event is never processed: what made it so does not change by replaying it.
    pub async fn replay(
        &self,
        principal: &Principal,
        id: WebhookEventId,
    ) -> DomainResult<InboxEvent> {
        let access = principal.require_role(Role::Admin)?;
        let event = self.inbox.find(access.tenant_id, id).await?;
        if event.is_some_and(|event| event.status == InboxStatus::Rejected) {
            return Err(DomainError::validation(
                "id",
                "is a rejected event, which is never processed",
            ));
        }
        self.inbox
            .requeue(access.tenant_id, id, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::not_found_in("webhook event", "id"))
    }
}
