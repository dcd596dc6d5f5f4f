//! Input types of the catalogue API: one per mutation, named after it.

use async_graphql::{ID, InputObject, MaybeUndefined};

use super::types::{Cadence, CustomFieldType};

/// A Relay-style optional marker for mutations that need no other input.
#[derive(InputObject, Default)]
pub(crate) struct RotateWebhookKeyInput {
    /// Echoed back by nothing; accepted so that every mutation takes an `input`.
    pub client_mutation_id: Option<String>,
}

/// Disconnects the workspace's Meta app.
#[derive(InputObject, Default)]
pub(crate) struct DisconnectMessengerAppInput {
    /// Accepted so that every mutation takes an `input`.
    pub client_mutation_id: Option<String>,
}

/// Connects the workspace's Meta app (or replaces its credentials; the webhook URL stays).
#[derive(InputObject)]
pub(crate) struct ConnectMessengerAppInput {
    /// Meta's app id (digits).
    pub app_id: String,
    /// The app secret (verifies webhook signatures). Stored encrypted, never returned.
    pub app_secret: String,
    /// The verify token you enter in Meta's webhook settings. Stored encrypted, never returned.
    pub verify_token: String,
}

/// Connects a Facebook Page with a pasted page token (a system user's, say). The token is
/// checked with Meta first; the page's name and username are Meta's.
#[derive(InputObject)]
pub(crate) struct ConnectPageInput {
    /// Facebook's page id (digits).
    pub facebook_page_id: String,
    /// The page access token: it must be this page's and alive. Stored encrypted, never
    /// returned.
    pub access_token: String,
}

/// The person who went through the Facebook Login dialog.
#[derive(InputObject)]
pub(crate) struct FacebookPagesInput {
    /// The short-lived user token the Login dialog handed the dashboard. Used for this call
    /// only: never stored.
    pub user_access_token: String,
}

/// Connects pages the person manages, with their page tokens from Facebook Login.
#[derive(InputObject)]
pub(crate) struct ConnectFacebookPagesInput {
    /// The short-lived user token the Login dialog handed the dashboard. Used for this call
    /// only: never stored.
    pub user_access_token: String,
    /// The pages to connect (from `facebookPages`), 1 to 50. One the workspace already has is
    /// reconnected with a fresh token.
    pub facebook_page_ids: Vec<String>,
}

/// Changes a page; omitted fields keep their value.
#[derive(InputObject)]
pub(crate) struct UpdatePageInput {
    /// The page.
    pub id: ID,
    /// A new name.
    pub name: Option<String>,
    /// A new username (`null` removes it).
    pub username: MaybeUndefined<String>,
    /// A new page access token, checked with Meta like `connectPage`'s: the page is
    /// reconnected with it, and its name and username become Meta's unless also given here.
    pub access_token: Option<String>,
}

/// Disconnects a page, deleting its ref links and topics.
#[derive(InputObject)]
pub(crate) struct DisconnectPageInput {
    /// The page.
    pub id: ID,
}

/// Creates a custom field; it gets the next free number.
#[derive(InputObject)]
pub(crate) struct CreateCustomFieldInput {
    /// Its name, unique in the workspace.
    pub name: String,
    /// The type its values must fit.
    #[graphql(name = "type")]
    pub field_type: CustomFieldType,
    /// What it is for.
    pub description: Option<String>,
    /// Its number in ref payloads (1 to 99999); by default the next free one.
    pub number: Option<i32>,
}

/// Renames, describes, archives or restores a field, or changes its type; omitted fields keep
/// their value.
#[derive(InputObject)]
pub(crate) struct UpdateCustomFieldInput {
    /// The field.
    pub id: ID,
    /// A new name.
    pub name: Option<String>,
    /// A new description (`null` removes it).
    pub description: MaybeUndefined<String>,
    /// A new type (only while no subscriber has a value for the field).
    #[graphql(name = "type")]
    pub field_type: Option<CustomFieldType>,
    /// Archive (`true`) or restore (`false`).
    pub archived: Option<bool>,
}

