//! Input types for subscribers and webhook events.

use async_graphql::{ID, InputObject};

/// A field value to filter on.
#[derive(InputObject)]
pub(crate) struct SubscriberFieldFilter {
    /// The field.
    pub field_id: ID,
    /// The value (compared in the field type's canonical form).
    pub value: String,
}

/// Filters for `subscribers`; all given filters must hold.
#[derive(InputObject, Default)]
pub(crate) struct SubscriberFilterInput {
    /// Has this tag.
    pub tag_id: Option<ID>,
    /// Arrived first through this ref link.
    pub ref_link_id: Option<ID>,
    /// Has this value for this field.
    pub field: Option<SubscriberFieldFilter>,
    /// Has an active opt-in to this topic.
    pub opted_in_topic_id: Option<ID>,
    /// Name or PSID contains this text.
    pub search: Option<String>,
}

/// Sets a subscriber's field value by hand.
#[derive(InputObject)]
pub(crate) struct SetSubscriberFieldInput {
    /// The subscriber.
    pub subscriber_id: ID,
    /// The field.
    pub field_id: ID,
    /// The value, checked against the field's type.
    pub value: String,
}

/// Clears a subscriber's field value.
#[derive(InputObject)]
pub(crate) struct ClearSubscriberFieldInput {
    /// The subscriber.
    pub subscriber_id: ID,
    /// The field.
    pub field_id: ID,
}

/// Adds a tag to a subscriber.
#[derive(InputObject)]
pub(crate) struct AddSubscriberTagInput {
    /// The subscriber.
    pub subscriber_id: ID,
    /// The tag.
    pub tag_id: ID,
}

/// Removes a tag from a subscriber.
#[derive(InputObject)]
pub(crate) struct RemoveSubscriberTagInput {
    /// The subscriber.
    pub subscriber_id: ID,
    /// The tag.
    pub tag_id: ID,
}

/// Fetches a subscriber's profile from Meta again.
#[derive(InputObject)]
pub(crate) struct RefreshSubscriberProfileInput {
    /// The subscriber.
    pub id: ID,
}

/// Erases a subscriber.
#[derive(InputObject)]
pub(crate) struct EraseSubscriberInput {
    /// The subscriber.
    pub id: ID,
}

/// Processes a webhook event again.
#[derive(InputObject)]
pub(crate) struct ReplayWebhookEventInput {
    /// The event.
    pub id: ID,
}
