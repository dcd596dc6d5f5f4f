//! The webhook inbox and the audience: subscribers with their field values, tags,
//! interactions and notification opt-ins.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{
    at, at_null, belongs_to_tenant, tenant_fk, text, text_null, unique_index, uuid,
};
use crate::tenant_isolation::{grant_app_role, isolate_tenant_table, postgres_only};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    TenantId,
    Id,
    DedupKey,
    PageFacebookId,
    SenderKey,
    Kind,
    OccurredAt,
    ReceivedAt,
    Item,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    Outcome,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    TenantId,
    Id,
    PageId,
    SenderKey,
    Psid,
    UserRef,
    Name,
    FirstSeenAt,
    LastInteractionAt,
    SourceRef,
    SourceRefLinkId,
    SourceRefAt,
    EntryCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SubscriberFieldValues {
    Table,
    TenantId,
    SubscriberId,
    FieldId,
    Value,
    SetAt,
}

#[derive(DeriveIden)]
enum SubscriberTags {
    Table,
    TenantId,
    SubscriberId,
    TagId,
    AddedAt,
}

#[derive(DeriveIden)]
enum SubscriberInteractions {
    Table,
    TenantId,
    Id,
    SubscriberId,
    EventId,
    Kind,
    Detail,
    TokenFingerprint,
    OccurredAt,
}