/// Deletes a custom field (links using it as their default field lose it).
#[derive(InputObject)]
pub(crate) struct DeleteCustomFieldInput {
    /// The field.
    pub id: ID,
}

/// Creates a tag.
#[derive(InputObject)]
pub(crate) struct CreateTagInput {
    /// Its name, unique (case-insensitively) in the workspace.
    pub name: String,
}

/// Renames a tag.
#[derive(InputObject)]
pub(crate) struct RenameTagInput {
    /// The tag.
    pub id: ID,
    /// The new name.
    pub name: String,
}

/// Deletes a tag (links stop adding it).
#[derive(InputObject)]
pub(crate) struct DeleteTagInput {
    /// The tag.
    pub id: ID,
}

/// Creates a ref link on a page.
#[derive(InputObject)]
pub(crate) struct CreateRefLinkInput {
    /// The page.
    pub page_id: ID,
    /// The `ref`: letters, digits, `-`, `_` and `=`; no `--` (it separates payload values).
    #[graphql(name = "ref")]
    pub ref_name: String,
    /// A message prefilled in the composer.
    pub text: Option<String>,
    /// The custom field the first payload value fills.
    pub default_field_id: Option<ID>,
    /// Tags to add to everyone who arrives through the link.
    #[graphql(default)]
    pub tag_ids: Vec<ID>,
    /// Whether arrivals are acted on (default `true`).
    pub active: Option<bool>,
    /// The flow started for everyone who arrives through the link.
    pub flow_id: Option<ID>,
}

/// Changes a ref link; omitted fields keep their value, `null` clears an optional one.
#[derive(InputObject)]
pub(crate) struct UpdateRefLinkInput {
    /// The link.
    pub id: ID,
    /// A new `ref`.
    #[graphql(name = "ref")]
    pub ref_name: Option<String>,
    /// A new prefilled message.
    pub text: MaybeUndefined<String>,
    /// A new default field.
    pub default_field_id: MaybeUndefined<ID>,
    /// The new set of tags.
    pub tag_ids: Option<Vec<ID>>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// A new flow to start (`null`: none).
    pub flow_id: MaybeUndefined<ID>,
}

/// Deletes a ref link.
#[derive(InputObject)]
pub(crate) struct DeleteRefLinkInput {
    /// The link.
    pub id: ID,
}

/// A value for one custom field in `payloadUrl`.
#[derive(InputObject)]
pub(crate) struct PayloadFieldInput {
    /// The field.
    pub field_id: ID,
    /// Its value (letters, digits, `-`, `_` and `=` only; checked against the field's type).
    pub value: String,
}

/// Creates a notification topic on a page.
#[derive(InputObject)]
pub(crate) struct CreateNotificationTopicInput {
    /// The page.
    pub page_id: ID,
    /// The title people opt in to: letters, digits and spaces.
    pub title: String,
    /// The cadence its link offers by default (default `DAILY`).
    pub default_cadence: Option<Cadence>,
}

/// Changes a topic; a new title must be registered again.
#[derive(InputObject)]
pub(crate) struct UpdateNotificationTopicInput {
    /// The topic.
    pub id: ID,
    /// A new title.
    pub title: Option<String>,
    /// A new default cadence.
    pub default_cadence: Option<Cadence>,
}

/// Deletes a topic.
#[derive(InputObject)]
pub(crate) struct DeleteNotificationTopicInput {
    /// The topic.
    pub id: ID,
}

/// Registers a topic with Meta by sending its registration message to someone.
#[derive(InputObject)]
pub(crate) struct RegisterNotificationTopicInput {
    /// The topic.
    pub topic_id: ID,
    /// The PSID of someone who has talked to the page (an admin, typically).
    pub psid: String,
}
