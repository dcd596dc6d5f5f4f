//! Data-deletion requests from Meta's callbacks: recorded before Meta is answered, carried out
//! by a worker.
//!
//! A request belongs to its workspace (row-level security as for every tenant-owned table).
//! Two narrow policies open it beyond: the public status page reads one request by its
//! confirmation code (`app.deletion_code`, set for that one read), and the worker claims due
//! requests across tenants (`app.scope = 'deletion-worker'`), then acts in each request's
//! tenant.
//!
//! The person is kept as a fingerprint of their app-scoped id (to recognise a replayed
//! callback); the id itself only until the request is carried out.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{at, at_null, belongs_to_tenant, index, text, text_null, uuid};
use crate::tenant_isolation::{grant_app_role, isolate_tenant_table, postgres_only};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataDeletionRequests {
    Table,
    TenantId,
    Id,
    Kind,
    ConfirmationCode,
    UserFingerprint,
    AppScopedUserId,
    Status,
    SubscribersErased,
    EventsRedacted,
    Attempts,
    DueAt,
    LastError,
    RequestedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DataDeletionRequests as R;
        manager
            .create_table(belongs_to_tenant(
                Table::create()
                    .table(R::Table)
                    .col(uuid(R::TenantId))
                    .col(uuid(R::Id))
                    .col(text(R::Kind))
                    .col(text(R::ConfirmationCode).unique_key())
                    .col(text(R::UserFingerprint))
                    .col(text_null(R::AppScopedUserId))
                    .col(text(R::Status))
                    .col(
                        ColumnDef::new(R::SubscribersErased)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(R::EventsRedacted).big_integer().not_null())
                    .col(ColumnDef::new(R::Attempts).integer().not_null())
                    .col(at_null(R::DueAt))
                    .col(text_null(R::LastError))
                    .col(at(R::RequestedAt))
                    .col(at_null(R::FinishedAt))
                    .primary_key(Index::create().col(R::TenantId).col(R::Id)),
                R::Table,
                R::TenantId,
            ))
            .await?;
        // One request under way per person, callback and workspace: a replay (or two at once)
        // finds the one under way instead of adding another.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX data_deletion_requests_under_way
                   ON data_deletion_requests (tenant_id, kind, user_fingerprint)
                   WHERE status IN ('received', 'erasing')",
            )
            .await?;
        manager
            .create_index(index(
                "data_deletion_requests_due",
                R::Table,
                vec![R::DueAt.into_iden()],
            ))
            .await?;
        isolate_tenant_table(manager, "data_deletion_requests").await?;
        postgres_only(
            manager,
            "CREATE POLICY deletion_status_by_code ON data_deletion_requests FOR SELECT
               USING (confirmation_code = NULLIF(current_setting('app.deletion_code', true), ''));
             CREATE POLICY deletion_worker ON data_deletion_requests
               USING (current_setting('app.scope', true) = 'deletion-worker');",
        )
        .await?;
        grant_app_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DataDeletionRequests::Table).to_owned())
            .await
    }
}
