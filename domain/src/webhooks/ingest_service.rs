//! The request path of the webhook: the subscription handshake, and storing what Meta posts.
//! It checks the signature before reading anything, stores every event, and does nothing else:
//! Meta wants an answer within seconds.

use std::sync::Arc;

use crate::catalogue::{
    MessengerApp, MessengerAppRepository, SecretCipher, SecretPurpose, app_for_webhook_key,
    constant_time_eq,
};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult, ForbiddenReason};
use crate::ids::WebhookEventId;
use crate::webhooks::envelope::{Sender, split_envelope};
use crate::webhooks::inbox::NewInboxEvent;
use crate::webhooks::ports::{DeliveryThrottle, InboxRepository, WebhookSignatures};
use crate::webhooks::sealed_tokens::seal_tokens;

/// What storing a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestReceipt {
    /// Events in the body (redeliveries included; the inbox keeps one of each).
    pub events: usize,
}

/// The webhook request-path use cases.
pub struct WebhookIngestService {
    apps: Arc<dyn MessengerAppRepository>,
    cipher: Arc<dyn SecretCipher>,
    signatures: Arc<dyn WebhookSignatures>,
    inbox: Arc<dyn InboxRepository>,
    clock: Arc<dyn Clock>,
}

impl WebhookIngestService {
    /// Builds the service.
    pub fn new(
        apps: Arc<dyn MessengerAppRepository>,
        cipher: Arc<dyn SecretCipher>,
        signatures: Arc<dyn WebhookSignatures>,
        inbox: Arc<dyn InboxRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            apps,
            cipher,
            signatures,
            inbox,
            clock,
        }
    }

    /// Answers Meta's subscription handshake: the challenge when the mode is `subscribe` and
    /// the verify token matches the tenant's.
    pub async fn handshake(
        &self,
        key: &str,
        mode: Option<&str>,
        verify_token: Option<&str>,
        challenge: Option<&str>,
    ) -> DomainResult<String> {
        let app = self.app_for_key(key).await?;
        let expected = self.cipher.open(
            &app.verify_token,
            app.tenant_id,
            app.id.0,
            SecretPurpose::VerifyToken,
        )?;
        let token_matches =
            verify_token.is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()));
        match (mode, challenge) {
            (Some("subscribe"), Some(challenge)) if token_matches => Ok(challenge.to_owned()),
            _ => Err(DomainError::Forbidden(ForbiddenReason::WebhookVerification)),
        }
    }

    /// Checks the key, takes one delivery from the tenant's allowance (`throttle`), checks the
    /// signature over the raw bytes, then stores every event of the body. Returns only once
    /// they are committed.
    pub async fn ingest(
        &self,
        key: &str,
        signature: Option<&str>,
        body: &[u8],
        throttle: &dyn DeliveryThrottle,
    ) -> DomainResult<IngestReceipt> {
        let app = self.app_for_key(key).await?;
        throttle
            .check(app.tenant_id)
            .map_err(|retry_after_secs| DomainError::RateLimited { retry_after_secs })?;
        let secret = app.open_secret(self.cipher.as_ref())?;
        if !self.signatures.verify(&secret, body, signature) {
            return Err(DomainError::Unauthenticated(
                "missing or wrong X-Hub-Signature-256",
            ));
        }
        let received_at = self.clock.now();
        let events = split_envelope(body, received_at)?
            .into_iter()
            .map(|event| {
                let id = WebhookEventId::generate();
                let mut item = event.item;
                seal_tokens(&mut item, app.tenant_id, id, self.cipher.as_ref())?;
                Ok(NewInboxEvent {
                    id,
                    tenant_id: app.tenant_id,
                    dedup_key: event.dedup_key,
                    page_facebook_id: event.page_id,
                    sender_key: event.sender.as_ref().map(Sender::key),
                    kind: event.kind,
                    occurred_at: event.occurred_at,
                    received_at,
                    item,
                    rejection: event.rejection,
                })
            })
            .collect::<DomainResult<Vec<NewInboxEvent>>>()?;
        let total = events.len();
        if !events.is_empty() {
            self.inbox.append(events).await?;
        }
        Ok(IngestReceipt { events: total })
    }

    async fn app_for_key(&self, key: &str) -> DomainResult<MessengerApp> {
        app_for_webhook_key(self.apps.as_ref(), key).await
    }
}
