//! Typed identifiers (UUID v7: time-ordered, so keyset pagination by id follows creation order).

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A tenant (workspace).
    TenantId
);
id_type!(
    /// A user account, global across tenants.
    UserId
);
id_type!(
    /// A user's membership in a tenant.
    MembershipId
);
id_type!(
    /// An invitation to join a tenant.
    InvitationId
);
id_type!(
    /// A tenant's API key.
    ApiKeyId
);
id_type!(
    /// A sign-in session: one family of rotating refresh tokens.
    SessionId
);
id_type!(
    /// A tenant's Messenger app connection.
    MessengerAppId
);
id_type!(
    /// A connected Facebook Page.
    PageId
);
id_type!(
    /// A custom field definition.
    CustomFieldId
);
id_type!(
    /// A tag.
    TagId
);
id_type!(
    /// An m.me ref link.
    RefLinkId
);
id_type!(
    /// A recurring-notification topic.
    TopicId
);
id_type!(
    /// A stored webhook event (the inbox).
    WebhookEventId
);
id_type!(
    /// A subscriber: one person on one page.
    SubscriberId
);
id_type!(
    /// A subscriber's opt-in to a notification topic.
    OptInId
);
id_type!(
    /// A flow: a named list of steps.
    FlowId
);
id_type!(
    /// A rule that starts a flow.
    FlowTriggerId
);
id_type!(
    /// One subscriber's run through a flow.
    FlowRunId
);
id_type!(
    /// An outgoing message in the outbox.
    OutboundMessageId
);
id_type!(
    /// A person's request, through Meta, to erase what a workspace holds about them.
    DeletionRequestId
);
