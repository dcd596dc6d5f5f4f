//! Foreign keys to `tenants` on the tables written once per event or click, on PostgreSQL.
//!
//! A foreign key is checked row by row: a lookup of the parent and a share lock on it. For the
//! tables below that check is either redundant or buys nothing, and it is most of what writing
//! them costs after the indexes (about a fifth of a click's insert, measured with pgbench):
//!
//! - `subscribers`, `subscriber_interactions`, `subscriber_field_values` and `subscriber_tags`
//!   also reference a parent of the same tenant (`(tenant_id, page_id)` or
//!   `(tenant_id, subscriber_id)`), and that parent references the tenant: the tenant is
//!   already guaranteed, and deleting it still cascades through the parent.
//! - `webhook_events` and `link_clicks` are append-only logs written at request rate, whose
//!   tenant comes from a row that names it (the tenant's Messenger app, the clicked link). The
//!   product never deletes a tenant; an operator who does must purge these two logs as well.
//!
//! Row-level security is unchanged: every row is still checked against the acting tenant.
//! SQLite keeps its keys (dropping one means rebuilding the table, and its checks are calls
//! into the process, not the cost they are here).

use sea_orm_migration::prelude::*;

use crate::tenant_isolation::postgres_only;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 6] = [
    "subscribers",
    "subscriber_interactions",
    "subscriber_field_values",
    "subscriber_tags",
    "webhook_events",
    "link_clicks",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql: String = TABLES
            .iter()
            .map(|table| {
                format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_tenant_id_fkey;\n")
            })
            .collect();
        postgres_only(manager, &sql).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql: String = TABLES
            .iter()
            .map(|table| {
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {table}_tenant_id_fkey \
                     FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;\n"
                )
            })
            .collect();
        postgres_only(manager, &sql).await
    }
}
