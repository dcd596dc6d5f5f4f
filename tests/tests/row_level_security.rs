//! PostgreSQL only: row-level security backs up the application's tenant filter, and the tests
//! (like production) connect as the application role, which must not be able to bypass it.

use refhub_migration::APP_ROLE;
use refhub_tests::{require_postgres, spawn_app};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};

async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.expect("connect")
}

fn statement(sql: impl Into<String>) -> Statement {
    Statement::from_string(DbBackend::Postgres, sql.into())
}

async fn strings(db: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    db.query_all_raw(statement(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

#[tokio::test]
#[cfg_attr(
    not(refhub_postgres),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL"
)]
async fn every_tenant_table_forces_row_level_security() {
    require_postgres();
    let app = spawn_app().await;
    let admin = connect(app.admin_database_url.as_deref().expect("admin URL")).await;

    let rows = admin
        .query_all_raw(statement(format!(
            "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                    pg_get_userbyid(c.relowner)::text,
                    EXISTS (SELECT 1 FROM information_schema.columns col
                            WHERE col.table_schema = 'public' AND col.table_name = c.relname
                              AND col.column_name = 'tenant_id'),
                    (SELECT count(*) FROM pg_policies p
                     WHERE p.schemaname = 'public' AND p.tablename = c.relname),
                    (SELECT count(*) FROM pg_policies p
                     WHERE p.schemaname = 'public' AND p.tablename = c.relname
                       AND concat(p.qual, ' ', p.with_check) LIKE '%app.tenant_id%'),
                    has_table_privilege('{APP_ROLE}', c.oid, 'SELECT')
                      AND has_table_privilege('{APP_ROLE}', c.oid, 'INSERT')
                      AND has_table_privilege('{APP_ROLE}', c.oid, 'UPDATE')
                      AND has_table_privilege('{APP_ROLE}', c.oid, 'DELETE')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
               AND c.relname <> 'seaql_migrations'
             ORDER BY 1"
        )))
        .await
        .expect("catalog query");

    let mut tenant_tables = Vec::new();
    let mut problems = Vec::new();
    for row in &rows {
        let table: String = row.try_get_by_index(0).unwrap();
        let enabled: bool = row.try_get_by_index(1).unwrap();
        let forced: bool = row.try_get_by_index(2).unwrap();
        let owner: String = row.try_get_by_index(3).unwrap();
        let has_tenant_id: bool = row.try_get_by_index(4).unwrap();
        let policies: i64 = row.try_get_by_index(5).unwrap();
        let keyed_policies: i64 = row.try_get_by_index(6).unwrap();
        let granted: bool = row.try_get_by_index(7).unwrap();

        if owner == APP_ROLE {
            problems.push(format!("{table}: owned by {APP_ROLE}"));
        }
        if !granted {
            problems.push(format!(
                "{table}: {APP_ROLE} lacks SELECT/INSERT/UPDATE/DELETE"
            ));
        }
        if !has_tenant_id {
            continue;
        }
        tenant_tables.push(table.clone());
        if !enabled {
            problems.push(format!("{table}: row-level security not enabled"));
        }
        if !forced {
            problems.push(format!("{table}: row-level security not forced"));
        }
        if policies == 0 {
            problems.push(format!("{table}: no policy"));
        } else if keyed_policies == 0 {
            problems.push(format!("{table}: no policy mentions app.tenant_id"));
        }
    }

    assert!(
        tenant_tables.iter().any(|t| t == "memberships"),
        "expected tenant tables, memberships among them; found {tenant_tables:?}"
    );
    assert!(
        problems.is_empty(),
        "row-level security gaps:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
#[cfg_attr(
    not(refhub_postgres),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL"
)]
async fn the_app_role_cannot_bypass_row_level_security() {
    require_postgres();
    let app = spawn_app().await;
    let admin = connect(app.admin_database_url.as_deref().expect("admin URL")).await;

    let row = admin
        .query_one_raw(statement(format!(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = '{APP_ROLE}'"
        )))
        .await
        .expect("pg_roles")
        .unwrap_or_else(|| panic!("role {APP_ROLE} does not exist"));
    let superuser: bool = row.try_get_by_index(0).unwrap();
    let bypass: bool = row.try_get_by_index(1).unwrap();
    assert!(!superuser, "{APP_ROLE} is a superuser");
    assert!(!bypass, "{APP_ROLE} has BYPASSRLS");

    // And the app really connects as it.
    let as_app = connect(&app.database_url).await;
    assert_eq!(
        strings(&as_app, "SELECT current_user::text").await,
        [APP_ROLE]
    );
}

/// `tenant_id` of every visible membership, inside a transaction with `app.tenant_id` set.
async fn visible_tenants(db: &DatabaseConnection, tenant: Option<&str>) -> Vec<String> {
    let tx = db.begin().await.expect("begin");
    if let Some(tenant) = tenant {
        tx.query_one_raw(statement(format!(
            "SELECT set_config('app.tenant_id', '{}', true)",
            tenant.replace('\'', "''")
        )))
        .await
        .expect("set_config");
    }
    let visible = strings(&tx, "SELECT tenant_id::text FROM memberships").await;
    tx.commit().await.expect("commit");
    visible
}

#[tokio::test]
#[cfg_attr(
    not(refhub_postgres),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL"
)]
async fn the_app_role_sees_only_the_rows_of_the_tenant_it_is_set_to() {
    require_postgres();
    let app = spawn_app().await;
    let a = app.sign_up("owner-a@example.com", "Tenant A").await;
    app.member_of(&a, "member-a@example.com", "VIEWER").await;
    let b = app.sign_up("owner-b@example.com", "Tenant B").await;
    let all = strings(
        &connect(app.admin_database_url.as_deref().expect("admin URL")).await,
        "SELECT tenant_id::text FROM memberships",
    )
    .await;
    assert!(all.len() >= 4, "memberships as the owner: {all:?}");

    let as_app = connect(&app.database_url).await;

    let seen_by_a = visible_tenants(&as_app, Some(a.tenant())).await;
    let seen_by_b = visible_tenants(&as_app, Some(b.tenant())).await;
    assert_eq!(seen_by_a, [a.tenant(), a.tenant()]);
    assert_eq!(seen_by_b, [b.tenant()]);

    // Without the setting: nothing, on a fresh connection and on one that had it set before
    // (where PostgreSQL reports the setting as '' rather than NULL).
    let fresh = connect(&app.database_url).await;
    assert_eq!(visible_tenants(&fresh, None).await, Vec::<String>::new());
    assert_eq!(visible_tenants(&as_app, None).await, Vec::<String>::new());
}
