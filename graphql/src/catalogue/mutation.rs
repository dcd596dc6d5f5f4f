use async_graphql::{Context, ID, MaybeUndefined, Object, Result};
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{
    CustomFieldChanges, PageChanges, RefLinkChanges, RefLinkDraft, TopicChanges,
};
use refhub_domain::ids::{CustomFieldId, PageId, RefLinkId, TagId, TopicId};

use super::inputs::{
    ConnectMessengerAppInput, ConnectPageInput, CreateCustomFieldInput,
    CreateNotificationTopicInput, CreateRefLinkInput, CreateTagInput, DeleteCustomFieldInput,
    DeleteNotificationTopicInput, DeleteRefLinkInput, DeleteTagInput, DisconnectMessengerAppInput,
    DisconnectPageInput, RegisterNotificationTopicInput, RenameTagInput, RotateWebhookKeyInput,
    UpdateCustomFieldInput, UpdateNotificationTopicInput, UpdatePageInput, UpdateRefLinkInput,
};
use super::types::{CustomField, MessengerAppConnection, NotificationTopic, Page, RefLink, Tag};
use crate::auth_context::{principal, services};
use crate::error::IntoGraphql;
use crate::ids::{parse_id, to_id};

/// Mutations of the Messenger catalogue.
#[derive(Default)]
pub(crate) struct CatalogueMutation;

/// `undefined` keeps a value, `null` clears it, a value replaces it.
fn change<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
}

fn tag_ids(ids: &[ID]) -> DomainResult<Vec<TagId>> {
    ids.iter()
        .enumerate()
        .map(|(index, id)| parse_id(id, &format!("tagIds[{index}]")))
        .collect()
}

