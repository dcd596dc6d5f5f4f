//! What dashboards read: short codes and clicks of ref links, entries recorded with the link
//! they came through, and the time zone a tenant's reports count days in.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::schema_helpers::{at, belongs_to_tenant, index, uuid};
use crate::tenant_isolation::{grant_app_role, isolate_tenant_table, postgres_only};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    TimeZone,
}

#[derive(DeriveIden)]
enum RefLinks {
    Table,
    ShortCode,
}

#[derive(DeriveIden)]
enum SubscriberInteractions {
    Table,
    TenantId,
    RefLinkId,
    NewSubscriber,
    OccurredAt,
}

#[derive(DeriveIden)]
enum LinkClicks {
    Table,
    TenantId,
    Id,
    RefLinkId,
    PageId,
    ClickedAt,
    Automated,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(
                        ColumnDef::new(Tenants::TimeZone)
                            .string()
                            .not_null()
                            .default("UTC"),
                    )
                    .to_owned(),
            )
            .await?;

        // Links made from now on get a code from their id; older ones a random one here.
        manager
            .alter_table(
                Table::alter()
                    .table(RefLinks::Table)
                    .add_column(ColumnDef::new(RefLinks::ShortCode).string().null())
                    .to_owned(),
            )
            .await?;
        let backfill = match manager.get_database_backend() {
            // The owner is subject to FORCEd row-level security too: lift it for the backfill.
            DbBackend::Postgres => {
                "ALTER TABLE ref_links NO FORCE ROW LEVEL SECURITY;
                 UPDATE ref_links SET short_code = substr(md5(random()::text || id::text), 1, 10)
                   WHERE short_code IS NULL;
                 ALTER TABLE ref_links FORCE ROW LEVEL SECURITY;"
            }
            _ => {
                "UPDATE ref_links SET short_code = lower(hex(randomblob(5))) \
                 WHERE short_code IS NULL;"
            }
        };
        manager
            .get_connection()
            .execute_unprepared(backfill)
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ref_links_short_code_key")
                    .table(RefLinks::Table)
                    .col(RefLinks::ShortCode)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(SubscriberInteractions::Table)
                    .add_column(
                        ColumnDef::new(SubscriberInteractions::RefLinkId)
                            .uuid()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SubscriberInteractions::Table)
                    .add_column(
                        ColumnDef::new(SubscriberInteractions::NewSubscriber)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "subscriber_interactions_entries_idx",
                SubscriberInteractions::Table,
                vec![
                    SubscriberInteractions::TenantId.into_iden(),
                    SubscriberInteractions::RefLinkId.into_iden(),
                    SubscriberInteractions::OccurredAt.into_iden(),
                ],
            ))
            .await?;

        // Clicks outlive their link, so that a page's totals do not shrink when a link goes.
        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(LinkClicks::Table),
                    LinkClicks::Table,
                    LinkClicks::TenantId,
                )
                .col(uuid(LinkClicks::TenantId))
                .col(uuid(LinkClicks::Id))
                .col(uuid(LinkClicks::RefLinkId))
                .col(uuid(LinkClicks::PageId))
                .col(at(LinkClicks::ClickedAt))
                .col(ColumnDef::new(LinkClicks::Automated).boolean().not_null())
                .primary_key(
                    Index::create()
                        .col(LinkClicks::TenantId)
                        .col(LinkClicks::Id),
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "link_clicks_link_idx",
                LinkClicks::Table,
                vec![
                    LinkClicks::TenantId.into_iden(),
                    LinkClicks::RefLinkId.into_iden(),
                    LinkClicks::ClickedAt.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "link_clicks_page_idx",
                LinkClicks::Table,
                vec![
                    LinkClicks::TenantId.into_iden(),
                    LinkClicks::PageId.into_iden(),
                    LinkClicks::ClickedAt.into_iden(),
                ],
            ))
            .await?;
        isolate_tenant_table(manager, "link_clicks").await?;
        // A short URL names no tenant: its code is looked up across tenants in this scope,
        // which may read links and pages and nothing else.
        postgres_only(
            manager,
            "CREATE POLICY short_link_lookup ON ref_links FOR SELECT
               USING (current_setting('app.scope', true) = 'short-link');
             CREATE POLICY short_link_lookup ON pages FOR SELECT
               USING (current_setting('app.scope', true) = 'short-link');",
        )
        .await?;
        grant_app_role(manager).await
    }
}
