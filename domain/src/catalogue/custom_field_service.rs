//! Defining custom fields.

use std::sync::Arc;

use crate::audience::SubscriberRepository;
use crate::catalogue::custom_field::{
    CustomField, CustomFieldChanges, NewCustomField, validate_description, validate_field_name,
    validate_field_number,
};
use crate::catalogue::field_type::FieldType;
use crate::catalogue::ports::CustomFieldRepository;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::CustomFieldId;
use crate::pagination::{Page as ListPage, PageRequest};

/// The custom field use cases: editors define fields, every member reads them.
pub struct CustomFieldService {
    fields: Arc<dyn CustomFieldRepository>,
    values: Arc<dyn SubscriberRepository>,
    clock: Arc<dyn Clock>,
}

impl CustomFieldService {
    /// Builds the service.
    pub fn new(
        fields: Arc<dyn CustomFieldRepository>,
        values: Arc<dyn SubscriberRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            fields,
            values,
            clock,
        }
    }

    /// Creates a field with the number asked for, or the next free one.
    pub async fn create(
        &self,
        principal: &Principal,
        name: &str,
        field_type: FieldType,
        description: Option<&str>,
        number: Option<i32>,
    ) -> DomainResult<CustomField> {
        let access = principal.require_role(Role::Editor)?;
        let field = NewCustomField {
            id: CustomFieldId::generate(),
            number: validate_field_number(number)?,
            tenant_id: access.tenant_id,
            name: validate_field_name(name)?,
            field_type,
            description: validate_description(description)?,
            created_at: self.clock.now(),
        };
        self.fields.create(&field).await
    }

    /// Renames, describes, archives or restores a field, or changes its type.
    pub async fn update(
        &self,
        principal: &Principal,
        id: CustomFieldId,
        changes: CustomFieldChanges,
    ) -> DomainResult<CustomField> {
        let access = principal.require_role(Role::Editor)?;
        let mut field = self
            .fields
            .find(access.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found_in("custom field", "id"))?;
        let now = self.clock.now();
        if let Some(name) = changes.name {
            field.name = validate_field_name(&name)?;
        }
        if let Some(description) = changes.description {
            field.description = validate_description(description.as_deref())?;
        }
        if let Some(field_type) = changes.field_type {
            if field_type != field.field_type
                && self.values.field_has_values(access.tenant_id, id).await?
            {
                return Err(DomainError::conflict(
                    "type",
                    "subscribers already have values for this field; its type can no longer change",
                ));
            }
            field.field_type = field_type;
        }
        if let Some(archived) = changes.archived {
            field.archived_at = match (archived, field.archived_at) {
                (true, None) => Some(now),
                (true, since) => since,
                (false, _) => None,
            };
        }
        field.updated_at = now;
        self.fields.update(&field).await?;
        Ok(field)
    }

    /// Deletes a field.
    pub async fn delete(
        &self,
        principal: &Principal,
        id: CustomFieldId,
    ) -> DomainResult<CustomFieldId> {
        let access = principal.require_role(Role::Editor)?;
        if !self.fields.delete(access.tenant_id, id).await? {
            return Err(DomainError::not_found_in("custom field", "id"));
        }
        Ok(id)
    }

    /// The tenant's fields, by number.
    pub async fn list(
        &self,
        principal: &Principal,
        include_archived: bool,
        page: PageRequest,
    ) -> DomainResult<ListPage<CustomField>> {
        let access = principal.require_role(Role::Viewer)?;
        self.fields
            .list(access.tenant_id, include_archived, page)
            .await
    }

    /// Fields by ids (ids of other tenants are left out).
    pub async fn get_many(
        &self,
        principal: &Principal,
        ids: &[CustomFieldId],
    ) -> DomainResult<Vec<CustomField>> {
        let access = principal.require_role(Role::Viewer)?;
        self.fields.find_many(access.tenant_id, ids).await
    }

    /// A field by id.
    pub async fn get(&self, principal: &Principal, id: CustomFieldId) -> DomainResult<CustomField> {
        let access = principal.require_role(Role::Viewer)?;
        self.fields
            .find(access.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found_in("custom field", "id"))
    }
}
