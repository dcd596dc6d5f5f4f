//! Column and key shapes every migration uses, written once.

use sea_orm_migration::prelude::*;

/// A required UUID column.
pub fn uuid(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().to_owned()
}

/// A required text column.
pub fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}

/// An optional text column.
pub fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string().null().to_owned()
}

/// A required timestamp (UTC).
pub fn at(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// An optional timestamp (UTC).
pub fn at_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

/// Adds the foreign key from `table.tenant_col` to the tenant (deleting a tenant deletes its
/// rows).
pub fn belongs_to_tenant(
    create: &mut TableCreateStatement,
    table: impl IntoIden,
    tenant_col: impl IntoIden,
) -> TableCreateStatement {
    create
        .foreign_key(
            ForeignKey::create()
                .from(table, tenant_col)
                .to(Tenants::Table, Tenants::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// A foreign key from `(tenant_id, col)` to `(tenant_id, id)` of `target`: a row can only ever
/// point at a row of its own tenant.
pub fn tenant_fk(
    table: impl IntoIden,
    tenant_col: impl IntoIden,
    col: impl IntoIden,
    target: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    let tenant_col = tenant_col.into_iden();
    ForeignKey::create()
        .from_tbl(table)
        .from_col(tenant_col.clone())
        .from_col(col)
        .to_tbl(target)
        .to_col(tenant_col)
        .to_col(Alias::new("id"))
        .on_delete(on_delete)
        .to_owned()
}

/// An index over `cols`.
pub fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}

/// A unique index over `cols`.
pub fn unique_index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}
