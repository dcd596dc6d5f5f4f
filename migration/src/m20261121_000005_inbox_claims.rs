//! Claims of inbox events: the due index holds only events that are still due
//! (`webhook_events_due_only_idx`, replacing `webhook_events_due_idx`).
//!
//! `next_attempt_at` is NULL once an event needs nothing more, and every event ends that way;
//! a full index on it kept one entry per event ever received (all NULLs at its end, a new one
//! written each time an event finished). Partial on `IS NOT NULL`, it holds only what waits or
//! is leased: the claim's `next_attempt_at <= $now` implies it, finishing an event writes no
//! entry to it, and the index stays as small as the backlog.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The same SQL on PostgreSQL and SQLite (both have partial indexes).
        replace_due_index(
            manager,
            "webhook_events_due_idx",
            "CREATE INDEX webhook_events_due_only_idx ON webhook_events (next_attempt_at)
               WHERE next_attempt_at IS NOT NULL",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_due_index(
            manager,
            "webhook_events_due_only_idx",
            "CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at)",
        )
        .await
    }
}

/// Creates the new index under a new name before dropping the old one: SQLite migrations run
/// statement by statement on the pool, and a connection whose cached schema predates a DROP
/// refuses a CREATE of the same name ("already exists"). Wrapping the two in one transaction
/// instead broke the graceful-shutdown test on SQLite.
async fn replace_due_index(
    manager: &SchemaManager<'_>,
    old: &str,
    create: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(create).await?;
    db.execute_unprepared(&format!("DROP INDEX {old}")).await?;
    Ok(())
}
