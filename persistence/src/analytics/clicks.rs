use std::collections::BTreeMap;

use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::analytics::{Click, ClickRepository};
use refhub_domain::ids::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Set, Statement, TransactionTrait};
use uuid::Uuid;

use crate::Store;
use crate::entities::link_clicks;
use crate::error::internal;

/// Rows per INSERT statement (7 columns), well under both engines' parameter limits.
const INSERT_CHUNK: usize = 1000;

#[async_trait]
impl ClickRepository for Store {
    async fn store(&self, clicks: &[Click]) -> DomainResult<()> {
        let mut by_tenant: BTreeMap<TenantId, Vec<&Click>> = BTreeMap::new();
        for click in clicks {
            by_tenant.entry(click.tenant_id).or_default().push(click);
        }
        // One transaction for the batch; each tenant's rows under its own scope, so that
        // row-level security checks every one of them.
        let txn = self.db.begin().await.map_err(internal)?;
        let postgres = txn.get_database_backend() == DbBackend::Postgres;
        for (tenant_id, clicks) in by_tenant {
            if postgres {
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT set_config('app.tenant_id', $1, true)",
                    [tenant_id.to_string().into()],
                ))
                .await
                .map_err(internal)?;
            }
            for chunk in clicks.chunks(INSERT_CHUNK) {
                let rows = chunk.iter().map(|click| link_clicks::ActiveModel {
                    tenant_id: Set(click.tenant_id.0),
                    id: Set(Uuid::now_v7()),
                    ref_link_id: Set(click.ref_link_id.0),
                    page_id: Set(click.page_id.0),
                    clicked_at: Set(click.at),
                    automated: Set(click.automated),
                });
                link_clicks::Entity::insert_many(rows)
                    .exec_without_returning(&txn)
                    .await
                    .map_err(internal)?;
            }
        }
        txn.commit().await.map_err(internal)
    }
}