/// Mutations of the Messenger catalogue.
#[Object]
impl CatalogueMutation {
    /// Connects the workspace's Meta app, or replaces its credentials (owners and admins).
    async fn connect_messenger_app(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `ConnectMessengerAppInput`.")] input: ConnectMessengerAppInput,
    ) -> Result<MessengerAppConnection> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .messenger_apps
            .connect(
                principal,
                &input.app_id,
                &input.app_secret,
                &input.verify_token,
            )
            .await
            .map(MessengerAppConnection)
            .gql()
    }

    /// Gives the workspace a new webhook URL; the old one stops working at once.
    async fn rotate_webhook_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RotateWebhookKeyInput`; optional.")] input: Option<
            RotateWebhookKeyInput,
        >,
    ) -> Result<MessengerAppConnection> {
        let _ = input;
        let principal = principal(ctx).gql()?;
        services(ctx)
            .messenger_apps
            .rotate_webhook_key(principal)
            .await
            .map(MessengerAppConnection)
            .gql()
    }

    /// Disconnects the workspace's Meta app; its webhooks are refused from then on.
    async fn disconnect_messenger_app(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DisconnectMessengerAppInput`; optional.")] input: Option<
            DisconnectMessengerAppInput,
        >,
    ) -> Result<bool> {
        let _ = input;
        let principal = principal(ctx).gql()?;
        services(ctx)
            .messenger_apps
            .disconnect(principal)
            .await
            .map(|()| true)
            .gql()
    }

    /// Connects a Facebook Page.
    async fn connect_page(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `ConnectPageInput`.")] input: ConnectPageInput,
    ) -> Result<Page> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .pages
            .connect(
                principal,
                &input.facebook_page_id,
                &input.name,
                input.username.as_deref(),
                &input.access_token,
            )
            .await
            .map(Page)
            .gql()
    }

    /// Changes a page's name, username or access token.
    async fn update_page(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `UpdatePageInput`.")] input: UpdatePageInput,
    ) -> Result<Page> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<PageId>(&input.id, "id").gql()?;
        let changes = PageChanges {
            name: input.name,
            username: change(input.username),
            access_token: input.access_token,
        };
        services(ctx)
            .pages
            .update(principal, id, changes)
            .await
            .map(Page)
            .gql()
    }

    /// Disconnects a page with its ref links and topics. Returns its id.
    async fn disconnect_page(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DisconnectPageInput`.")] input: DisconnectPageInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<PageId>(&input.id, "id").gql()?;
        services(ctx)
            .pages
            .disconnect(principal, id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Creates a custom field with the next free number.
    async fn create_custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CreateCustomFieldInput`.")] input: CreateCustomFieldInput,
    ) -> Result<CustomField> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .custom_fields
            .create(
                principal,
                &input.name,
                input.field_type.into(),
                input.description.as_deref(),
                input.number,
            )
            .await
            .map(CustomField)
            .gql()
    }

    /// Renames, describes, archives or restores a custom field, or changes its type.
    async fn update_custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `UpdateCustomFieldInput`.")] input: UpdateCustomFieldInput,
    ) -> Result<CustomField> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<CustomFieldId>(&input.id, "id").gql()?;
        let changes = CustomFieldChanges {
            name: input.name,
            description: change(input.description),
            field_type: input.field_type.map(Into::into),
            archived: input.archived,
        };
        services(ctx)
            .custom_fields
            .update(principal, id, changes)
            .await
            .map(CustomField)
            .gql()
    }

    /// Deletes a custom field. Returns its id.
    async fn delete_custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DeleteCustomFieldInput`.")] input: DeleteCustomFieldInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<CustomFieldId>(&input.id, "id").gql()?;
        services(ctx)
            .custom_fields
            .delete(principal, id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Creates a tag.
    async fn create_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CreateTagInput`.")] input: CreateTagInput,
    ) -> Result<Tag> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .tags
            .create(principal, &input.name)
            .await
            .map(Tag::from)
            .gql()
    }

    /// Renames a tag.
    async fn rename_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RenameTagInput`.")] input: RenameTagInput,
    ) -> Result<Tag> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<TagId>(&input.id, "id").gql()?;
        services(ctx)
            .tags
            .rename(principal, id, &input.name)
            .await
            .map(Tag::from)
            .gql()
    }

    /// Deletes a tag. Returns its id.
    async fn delete_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DeleteTagInput`.")] input: DeleteTagInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<TagId>(&input.id, "id").gql()?;
        services(ctx)
            .tags
            .delete(principal, id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Creates a ref link on a page.
    async fn create_ref_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CreateRefLinkInput`.")] input: CreateRefLinkInput,
    ) -> Result<RefLink> {
        let principal = principal(ctx).gql()?;
        let draft = RefLinkDraft {
            page_id: parse_id(&input.page_id, "pageId").gql()?,
            ref_name: input.ref_name,
            text: input.text,
            default_field_id: input
                .default_field_id
                .as_ref()
                .map(|id| parse_id(id, "defaultFieldId"))
                .transpose()
                .gql()?,
            tag_ids: tag_ids(&input.tag_ids).gql()?,
            active: input.active,
            flow_id: input
                .flow_id
                .as_ref()
                .map(|id| parse_id(id, "flowId"))
                .transpose()
                .gql()?,
        };
        services(ctx)
            .ref_links
            .create(principal, draft)
            .await
            .map(RefLink)
            .gql()
    }

    /// Changes a ref link.
    async fn update_ref_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `UpdateRefLinkInput`.")] input: UpdateRefLinkInput,
    ) -> Result<RefLink> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<RefLinkId>(&input.id, "id").gql()?;
        let default_field_id = match change(input.default_field_id) {
            None => None,
            Some(None) => Some(None),
            Some(Some(id)) => Some(Some(parse_id(&id, "defaultFieldId").gql()?)),
        };
        let flow_id = match change(input.flow_id) {
            None => None,
            Some(None) => Some(None),
            Some(Some(id)) => Some(Some(parse_id(&id, "flowId").gql()?)),
        };
        let changes = RefLinkChanges {
            ref_name: input.ref_name,
            text: change(input.text),
            default_field_id,
            tag_ids: input.tag_ids.as_deref().map(tag_ids).transpose().gql()?,
            active: input.active,
            flow_id,
        };
        services(ctx)
            .ref_links
            .update(principal, id, changes)
            .await
            .map(RefLink)
            .gql()
    }

    /// Deletes a ref link. Returns its id.
    async fn delete_ref_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DeleteRefLinkInput`.")] input: DeleteRefLinkInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<RefLinkId>(&input.id, "id").gql()?;
        services(ctx)
            .ref_links
            .delete(principal, id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Creates a notification topic on a page (register it before sharing its link).
    #[graphql(
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn create_notification_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CreateNotificationTopicInput`.")]
        input: CreateNotificationTopicInput,
    ) -> Result<NotificationTopic> {
        let principal = principal(ctx).gql()?;
        let page_id = parse_id::<PageId>(&input.page_id, "pageId").gql()?;
        services(ctx)
            .topics
            .create(
                principal,
                page_id,
                &input.title,
                input.default_cadence.map(Into::into),
            )
            .await
            .map(NotificationTopic)
            .gql()
    }

    /// Changes a topic's title or default cadence.
    #[graphql(
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn update_notification_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `UpdateNotificationTopicInput`.")]
        input: UpdateNotificationTopicInput,
    ) -> Result<NotificationTopic> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<TopicId>(&input.id, "id").gql()?;
        let changes = TopicChanges {
            title: input.title,
            default_cadence: input.default_cadence.map(Into::into),
        };
        services(ctx)
            .topics
            .update(principal, id, changes)
            .await
            .map(NotificationTopic)
            .gql()
    }

    /// Deletes a topic. Returns its id.
    #[graphql(
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn delete_notification_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DeleteNotificationTopicInput`.")]
        input: DeleteNotificationTopicInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<TopicId>(&input.id, "id").gql()?;
        services(ctx)
            .topics
            .delete(principal, id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Sends the topic's registration message through the Graph API and records the outcome
    /// on the topic (`registration`); Meta's refusal is recorded there, not raised.
    #[graphql(
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn register_notification_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RegisterNotificationTopicInput`.")]
        input: RegisterNotificationTopicInput,
    ) -> Result<NotificationTopic> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<TopicId>(&input.topic_id, "topicId").gql()?;
        services(ctx)
            .topics
            .register(principal, id, &input.psid)
            .await
            .map(NotificationTopic)
            .gql()
    }
}
