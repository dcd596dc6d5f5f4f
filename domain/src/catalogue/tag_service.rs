//! Creating, renaming and deleting tags.

use std::sync::Arc;

use crate::catalogue::ports::TagRepository;
use crate::catalogue::tag::{Tag, TagName};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::TagId;
use crate::pagination::{Page as ListPage, PageRequest};

/// The tag use cases: editors change tags, every member reads them.
pub struct TagService {
    tags: Arc<dyn TagRepository>,
    clock: Arc<dyn Clock>,
}

impl TagService {
    /// Builds the service.
    pub fn new(tags: Arc<dyn TagRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { tags, clock }
    }

    /// Creates a tag.
    pub async fn create(&self, principal: &Principal, name: &str) -> DomainResult<Tag> {
        let access = principal.require_role(Role::Editor)?;
        let tag = Tag {
            id: TagId::generate(),
            tenant_id: access.tenant_id,
            name: TagName::parse(name)?.0,
            created_at: self.clock.now(),
        };
        self.tags.create(&tag).await?;
        Ok(tag)
    }

    /// Renames a tag.
    pub async fn rename(&self, principal: &Principal, id: TagId, name: &str) -> DomainResult<Tag> {
        let access = principal.require_role(Role::Editor)?;
        let name = TagName::parse(name)?;
        let mut tag = self
            .tags
            .find(access.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found_in("tag", "id"))?;
        tag.name = name.0;
        self.tags.update(&tag).await?;
        Ok(tag)
    }

    /// Deletes a tag, taking it off links (and, later, subscribers).
    pub async fn delete(&self, principal: &Principal, id: TagId) -> DomainResult<TagId> {
        let access = principal.require_role(Role::Editor)?;
        if !self.tags.delete(access.tenant_id, id).await? {
            return Err(DomainError::not_found_in("tag", "id"));
        }
        Ok(id)
    }

    /// The tenant's tags.
    pub async fn list(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> DomainResult<ListPage<Tag>> {
        let access = principal.require_role(Role::Viewer)?;
        self.tags.list(access.tenant_id, page).await
    }

    /// Tags by ids, in the order given (ids of other tenants are left out).
    pub async fn get_many(&self, principal: &Principal, ids: &[TagId]) -> DomainResult<Vec<Tag>> {
        let access = principal.require_role(Role::Viewer)?;
        let mut tags = self.tags.find_many(access.tenant_id, ids).await?;
        tags.sort_by_key(|tag| ids.iter().position(|id| *id == tag.id));
        Ok(tags)
    }

    /// A tag by id.
    pub async fn get(&self, principal: &Principal, id: TagId) -> DomainResult<Tag> {
        let access = principal.require_role(Role::Viewer)?;
        self.tags
            .find(access.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found_in("tag", "id"))
    }
}
