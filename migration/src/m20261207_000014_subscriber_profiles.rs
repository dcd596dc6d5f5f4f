//! Subscriber profiles from Meta's User Profile API: names, picture, locale and time zone, and
//! the durable queue of fetches, kept on the subscriber row itself: `profile_status` is
//! `pending` until the profile is `fetched` or Meta refused it for good (`unavailable`, with
//! Meta's answer in `profile_error`). A new subscriber starts `pending` (the column's default),
//! so no insert path has to remember to queue a fetch, and subscribers stored before this
//! migration are fetched once too. Only rows with a PSID are claimed: a plugin user known by
//! `user_ref` alone waits until Messenger names their PSID.
//!
//! The profile worker claims due fetches across tenants through the `profile-worker` scope
//! (set only by its claim statement), which also reads pages, so that the claim skips pages
//! waiting to be reconnected.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{at_null, text_null};
use crate::tenant_isolation::postgres_only;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    FirstName,
    LastName,
    ProfilePicUrl,
    Locale,
    TimeZone,
    ProfileStatus,
    ProfileAttempts,
    ProfileDueAt,
    ProfileFetchedAt,
    ProfileError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            text_null(Subscribers::FirstName),
            text_null(Subscribers::LastName),
            text_null(Subscribers::ProfilePicUrl),
            text_null(Subscribers::Locale),
            ColumnDef::new(Subscribers::TimeZone)
                .double()
                .null()
                .to_owned(),
            ColumnDef::new(Subscribers::ProfileStatus)
                .string()
                .not_null()
                .default("pending")
                .to_owned(),
            ColumnDef::new(Subscribers::ProfileAttempts)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            at_null(Subscribers::ProfileDueAt),
            at_null(Subscribers::ProfileFetchedAt),
            text_null(Subscribers::ProfileError),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Subscribers::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // The queue: only pending rows are indexed, so it costs nothing once profiles are in.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX subscribers_profile_due ON subscribers (profile_due_at)
                   WHERE profile_status = 'pending'",
            )
            .await?;
        postgres_only(
            manager,
            "CREATE POLICY profile_worker ON subscribers
               USING (current_setting('app.scope', true) = 'profile-worker');
             CREATE POLICY profile_worker_pages ON pages FOR SELECT
               USING (current_setting('app.scope', true) = 'profile-worker');",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        postgres_only(
            manager,
            "DROP POLICY IF EXISTS profile_worker ON subscribers;
             DROP POLICY IF EXISTS profile_worker_pages ON pages;",
        )
        .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS subscribers_profile_due")
            .await?;
        for column in [
            Subscribers::FirstName,
            Subscribers::LastName,
            Subscribers::ProfilePicUrl,
            Subscribers::Locale,
            Subscribers::TimeZone,
            Subscribers::ProfileStatus,
            Subscribers::ProfileAttempts,
            Subscribers::ProfileDueAt,
            Subscribers::ProfileFetchedAt,
            Subscribers::ProfileError,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Subscribers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