#[derive(DeriveIden)]
enum NotificationOptIns {
    Table,
    TenantId,
    Id,
    SubscriberId,
    TopicId,
    TopicTitle,
    Token,
    TokenFingerprint,
    Frequency,
    Timezone,
    ExpiresAt,
    Status,
    StatusChangedAt,
    LastSentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Pages {
    Table,
}

#[derive(DeriveIden)]
enum CustomFields {
    Table,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(WebhookEvents::Table),
                    WebhookEvents::Table,
                    WebhookEvents::TenantId,
                )
                .col(uuid(WebhookEvents::TenantId))
                .col(uuid(WebhookEvents::Id))
                .col(text(WebhookEvents::DedupKey))
                .col(text_null(WebhookEvents::PageFacebookId))
                .col(text_null(WebhookEvents::SenderKey))
                .col(text(WebhookEvents::Kind))
                .col(at(WebhookEvents::OccurredAt))
                .col(at(WebhookEvents::ReceivedAt))
                .col(ColumnDef::new(WebhookEvents::Item).json_binary().not_null())
                .col(text(WebhookEvents::Status))
                .col(
                    ColumnDef::new(WebhookEvents::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                // When the event is next due: arrival, a retry time, or the end of a worker's
                // lease; NULL once it needs nothing more. One index then answers the claim.
                .col(at_null(WebhookEvents::NextAttemptAt))
                .col(text_null(WebhookEvents::LastError))
                .col(ColumnDef::new(WebhookEvents::Outcome).json_binary().null())
                .col(at_null(WebhookEvents::ProcessedAt))
                .primary_key(
                    Index::create()
                        .col(WebhookEvents::TenantId)
                        .col(WebhookEvents::Id),
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "webhook_events_dedup_key",
                WebhookEvents::Table,
                vec![
                    WebhookEvents::TenantId.into_iden(),
                    WebhookEvents::DedupKey.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "webhook_events_due_idx",
                WebhookEvents::Table,
                vec![WebhookEvents::NextAttemptAt.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "webhook_events_tenant_status_idx",
                WebhookEvents::Table,
                vec![
                    WebhookEvents::TenantId.into_iden(),
                    WebhookEvents::Status.into_iden(),
                    WebhookEvents::Id.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(Subscribers::Table),
                    Subscribers::Table,
                    Subscribers::TenantId,
                )
                .col(uuid(Subscribers::TenantId))
                .col(uuid(Subscribers::Id))
                .col(uuid(Subscribers::PageId))
                .col(text(Subscribers::SenderKey))
                .col(text_null(Subscribers::Psid))
                .col(text_null(Subscribers::UserRef))
                .col(text_null(Subscribers::Name))
                .col(at(Subscribers::FirstSeenAt))
                .col(at_null(Subscribers::LastInteractionAt))
                .col(text_null(Subscribers::SourceRef))
                .col(ColumnDef::new(Subscribers::SourceRefLinkId).uuid().null())
                .col(at_null(Subscribers::SourceRefAt))
                .col(
                    ColumnDef::new(Subscribers::EntryCount)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(at(Subscribers::CreatedAt))
                .col(at(Subscribers::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(Subscribers::TenantId)
                        .col(Subscribers::Id),
                )
                .foreign_key(&mut tenant_fk(
                    Subscribers::Table,
                    Subscribers::TenantId,
                    Subscribers::PageId,
                    Pages::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "subscribers_page_sender_key",
                Subscribers::Table,
                vec![
                    Subscribers::TenantId.into_iden(),
                    Subscribers::PageId.into_iden(),
                    Subscribers::SenderKey.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "subscribers_page_list_idx",
                Subscribers::Table,
                vec![
                    Subscribers::TenantId.into_iden(),
                    Subscribers::PageId.into_iden(),
                    Subscribers::Id.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(SubscriberFieldValues::Table),
                    SubscriberFieldValues::Table,
                    SubscriberFieldValues::TenantId,
                )
                .col(uuid(SubscriberFieldValues::TenantId))
                .col(uuid(SubscriberFieldValues::SubscriberId))
                .col(uuid(SubscriberFieldValues::FieldId))
                .col(text(SubscriberFieldValues::Value))
                .col(at(SubscriberFieldValues::SetAt))
                .primary_key(
                    Index::create()
                        .col(SubscriberFieldValues::TenantId)
                        .col(SubscriberFieldValues::SubscriberId)
                        .col(SubscriberFieldValues::FieldId),
                )
                .foreign_key(&mut tenant_fk(
                    SubscriberFieldValues::Table,
                    SubscriberFieldValues::TenantId,
                    SubscriberFieldValues::SubscriberId,
                    Subscribers::Table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut tenant_fk(
                    SubscriberFieldValues::Table,
                    SubscriberFieldValues::TenantId,
                    SubscriberFieldValues::FieldId,
                    CustomFields::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "subscriber_field_values_lookup_idx",
                SubscriberFieldValues::Table,
                vec![
                    SubscriberFieldValues::TenantId.into_iden(),
                    SubscriberFieldValues::FieldId.into_iden(),
                    SubscriberFieldValues::Value.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(SubscriberTags::Table),
                    SubscriberTags::Table,
                    SubscriberTags::TenantId,
                )
                .col(uuid(SubscriberTags::TenantId))
                .col(uuid(SubscriberTags::SubscriberId))
                .col(uuid(SubscriberTags::TagId))
                .col(at(SubscriberTags::AddedAt))
                .primary_key(
                    Index::create()
                        .col(SubscriberTags::TenantId)
                        .col(SubscriberTags::SubscriberId)
                        .col(SubscriberTags::TagId),
                )
                .foreign_key(&mut tenant_fk(
                    SubscriberTags::Table,
                    SubscriberTags::TenantId,
                    SubscriberTags::SubscriberId,
                    Subscribers::Table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut tenant_fk(
                    SubscriberTags::Table,
                    SubscriberTags::TenantId,
                    SubscriberTags::TagId,
                    Tags::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "subscriber_tags_tag_idx",
                SubscriberTags::Table,
                vec![
                    SubscriberTags::TenantId.into_iden(),
                    SubscriberTags::TagId.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(SubscriberInteractions::Table),
                    SubscriberInteractions::Table,
                    SubscriberInteractions::TenantId,
                )
                .col(uuid(SubscriberInteractions::TenantId))
                .col(uuid(SubscriberInteractions::Id))
                .col(uuid(SubscriberInteractions::SubscriberId))
                .col(uuid(SubscriberInteractions::EventId))
                .col(text(SubscriberInteractions::Kind))
                .col(text_null(SubscriberInteractions::Detail))
                .col(text_null(SubscriberInteractions::TokenFingerprint))
                .col(at(SubscriberInteractions::OccurredAt))
                .primary_key(
                    Index::create()
                        .col(SubscriberInteractions::TenantId)
                        .col(SubscriberInteractions::Id),
                )
                .foreign_key(&mut tenant_fk(
                    SubscriberInteractions::Table,
                    SubscriberInteractions::TenantId,
                    SubscriberInteractions::SubscriberId,
                    Subscribers::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "subscriber_interactions_event_key",
                SubscriberInteractions::Table,
                vec![
                    SubscriberInteractions::TenantId.into_iden(),
                    SubscriberInteractions::EventId.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "subscriber_interactions_timeline_idx",
                SubscriberInteractions::Table,
                vec![
                    SubscriberInteractions::TenantId.into_iden(),
                    SubscriberInteractions::SubscriberId.into_iden(),
                    SubscriberInteractions::OccurredAt.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(NotificationOptIns::Table),
                    NotificationOptIns::Table,
                    NotificationOptIns::TenantId,
                )
                .col(uuid(NotificationOptIns::TenantId))
                .col(uuid(NotificationOptIns::Id))
                .col(uuid(NotificationOptIns::SubscriberId))
                .col(ColumnDef::new(NotificationOptIns::TopicId).uuid().null())
                .col(text(NotificationOptIns::TopicTitle))
                .col(
                    ColumnDef::new(NotificationOptIns::Token)
                        .binary()
                        .not_null(),
                )
                .col(text(NotificationOptIns::TokenFingerprint))
                .col(text_null(NotificationOptIns::Frequency))
                .col(text_null(NotificationOptIns::Timezone))
                .col(at_null(NotificationOptIns::ExpiresAt))
                .col(text(NotificationOptIns::Status))
                .col(at(NotificationOptIns::StatusChangedAt))
                .col(at_null(NotificationOptIns::LastSentAt))
                .col(at(NotificationOptIns::CreatedAt))
                .col(at(NotificationOptIns::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(NotificationOptIns::TenantId)
                        .col(NotificationOptIns::Id),
                )
                .foreign_key(&mut tenant_fk(
                    NotificationOptIns::Table,
                    NotificationOptIns::TenantId,
                    NotificationOptIns::SubscriberId,
                    Subscribers::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "notification_opt_ins_token_idx",
                NotificationOptIns::Table,
                vec![
                    NotificationOptIns::TenantId.into_iden(),
                    NotificationOptIns::TokenFingerprint.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "notification_opt_ins_subscriber_idx",
                NotificationOptIns::Table,
                vec![
                    NotificationOptIns::TenantId.into_iden(),
                    NotificationOptIns::SubscriberId.into_iden(),
                ],
            ))
            .await?;

        for table in [
            "webhook_events",
            "subscribers",
            "subscriber_field_values",
            "subscriber_tags",
            "subscriber_interactions",
            "notification_opt_ins",
        ] {
            isolate_tenant_table(manager, table).await?;
        }
        // Workers claim due events across tenants; this scope (set only by the claim query)
        // opens the inbox alone, and each event is then applied in its own tenant's scope.
        postgres_only(
            manager,
            "CREATE POLICY inbox_worker ON webhook_events
               USING (current_setting('app.scope', true) = 'inbox-worker');",
        )
        .await?;
        grant_app_role(manager).await
    }
}
