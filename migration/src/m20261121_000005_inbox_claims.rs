//! Claims of inbox events: the due index holds only events that are still due.
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
    // One transaction on SQLite too, whose migrations otherwise run statement by statement on
    // the pool: a second connection with the schema cached from before the DROP would refuse
    // the CREATE of the same name.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The same SQL on PostgreSQL and SQLite (both have partial indexes).
        replace_due_index(
            manager,
            "CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at)
               WHERE next_attempt_at IS NOT NULL",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_due_index(
            manager,
            "CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at)",
        )
        .await
    }
}

async fn replace_due_index(manager: &SchemaManager<'_>, create: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared("DROP INDEX webhook_events_due_idx")
        .await?;
    db.execute_unprepared(create).await?;
    Ok(())
}
