//! PostgreSQL row-level security, the database's backstop for tenant scoping.
//!
//! The application connects as [`APP_ROLE`], which owns nothing, so `FORCE`d policies apply to
//! every statement it runs. Each transaction says which tenant it acts for with
//! `set_config('app.tenant_id', …, true)` (the adapter in `refhub-persistence` does this); a
//! transaction that forgets sees no tenant rows at all. SQLite has no such mechanism: there the
//! repositories' own `tenant_id` filters are the whole guarantee.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The role the application runs as on PostgreSQL.
pub const APP_ROLE: &str = "refhub_app";

/// The tenant the current transaction acts for, or NULL (which matches no row).
const CURRENT_TENANT: &str = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";

/// Makes sure the application role exists and may read and write every table (but owns none).
pub async fn grant_app_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
             CREATE ROLE {APP_ROLE} NOLOGIN;
           END IF;
         END $$;
         GRANT USAGE ON SCHEMA public TO {APP_ROLE};
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// Turns on forced row-level security for a tenant-owned table (one with a `tenant_id` column).
pub async fn isolate_tenant_table(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON {table}
           USING (tenant_id = {CURRENT_TENANT})
           WITH CHECK (tenant_id = {CURRENT_TENANT});"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// Runs PostgreSQL-only statements (policies beyond the tenant one).
pub async fn postgres_only(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
