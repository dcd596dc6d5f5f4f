use async_graphql::{Context, Object, Result};
use refhub_domain::ids::{CustomFieldId, SubscriberId, TagId, WebhookEventId};

use super::inputs::{
    AddSubscriberTagInput, ClearSubscriberFieldInput, EraseSubscriberInput,
    RefreshSubscriberProfileInput, RemoveSubscriberTagInput, ReplayWebhookEventInput,
    SetSubscriberFieldInput,
};
use super::types::{ErasedSubscriber, Subscriber, WebhookEvent};
use crate::auth_context::{principal, services};
use crate::error::IntoGraphql;
use crate::ids::parse_id;

/// Mutations on subscribers and webhook events.
#[derive(Default)]
pub(crate) struct AudienceMutation;

async fn reloaded(ctx: &Context<'_>, id: SubscriberId) -> Result<Subscriber> {
    let principal = principal(ctx).gql()?;
    services(ctx)
        .subscribers
        .get(principal, id)
        .await
        .map(Subscriber::from)
        .gql()
}

/// Mutations on subscribers and webhook events.
#[Object]
impl AudienceMutation {
    /// Sets a subscriber's custom field value (checked against the field's type).
    async fn set_subscriber_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `SetSubscriberFieldInput`.")] input: SetSubscriberFieldInput,
    ) -> Result<Subscriber> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<SubscriberId>(&input.subscriber_id, "subscriberId").gql()?;
        let field_id = parse_id::<CustomFieldId>(&input.field_id, "fieldId").gql()?;
        services(ctx)
            .subscribers
            .set_field_value(principal, id, field_id, &input.value)
            .await
            .gql()?;
        reloaded(ctx, id).await
    }

    /// Clears a subscriber's custom field value.
    async fn clear_subscriber_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `ClearSubscriberFieldInput`.")] input: ClearSubscriberFieldInput,
    ) -> Result<Subscriber> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<SubscriberId>(&input.subscriber_id, "subscriberId").gql()?;
        let field_id = parse_id::<CustomFieldId>(&input.field_id, "fieldId").gql()?;
        services(ctx)
            .subscribers
            .clear_field_value(principal, id, field_id)
            .await
            .gql()?;
        reloaded(ctx, id).await
    }

    /// Adds a tag to a subscriber.
    async fn add_subscriber_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `AddSubscriberTagInput`.")] input: AddSubscriberTagInput,
    ) -> Result<Subscriber> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<SubscriberId>(&input.subscriber_id, "subscriberId").gql()?;
        let tag_id = parse_id::<TagId>(&input.tag_id, "tagId").gql()?;
        services(ctx)
            .subscribers
            .add_tag(principal, id, tag_id)
            .await
            .gql()?;
        reloaded(ctx, id).await
    }

    /// Removes a tag from a subscriber.
    async fn remove_subscriber_tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RemoveSubscriberTagInput`.")] input: RemoveSubscriberTagInput,
    ) -> Result<Subscriber> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<SubscriberId>(&input.subscriber_id, "subscriberId").gql()?;
        let tag_id = parse_id::<TagId>(&input.tag_id, "tagId").gql()?;
        services(ctx)
            .subscribers
            .remove_tag(principal, id, tag_id)
            .await
            .gql()?;
        reloaded(ctx, id).await
    }

    /// Erases a subscriber (owners and admins): the person, their field values, tags,
    /// timeline, opt-ins, flow runs and messages are deleted, and the stored webhook events
    /// that name them are redacted (kept, so the inbox's counts and its recognition of
    /// redeliveries hold, but with nothing about the person left), all in one transaction.
    async fn erase_subscriber(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `EraseSubscriberInput`.")] input: EraseSubscriberInput,
    ) -> Result<ErasedSubscriber> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<SubscriberId>(&input.id, "id").gql()?;
        let counts = services(ctx).erasure.erase(principal, id).await.gql()?;
        Ok(ErasedSubscriber::new(input.id, counts))
    }

    /// Queues a fresh fetch of a subscriber's profile from Meta's User Profile API (editors):
    /// Meta's profile picture URLs expire, so the dashboard calls this when a picture no longer
    /// loads (or to try again after a permission was granted). Answers the subscriber with
    /// `profileStatus: PENDING`; the fetch happens in the background within seconds.
    async fn refresh_subscriber_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RefreshSubscriberProfileInput`.")]
        input: RefreshSubscriberProfileInput,
    ) -> Result<Subscriber> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<SubscriberId>(&input.id, "id").gql()?;
        services(ctx)
            .profiles
            .refresh(principal, id)
            .await
            .map(Subscriber::from)
            .gql()
    }

    /// Puts a webhook event back in line for processing (owners and admins). Processing an
    /// event again changes nothing it already changed.
    async fn replay_webhook_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `ReplayWebhookEventInput`.")] input: ReplayWebhookEventInput,
    ) -> Result<WebhookEvent> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<WebhookEventId>(&input.id, "id").gql()?;
        services(ctx)
            .inbox
            .replay(principal, id)
            .await
            .map(WebhookEvent)
            .gql()
    }
}
