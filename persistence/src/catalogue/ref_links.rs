use std::collections::HashMap;

use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{RefLink, RefLinkRepository};
use refhub_domain::ids::{PageId, RefLinkId, TagId, TenantId};
use refhub_domain::pagination::{Page as ListPage, PageRequest};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::mapping;
use crate::Store;
use crate::entities::{ref_link_tags, ref_links};
use crate::error::{internal, unique_as_conflict};
use crate::id_list::among;
use crate::pagination::keyset_page;
use crate::scope;

const REF_TAKEN: &str = "this page already has a link with this ref";

/// The tags of each link, in the order they were given.
async fn tags_of(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    link_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<TagId>>> {
    let mut by_link: HashMap<Uuid, Vec<TagId>> = HashMap::new();
    if link_ids.is_empty() {
        return Ok(by_link);
    }
    let rows = ref_link_tags::Entity::find()
        .filter(ref_link_tags::Column::TenantId.eq(tenant_id.0))
        .filter(among(
            txn.get_database_backend(),
            ref_link_tags::Column::RefLinkId,
            link_ids.iter().copied(),
        ))
        .order_by_asc(ref_link_tags::Column::TagId)
        .all(txn)
        .await
        .map_err(internal)?;
    for row in rows {
        by_link
            .entry(row.ref_link_id)
            .or_default()
            .push(row.tag_id.into());
    }
    Ok(by_link)
}

async fn replace_tags(txn: &DatabaseTransaction, link: &RefLink) -> DomainResult<()> {
    ref_link_tags::Entity::delete_many()
        .filter(ref_link_tags::Column::TenantId.eq(link.tenant_id.0))
        .filter(ref_link_tags::Column::RefLinkId.eq(link.id.0))
        .exec(txn)
        .await
        .map_err(internal)?;
    if link.tag_ids.is_empty() {
        return Ok(());
    }
    let rows = link
        .tag_ids
        .iter()
        .map(|tag_id| ref_link_tags::ActiveModel {
            tenant_id: Set(link.tenant_id.0),
            ref_link_id: Set(link.id.0),
            tag_id: Set(tag_id.0),
        });
    ref_link_tags::Entity::insert_many(rows)
        .exec(txn)
        .await
        .map_err(internal)?;
    Ok(())
}

impl Store {
    /// The link `query` selects, with its tags, read in one tenant transaction.
    async fn one_with_tags(
        &self,
        tenant_id: TenantId,
        query: sea_orm::Select<ref_links::Entity>,
    ) -> DomainResult<Option<RefLink>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let Some(row) = query.one(&txn).await.map_err(internal)? else {
            return Ok(None);
        };
        let mut tags = tags_of(&txn, tenant_id, &[row.id]).await?;
        txn.commit().await.map_err(internal)?;
        let tag_ids = tags.remove(&row.id).unwrap_or_default();
        mapping::ref_link(row, tag_ids).map(Some)
    }
}

#[async_trait]
impl RefLinkRepository for Store {
    async fn create(&self, link: &RefLink) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, link.tenant_id)
            .await
            .map_err(internal)?;
        mapping::ref_link_row(link)
            .insert(&txn)
            .await
            .map_err(|err| unique_as_conflict(err, "ref", REF_TAKEN))?;
        replace_tags(&txn, link).await?;
        txn.commit().await.map_err(internal)
    }

    async fn find(&self, tenant_id: TenantId, id: RefLinkId) -> DomainResult<Option<RefLink>> {
        let query = ref_links::Entity::find()
            .filter(ref_links::Column::TenantId.eq(tenant_id.0))
            .filter(ref_links::Column::Id.eq(id.0));
        self.one_with_tags(tenant_id, query).await
    }

    async fn find_by_ref(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        ref_name: &str,
    ) -> DomainResult<Option<RefLink>> {
        let query = ref_links::Entity::find()
            .filter(ref_links::Column::TenantId.eq(tenant_id.0))
            .filter(ref_links::Column::PageId.eq(page_id.0))
            .filter(ref_links::Column::RefName.eq(ref_name));
        self.one_with_tags(tenant_id, query).await
    }

    async fn list_for_page(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        page: PageRequest,
    ) -> DomainResult<ListPage<RefLink>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let query = ref_links::Entity::find()
            .filter(ref_links::Column::TenantId.eq(tenant_id.0))
            .filter(ref_links::Column::PageId.eq(page_id.0));
        let rows = keyset_page(&txn, query, ref_links::Column::Id, page)
            .await
            .map_err(internal)?;
        let ids: Vec<Uuid> = rows.items.iter().map(|row| row.id).collect();
        let mut tags = tags_of(&txn, tenant_id, &ids).await?;
        txn.commit().await.map_err(internal)?;
        let items = rows
            .items
            .into_iter()
            .map(|row| {
                let tag_ids = tags.remove(&row.id).unwrap_or_default();
                mapping::ref_link(row, tag_ids)
            })
            .collect::<DomainResult<_>>()?;
        Ok(ListPage {
            items,
            has_next_page: rows.has_next_page,
            total_count: rows.total_count,
        })
    }

    async fn update(&self, link: &RefLink) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, link.tenant_id)
            .await
            .map_err(internal)?;
        mapping::ref_link_row(link)
            .update(&txn)
            .await
            .map_err(|err| unique_as_conflict(err, "ref", REF_TAKEN))?;
        replace_tags(&txn, link).await?;
        txn.commit().await.map_err(internal)
    }

    async fn delete(&self, tenant_id: TenantId, id: RefLinkId) -> DomainResult<bool> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let result = ref_links::Entity::delete_by_id((tenant_id.0, id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected > 0)
    }
}
