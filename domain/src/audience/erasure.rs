//! Erasing a subscriber: the person and everything the workspace holds about them, at their
//! request (Meta requires apps to offer it) or a workspace's.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::audience::ports::SubscriberRepository;
use crate::audience::subscriber::Subscriber;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::{SubscriberId, TenantId};
use crate::webhooks::Sender;

/// What an erasure must remove, and what it must find in the webhook inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasureTarget {
    /// The subscriber, whose own rows all go.
    pub subscriber_id: SubscriberId,
    /// Every name Messenger gave the person (PSID, plugin `user_ref`): a stored webhook item
    /// holding one of these names them and is redacted.
    pub names: Vec<String>,
    /// The person's sender keys: an event stored with one is theirs, whatever its item says.
    pub sender_keys: Vec<String>,
    /// Dedup keys made before senders were digested start with `prefix`; they are rewritten to
    /// start with `replacement` instead, the key a redelivery now gets, so it stays a duplicate.
    pub dedup_key_prefixes: Vec<(String, String)>,
}

impl ErasureTarget {
    /// The target for `subscriber`.
    pub fn of(subscriber: &Subscriber) -> Self {
        let mut senders = vec![subscriber.sender.clone()];
        if let Some(user_ref) = &subscriber.user_ref {
            let plugin = Sender::UserRef(user_ref.clone());
            if !senders.contains(&plugin) {
                senders.push(plugin);
            }
        }
        let names = senders
            .iter()
            .map(|sender| match sender {
                Sender::Psid(id) => id.clone(),
                Sender::UserRef(reference) => reference.clone(),
            })
            .filter(|name| !name.is_empty())
            .collect();
        let sender_keys = senders.iter().map(Sender::key).collect();
        let dedup_key_prefixes = senders
            .iter()
            .map(|sender| (format!("{}|", sender.key()), format!("{}|", sender.keyed())))
            .collect();
        Self {
            subscriber_id: subscriber.id,
            names,
            sender_keys,
            dedup_key_prefixes,
        }
    }
}

/// What stands in a redacted webhook item: that it was erased, and its kind (so the inbox
/// still says what it was).
pub fn redacted_item(kind: &str) -> Value {
    json!({ "erased": true, "kind": kind })
}

/// Whether a stored item was redacted by an erasure: there is nothing left to apply, and
/// processing it (still due, or replayed) must not bring anyone back.
pub fn is_redacted(item: &Value) -> bool {
    item.get("erased").and_then(Value::as_bool) == Some(true)
}

/// How much an erasure removed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasureCounts {
    /// Custom field values.
    pub field_values: u64,
    /// Tags held.
    pub tags: u64,
    /// Timeline entries.
    pub interactions: u64,
    /// Notification opt-ins.
    pub opt_ins: u64,
    /// Flow runs.
    pub flow_runs: u64,
    /// Queued and sent messages.
    pub messages: u64,
    /// Stored webhook events kept but redacted.
    pub webhook_events_redacted: u64,
}

/// Carries out an erasure.
#[async_trait]
pub trait SubscriberEraser: Send + Sync {
    /// In one transaction: deletes the subscriber and every row about them, and redacts every
    /// stored webhook event of the tenant whose item names one of `target.names` (item replaced
    /// by [`redacted_item`], sender and error cleared, row and status kept), rewriting dedup
    /// keys by `target.dedup_key_prefixes`. `None` when the subscriber was already gone.
    async fn erase(
        &self,
        tenant_id: TenantId,
        target: &ErasureTarget,
    ) -> DomainResult<Option<ErasureCounts>>;
}

/// Erasing subscribers from the dashboard: owners and admins, who answer for the workspace's
/// data (an editor builds flows, and must not be able to destroy a person's history).
pub struct SubscriberErasureService {
    subscribers: Arc<dyn SubscriberRepository>,
    eraser: Arc<dyn SubscriberEraser>,
}

impl SubscriberErasureService {
    /// Builds the service.
    pub fn new(
        subscribers: Arc<dyn SubscriberRepository>,
        eraser: Arc<dyn SubscriberEraser>,
    ) -> Self {
        Self {
            subscribers,
            eraser,
        }
    }

    /// Erases the subscriber `id` of the principal's workspace.
    pub async fn erase(
        &self,
        principal: &Principal,
        id: SubscriberId,
    ) -> DomainResult<ErasureCounts> {
        let access = principal.require_role(Role::Admin)?;
        let not_found = || DomainError::not_found_in("subscriber", "id");
        let subscriber = self
            .subscribers
            .find(access.tenant_id, id)
            .await?
            .ok_or_else(not_found)?;
        self.eraser
            .erase(access.tenant_id, &ErasureTarget::of(&subscriber))
            .await?
            .ok_or_else(not_found)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ids::PageId;

    fn subscriber(sender: Sender, user_ref: Option<&str>) -> Subscriber {
        Subscriber {
            profile: Default::default(),
            id: SubscriberId(uuid::Uuid::nil()),
            tenant_id: TenantId(uuid::Uuid::nil()),
            page_id: PageId(uuid::Uuid::nil()),
            sender,
            user_ref: user_ref.map(str::to_owned),
            name: None,
            first_seen_at: Utc::now(),
            last_interaction_at: None,
            source_ref: None,
            source_ref_link_id: None,
            entry_count: 0,
        }
    }

    #[test]
    fn a_linked_person_is_found_by_both_names() {
        let target = ErasureTarget::of(&subscriber(Sender::Psid("123".to_owned()), Some("ref-9")));
        assert_eq!(target.names, ["123", "ref-9"]);
        assert_eq!(target.sender_keys, ["psid:123", "user_ref:ref-9"]);
        assert_eq!(target.dedup_key_prefixes[0].0, "psid:123|");
        assert_eq!(target.dedup_key_prefixes[1].0, "user_ref:ref-9|");
    }

    #[test]
    fn rewritten_dedup_keys_name_nobody() {
        let target = ErasureTarget::of(&subscriber(Sender::Psid("123".to_owned()), None));
        let (_, replacement) = &target.dedup_key_prefixes[0];
        assert!(replacement.starts_with("sender#"));
        assert!(!replacement.contains("123"));
    }

    #[test]
    fn a_redacted_item_keeps_only_its_kind() {
        assert_eq!(
            redacted_item("message"),
            json!({ "erased": true, "kind": "message" })
        );
        assert!(is_redacted(&redacted_item("optin")));
        assert!(!is_redacted(&json!({ "message": { "text": "erased" } })));
    }
}
