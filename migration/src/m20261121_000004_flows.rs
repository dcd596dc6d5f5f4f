//! Flows, the rules that start them, their runs, and the outbox of messages they send.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{
    at, at_null, belongs_to_tenant, index, tenant_fk, text, text_null, unique_index, uuid,
};
use crate::tenant_isolation::{grant_app_role, isolate_tenant_table, postgres_only};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Flows {
    Table,
    TenantId,
    Id,
    Name,
    Steps,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FlowTriggers {
    Table,
    TenantId,
    Id,
    FlowId,
    PageId,
    /// The page id, or `*` for every page: a unique key cannot hold NULLs as equal.
    PageScope,
    Kind,
    /// The rule's normalised pattern (what two equal rules share).
    Pattern,
    /// The payload or keyword as entered.
    Value,
    KeywordMatch,
    TopicId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FlowRuns {
    Table,
    TenantId,
    Id,
    FlowId,
    SubscriberId,
    PageId,
    TriggerKind,
    TriggerDetail,
    StartKey,
    Steps,
    Status,
    CurrentStep,
    NextStepAt,
    Error,
    History,
    Attempts,
    StartedAt,
    FinishedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OutboundMessages {
    Table,
    TenantId,
    Id,
    PageId,
    SubscriberId,
    Kind,
    RunId,
    TopicId,
    OptInId,
    IdempotencyKey,
    MessagingType,
    Message,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    ErrorCode,
    MetaMessageId,
    CreatedAt,
    SentAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefLinks {
    Table,
    FlowId,
}

#[derive(DeriveIden)]
enum NotificationOptIns {
    Table,
    LastNotifiedAt,
}

#[derive(DeriveIden)]
enum Pages {
    Table,
}

#[derive(DeriveIden)]
enum Subscribers {
    Table,
}

#[derive(DeriveIden)]
enum NotificationTopics {
    Table,
}

fn json(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).json_binary().not_null().to_owned()
}

fn counter(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(Flows::Table),
                    Flows::Table,
                    Flows::TenantId,
                )
                .col(uuid(Flows::TenantId))
                .col(uuid(Flows::Id))
                .col(text(Flows::Name))
                .col(json(Flows::Steps))
                // Deleted flows stay for their runs' history.
                .col(at_null(Flows::DeletedAt))
                .col(at(Flows::CreatedAt))
                .col(at(Flows::UpdatedAt))
                .primary_key(Index::create().col(Flows::TenantId).col(Flows::Id))
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(FlowTriggers::Table),
                    FlowTriggers::Table,
                    FlowTriggers::TenantId,
                )
                .col(uuid(FlowTriggers::TenantId))
                .col(uuid(FlowTriggers::Id))
                .col(uuid(FlowTriggers::FlowId))
                .col(ColumnDef::new(FlowTriggers::PageId).uuid().null())
                .col(text(FlowTriggers::PageScope))
                .col(text(FlowTriggers::Kind))
                .col(text(FlowTriggers::Pattern))
                .col(text(FlowTriggers::Value))
                .col(text_null(FlowTriggers::KeywordMatch))
                .col(ColumnDef::new(FlowTriggers::TopicId).uuid().null())
                .col(at(FlowTriggers::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(FlowTriggers::TenantId)
                        .col(FlowTriggers::Id),
                )
                .foreign_key(&mut tenant_fk(
                    FlowTriggers::Table,
                    FlowTriggers::TenantId,
                    FlowTriggers::FlowId,
                    Flows::Table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut tenant_fk(
                    FlowTriggers::Table,
                    FlowTriggers::TenantId,
                    FlowTriggers::PageId,
                    Pages::Table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut tenant_fk(
                    FlowTriggers::Table,
                    FlowTriggers::TenantId,
                    FlowTriggers::TopicId,
                    NotificationTopics::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "flow_triggers_rule_key",
                FlowTriggers::Table,
                vec![
                    FlowTriggers::TenantId.into_iden(),
                    FlowTriggers::PageScope.into_iden(),
                    FlowTriggers::Kind.into_iden(),
                    FlowTriggers::Pattern.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(FlowRuns::Table),
                    FlowRuns::Table,
                    FlowRuns::TenantId,
                )
                .col(uuid(FlowRuns::TenantId))
                .col(uuid(FlowRuns::Id))
                .col(uuid(FlowRuns::FlowId))
                .col(uuid(FlowRuns::SubscriberId))
                .col(uuid(FlowRuns::PageId))
                .col(text(FlowRuns::TriggerKind))
                .col(text_null(FlowRuns::TriggerDetail))
                .col(text(FlowRuns::StartKey))
                .col(json(FlowRuns::Steps))
                .col(text(FlowRuns::Status))
                .col(counter(FlowRuns::CurrentStep))
                // When the run is next due (start, end of a wait, end of a worker's claim);
                // NULL while it waits for a message and once it has ended.
                .col(at_null(FlowRuns::NextStepAt))
                .col(text_null(FlowRuns::Error))
                .col(json(FlowRuns::History))
                .col(counter(FlowRuns::Attempts))
                .col(at(FlowRuns::StartedAt))
                .col(at_null(FlowRuns::FinishedAt))
                .col(at(FlowRuns::UpdatedAt))
                .primary_key(Index::create().col(FlowRuns::TenantId).col(FlowRuns::Id))
                .foreign_key(&mut tenant_fk(
                    FlowRuns::Table,
                    FlowRuns::TenantId,
                    FlowRuns::FlowId,
                    Flows::Table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut tenant_fk(
                    FlowRuns::Table,
                    FlowRuns::TenantId,
                    FlowRuns::SubscriberId,
                    Subscribers::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "flow_runs_start_key",
                FlowRuns::Table,
                vec![
                    FlowRuns::TenantId.into_iden(),
                    FlowRuns::StartKey.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "flow_runs_due_idx",
                FlowRuns::Table,
                vec![FlowRuns::NextStepAt.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "flow_runs_flow_idx",
                FlowRuns::Table,
                vec![
                    FlowRuns::TenantId.into_iden(),
                    FlowRuns::FlowId.into_iden(),
                    FlowRuns::Id.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "flow_runs_subscriber_idx",
                FlowRuns::Table,
                vec![
                    FlowRuns::TenantId.into_iden(),
                    FlowRuns::SubscriberId.into_iden(),
                    FlowRuns::Id.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(OutboundMessages::Table),
                    OutboundMessages::Table,
                    OutboundMessages::TenantId,
                )
                .col(uuid(OutboundMessages::TenantId))
                .col(uuid(OutboundMessages::Id))
                .col(uuid(OutboundMessages::PageId))
                .col(uuid(OutboundMessages::SubscriberId))
                .col(text(OutboundMessages::Kind))
                .col(ColumnDef::new(OutboundMessages::RunId).uuid().null())
                .col(ColumnDef::new(OutboundMessages::TopicId).uuid().null())
                .col(ColumnDef::new(OutboundMessages::OptInId).uuid().null())
                .col(text(OutboundMessages::IdempotencyKey))
                .col(text_null(OutboundMessages::MessagingType))
                .col(json(OutboundMessages::Message))
                .col(text(OutboundMessages::Status))
                .col(counter(OutboundMessages::Attempts))
                // When the message is next due (queued, retry time, end of a worker's claim);
                // NULL once it has ended.
                .col(at_null(OutboundMessages::NextAttemptAt))
                .col(text_null(OutboundMessages::LastError))
                .col(
                    ColumnDef::new(OutboundMessages::ErrorCode)
                        .big_integer()
                        .null(),
                )
                .col(text_null(OutboundMessages::MetaMessageId))
                .col(at(OutboundMessages::CreatedAt))
                .col(at_null(OutboundMessages::SentAt))
                .col(at(OutboundMessages::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(OutboundMessages::TenantId)
                        .col(OutboundMessages::Id),
                )
                .foreign_key(&mut tenant_fk(
                    OutboundMessages::Table,
                    OutboundMessages::TenantId,
                    OutboundMessages::SubscriberId,
                    Subscribers::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "outbound_messages_idempotency_key",
                OutboundMessages::Table,
                vec![
                    OutboundMessages::TenantId.into_iden(),
                    OutboundMessages::IdempotencyKey.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "outbound_messages_due_idx",
                OutboundMessages::Table,
                vec![OutboundMessages::NextAttemptAt.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "outbound_messages_subscriber_idx",
                OutboundMessages::Table,
                vec![
                    OutboundMessages::TenantId.into_iden(),
                    OutboundMessages::SubscriberId.into_iden(),
                    OutboundMessages::Id.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "outbound_messages_run_idx",
                OutboundMessages::Table,
                vec![
                    OutboundMessages::TenantId.into_iden(),
                    OutboundMessages::RunId.into_iden(),
                ],
            ))
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(RefLinks::Table)
                    .add_column(ColumnDef::new(RefLinks::FlowId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationOptIns::Table)
                    .add_column(at_null(NotificationOptIns::LastNotifiedAt))
                    .to_owned(),
            )
            .await?;

        for table in ["flows", "flow_triggers", "flow_runs", "outbound_messages"] {
            isolate_tenant_table(manager, table).await?;
        }
        // Workers claim due runs and messages across tenants; these scopes (set only by the
        // claim queries) open one table each, and the work is then done in the tenant's scope.
        postgres_only(
            manager,
            "CREATE POLICY flow_worker ON flow_runs
               USING (current_setting('app.scope', true) = 'flow-worker');
             CREATE POLICY outbox_worker ON outbound_messages
               USING (current_setting('app.scope', true) = 'outbox-worker');",
        )
        .await?;
        grant_app_role(manager).await
    }
}
