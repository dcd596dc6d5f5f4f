//! Descriptions of the Relay connection types. async-graphql names a connection after its node
//! (`PageConnection`) but gives it no description, so the schema sets one for each here.

use async_graphql::{ObjectType, SchemaBuilder, SubscriptionType};

use crate::audience::types::{Interaction, Subscriber, WebhookEvent};
use crate::catalogue::types::{CustomField, NotificationTopic, Page, RefLink, Tag};
use crate::connection::ListConnection;
use crate::flows::types::{Flow, FlowRun, OutboundMessage};
use crate::identity::types::{ApiKey, Invitation, Membership, Tenant};

/// Describes every connection type the schema serves.
pub(crate) fn describe_connections<Q, M, S>(
    builder: SchemaBuilder<Q, M, S>,
) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    builder
        .override_output_type_description::<ListConnection<ApiKey>>(
            "A page of API keys (Relay connection).",
        )
        .override_output_type_description::<ListConnection<CustomField>>(
            "A page of custom fields (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Flow>>(
            "A page of flows (Relay connection).",
        )
        .override_output_type_description::<ListConnection<FlowRun>>(
            "A page of flow runs (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Interaction>>(
            "A page of a subscriber's interactions, their timeline (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Invitation>>(
            "A page of invitations (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Membership>>(
            "A page of a workspace's members (Relay connection).",
        )
        .override_output_type_description::<ListConnection<NotificationTopic>>(
            "A page of notification topics (Relay connection).",
        )
        .override_output_type_description::<ListConnection<OutboundMessage>>(
            "A page of outgoing messages (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Page>>(
            "A page of connected Facebook Pages (Relay connection).",
        )
        .override_output_type_description::<ListConnection<RefLink>>(
            "A page of ref links (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Subscriber>>(
            "A page of subscribers (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Tag>>(
            "A page of tags (Relay connection).",
        )
        .override_output_type_description::<ListConnection<Tenant>>(
            "A page of workspaces (Relay connection).",
        )
        .override_output_type_description::<ListConnection<WebhookEvent>>(
            "A page of stored webhook events (Relay connection).",
        )
}
