//! Page set-up: what refhub asks Meta to do for a connected page (subscribe the app to its
//! webhooks, set its Get Started button and the Messenger Profile settings the workspace
//! manages), and the unsubscribes still owed to pages that were disconnected.
//!
//! Both are work queues that call Meta off the request path: `next_attempt_at` is when a row is
//! next due (NULL: nothing to do), claimed across tenants by the `page-setup-worker` scope like
//! the outbox. A set-up row belongs to its page and goes with it; a teardown row outlives its
//! page on purpose, holding the sealed token and Facebook page id the unsubscribe needs.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{
    at, at_null, belongs_to_tenant, index, tenant_fk, text, text_null, uuid,
};
use crate::tenant_isolation::{grant_app_role, isolate_tenant_table, postgres_only};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PageSetups {
    Table,
    TenantId,
    PageId,
    Generation,
    SubscribedState,
    SubscribedFields,
    GetStartedState,
    ProfileState,
    ReplaceGetStarted,
    OwnGetStarted,
    WantedProfile,
    MetaProfile,
    LastErrorCode,
    LastErrorSubcode,
    LastErrorMessage,
    CheckedAt,
    NextAttemptAt,
    Attempts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PageTeardowns {
    Table,
    TenantId,
    Id,
    PageId,
    FacebookPageId,
    AccessToken,
    Attempts,
    LastError,
    NextAttemptAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Pages {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(belongs_to_tenant(
                Table::create()
                    .table(PageSetups::Table)
                    .col(uuid(PageSetups::TenantId))
                    .col(uuid(PageSetups::PageId))
                    .col(
                        ColumnDef::new(PageSetups::Generation)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(PageSetups::SubscribedState))
                    .col(text(PageSetups::SubscribedFields))
                    .col(text(PageSetups::GetStartedState))
                    .col(text(PageSetups::ProfileState))
                    .col(
                        ColumnDef::new(PageSetups::ReplaceGetStarted)
                            .boolean()
                            .not_null(),
                    )
                    .col(text_null(PageSetups::OwnGetStarted))
                    .col(text_null(PageSetups::WantedProfile))
                    .col(text_null(PageSetups::MetaProfile))
                    .col(
                        ColumnDef::new(PageSetups::LastErrorCode)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PageSetups::LastErrorSubcode)
                            .big_integer()
                            .null(),
                    )
                    .col(text_null(PageSetups::LastErrorMessage))
                    .col(at_null(PageSetups::CheckedAt))
                    .col(at_null(PageSetups::NextAttemptAt))
                    .col(ColumnDef::new(PageSetups::Attempts).integer().not_null())
                    .col(at(PageSetups::CreatedAt))
                    .col(at(PageSetups::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(PageSetups::TenantId)
                            .col(PageSetups::PageId),
                    )
                    .foreign_key(&mut tenant_fk(
                        PageSetups::Table,
                        PageSetups::TenantId,
                        PageSetups::PageId,
                        Pages::Table,
                        ForeignKeyAction::Cascade,
                    )),
                PageSetups::Table,
                PageSetups::TenantId,
            ))
            .await?;
        manager
            .create_index(index(
                "page_setups_due",
                PageSetups::Table,
                vec![PageSetups::NextAttemptAt.into_iden()],
            ))
            .await?;

        manager
            .create_table(belongs_to_tenant(
                Table::create()
                    .table(PageTeardowns::Table)
                    .col(uuid(PageTeardowns::TenantId))
                    .col(uuid(PageTeardowns::Id))
                    .col(uuid(PageTeardowns::PageId))
                    .col(text(PageTeardowns::FacebookPageId))
                    .col(
                        ColumnDef::new(PageTeardowns::AccessToken)
                            .binary()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PageTeardowns::Attempts).integer().not_null())
                    .col(text_null(PageTeardowns::LastError))
                    .col(at_null(PageTeardowns::NextAttemptAt))
                    .col(at(PageTeardowns::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(PageTeardowns::TenantId)
                            .col(PageTeardowns::Id),
                    ),
                PageTeardowns::Table,
                PageTeardowns::TenantId,
            ))
            .await?;
        manager
            .create_index(index(
                "page_teardowns_due",
                PageTeardowns::Table,
                vec![PageTeardowns::NextAttemptAt.into_iden()],
            ))
            .await?;

        for table in ["page_setups", "page_teardowns"] {
            isolate_tenant_table(manager, table).await?;
        }
        // The set-up worker claims due rows across tenants; this scope (set only by its claim
        // queries) opens these two tables, and the work is then done in the tenant's scope.
        postgres_only(
            manager,
            "CREATE POLICY page_setup_worker ON page_setups
               USING (current_setting('app.scope', true) = 'page-setup-worker');
             CREATE POLICY page_setup_worker ON page_teardowns
               USING (current_setting('app.scope', true) = 'page-setup-worker');",
        )
        .await?;
        grant_app_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PageTeardowns::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PageSetups::Table).to_owned())
            .await
    }
}
