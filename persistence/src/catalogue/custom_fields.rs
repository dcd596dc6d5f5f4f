use async_trait::async_trait;
use refhub_domain::catalogue::{CustomField, CustomFieldRepository, NewCustomField};
use refhub_domain::ids::{CustomFieldId, TenantId};
use refhub_domain::pagination::{Page as ListPage, PageRequest};
use refhub_domain::{DomainError, DomainResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use super::mapping;
use crate::Store;
use crate::entities::{custom_fields, ref_links};
use crate::error::internal;
use crate::id_list::among;
use crate::pagination::try_map_page;
use crate::scope::{self, run};

/// Attempts at taking the next free number when concurrent creations race for it.
const NUMBER_ATTEMPTS: usize = 5;

enum Clash {
    Name,
    Number,
}

/// Which unique key a violation hit (both engines name the index or its columns).
fn clash(err: &DbErr) -> Option<Clash> {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) if message.contains("name") => {
            Some(Clash::Name)
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => Some(Clash::Number),
        _ => None,
    }
}

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<custom_fields::Entity> {
    custom_fields::Entity::find().filter(custom_fields::Column::TenantId.eq(tenant_id.0))
}

fn name_taken() -> DomainError {
    DomainError::conflict("name", "a custom field with this name already exists")
}

impl Store {
    async fn insert_with_next_number(&self, field: &NewCustomField) -> Result<CustomField, DbErr> {
        let txn = scope::for_tenant_writing(&self.db, field.tenant_id).await?;
        let highest: Option<i32> = custom_fields::Entity::find()
            .select_only()
            .column(custom_fields::Column::Number)
            .filter(custom_fields::Column::TenantId.eq(field.tenant_id.0))
            .order_by_desc(custom_fields::Column::Number)
            .limit(1)
            .into_tuple()
            .one(&txn)
            .await?;
        let stored = CustomField {
            id: field.id,
            tenant_id: field.tenant_id,
            number: field.number.unwrap_or(highest.unwrap_or(0) + 1),
            name: field.name.clone(),
            field_type: field.field_type,
            description: field.description.clone(),
            archived_at: None,
            created_at: field.created_at,
            updated_at: field.created_at,
        };
        mapping::custom_field_row(&stored).insert(&txn).await?;
        txn.commit().await?;
        Ok(stored)
    }
}

#[async_trait]
impl CustomFieldRepository for Store {
    async fn create(&self, field: &NewCustomField) -> DomainResult<CustomField> {
        for _ in 0..NUMBER_ATTEMPTS {
            match self.insert_with_next_number(field).await {
                Ok(stored) => return Ok(stored),
                Err(err) => match clash(&err) {
                    Some(Clash::Name) => return Err(name_taken()),
                    Some(Clash::Number) if field.number.is_none() => continue,
                    Some(Clash::Number) => {
                        return Err(DomainError::conflict(
                            "number",
                            "another custom field already has this number",
                        ));
                    }
                    None => return Err(internal(err)),
                },
            }
        }
        Err(DomainError::conflict(
            "name",
            "too many fields are being created at once; try again",
        ))
    }

    async fn find(
        &self,
        tenant_id: TenantId,
        id: CustomFieldId,
    ) -> DomainResult<Option<CustomField>> {
        let query = in_tenant(tenant_id).filter(custom_fields::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::custom_field)
            .transpose()
    }

    async fn find_many(
        &self,
        tenant_id: TenantId,
        ids: &[CustomFieldId],
    ) -> DomainResult<Vec<CustomField>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = in_tenant(tenant_id).filter(among(
            self.db.get_database_backend(),
            custom_fields::Column::Id,
            ids.iter().map(|id| id.0),
        ));
        run::all(&self.db, tenant_id, query)
            .await?
            .into_iter()
            .map(mapping::custom_field)
            .collect()
    }

    async fn find_by_number(
        &self,
        tenant_id: TenantId,
        number: i32,
    ) -> DomainResult<Option<CustomField>> {
        let query = in_tenant(tenant_id).filter(custom_fields::Column::Number.eq(number));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::custom_field)
            .transpose()
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        include_archived: bool,
        page: PageRequest,
    ) -> DomainResult<ListPage<CustomField>> {
        let mut query = in_tenant(tenant_id);
        if !include_archived {
            query = query.filter(custom_fields::Column::ArchivedAt.is_null());
        }
        let rows = run::page(&self.db, tenant_id, query, custom_fields::Column::Id, page).await?;
        try_map_page(rows, mapping::custom_field)
    }

    async fn update(&self, field: &CustomField) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, field.tenant_id)
            .await
            .map_err(internal)?;
        mapping::custom_field_row(field)
            .update(&txn)
            .await
            .map_err(|err| match clash(&err) {
                Some(Clash::Name) => name_taken(),
                _ => internal(err),
            })?;
        txn.commit().await.map_err(internal)
    }

    async fn delete(&self, tenant_id: TenantId, id: CustomFieldId) -> DomainResult<bool> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        ref_links::Entity::update_many()
            .col_expr(
                ref_links::Column::DefaultFieldId,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .filter(ref_links::Column::TenantId.eq(tenant_id.0))
            .filter(ref_links::Column::DefaultFieldId.eq(id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        let result = custom_fields::Entity::delete_by_id((tenant_id.0, id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected > 0)
    }
}
