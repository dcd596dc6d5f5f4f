//! Token health: a page's status (`active`, or `needs_reconnect` once Meta said its token is
//! dead, with Meta's code, subcode and message and when), and when its token was last checked.
//!
//! Two workers read pages across tenants, each through its own `app.scope` (set only by its
//! claim statement), as the outbox and flow workers read their queues:
//! - `outbox-worker` reads pages (no more) so that its claim skips messages of a page waiting to
//!   be reconnected: they stay pending, in order, instead of failing one by one;
//! - `token-check` claims pages whose token is due for its periodic check.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{at_null, text_null};
use crate::tenant_isolation::postgres_only;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pages {
    Table,
    Status,
    StatusCode,
    StatusSubcode,
    StatusMessage,
    StatusChangedAt,
    TokenCheckedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        let columns = [
            ColumnDef::new(Pages::Status)
                .string()
                .not_null()
                .default("active")
                .to_owned(),
            ColumnDef::new(Pages::StatusCode)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Pages::StatusSubcode)
                .big_integer()
                .null()
                .to_owned(),
            text_null(Pages::StatusMessage),
            at_null(Pages::StatusChangedAt),
            at_null(Pages::TokenCheckedAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Pages::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // The token check's claim filters and orders on this very expression, over active pages
        // only: a plain index on `token_checked_at` could serve neither. Both engines take an
        // expression index with a predicate.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX pages_token_check_due ON pages \
                 ((COALESCE(token_checked_at, created_at))) WHERE status = 'active'",
            )
            .await?;
        postgres_only(
            manager,
            "CREATE POLICY outbox_worker_pages ON pages FOR SELECT
               USING (current_setting('app.scope', true) = 'outbox-worker');
             CREATE POLICY token_check ON pages
               USING (current_setting('app.scope', true) = 'token-check');",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        postgres_only(
            manager,
            "DROP POLICY IF EXISTS outbox_worker_pages ON pages;
             DROP POLICY IF EXISTS token_check ON pages;",
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("pages_token_check_due")
                    .table(Pages::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Pages::Status,
            Pages::StatusCode,
            Pages::StatusSubcode,
            Pages::StatusMessage,
            Pages::StatusChangedAt,
            Pages::TokenCheckedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Pages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
