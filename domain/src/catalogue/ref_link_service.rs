//! Creating ref links, and rendering links that carry payload values for custom fields.

use std::sync::Arc;

use crate::analytics::short_code_for;
use crate::catalogue::custom_field::CustomField;
use crate::catalogue::links::mme_url;
use crate::catalogue::page::Page;
use crate::catalogue::ports::{
    CustomFieldRepository, PageRepository, RefLinkRepository, TagRepository,
};
use crate::catalogue::ref_link::{
    RefLink, RefLinkChanges, RefLinkDraft, check_encoded_length, distinct_tags, validate_ref,
    validate_text,
};
use crate::catalogue::ref_payload::{PayloadPair, check_payload_value, render_ref};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::flows::FlowRepository;
use crate::identity::{Principal, Role};
use crate::ids::{CustomFieldId, FlowId, PageId, RefLinkId, TagId, TenantId};
use crate::pagination::{Page as ListPage, PageRequest};

/// Most tags one link may add.
pub const MAX_TAGS_PER_LINK: usize = 20;

/// A value for one custom field in a payload link.
#[derive(Debug, Clone)]
pub struct PayloadFieldValue {
    /// The field.
    pub field_id: CustomFieldId,
    /// The value, as it will travel in the ref.
    pub value: String,
}

/// The ref link use cases: editors change links, every member reads them.
pub struct RefLinkService {
    links: Arc<dyn RefLinkRepository>,
    pages: Arc<dyn PageRepository>,
    fields: Arc<dyn CustomFieldRepository>,
    tags: Arc<dyn TagRepository>,
    flows: Arc<dyn FlowRepository>,
    clock: Arc<dyn Clock>,
}

impl RefLinkService {
    /// Builds the service.
    pub fn new(
        links: Arc<dyn RefLinkRepository>,
        pages: Arc<dyn PageRepository>,
        fields: Arc<dyn CustomFieldRepository>,
        tags: Arc<dyn TagRepository>,
        flows: Arc<dyn FlowRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            links,
            pages,
            fields,
            tags,
            flows,
            clock,
        }
    }

    /// Creates a link on a page.
    pub async fn create(
        &self,
        principal: &Principal,
        draft: RefLinkDraft,
    ) -> DomainResult<RefLink> {
        let access = principal.require_role(Role::Editor)?;
        let tenant_id = access.tenant_id;
        let page = self.page_in(tenant_id, draft.page_id, "pageId").await?;
        let ref_name = validate_ref(&draft.ref_name)?;
        let text = validate_text(draft.text.as_deref())?;
        if let Some(field_id) = draft.default_field_id {
            self.usable_field(tenant_id, field_id, "defaultFieldId")
                .await?;
        }
        let tag_ids = self.existing_tags(tenant_id, draft.tag_ids).await?;
        if let Some(flow_id) = draft.flow_id {
            self.flow_in(tenant_id, flow_id).await?;
        }
        let now = self.clock.now();
        let id = RefLinkId::generate();
        let link = RefLink {
            id,
            short_code: short_code_for(id),
            tenant_id,
            page_id: draft.page_id,
            ref_name,
            text,
            default_field_id: draft.default_field_id,
            tag_ids,
            active: draft.active.unwrap_or(true),
            flow_id: draft.flow_id,
            created_at: now,
            updated_at: now,
        };
        link.check_fits_qr_code(page.handle())?;
        self.links.create(&link).await?;
        Ok(link)
    }

    /// Changes a link.
    pub async fn update(
        &self,
        principal: &Principal,
        id: RefLinkId,
        changes: RefLinkChanges,
    ) -> DomainResult<RefLink> {
        let access = principal.require_role(Role::Editor)?;
        let tenant_id = access.tenant_id;
        let mut link = self.link_in(tenant_id, id).await?;
        // Only a new ref or text is checked against the QR capacity: a link stored before the
        // rule keeps taking other changes.
        let url_changes = changes.ref_name.is_some() || changes.text.is_some();
        if let Some(ref_name) = changes.ref_name {
            link.ref_name = validate_ref(&ref_name)?;
        }
        if let Some(text) = changes.text {
            link.text = validate_text(text.as_deref())?;
        }
        if let Some(default_field_id) = changes.default_field_id {
            if let Some(field_id) = default_field_id {
                self.usable_field(tenant_id, field_id, "defaultFieldId")
                    .await?;
            }
            link.default_field_id = default_field_id;
        }
        if let Some(tag_ids) = changes.tag_ids {
            link.tag_ids = self.existing_tags(tenant_id, tag_ids).await?;
        }
        if let Some(active) = changes.active {
            link.active = active;
        }
        if let Some(flow_id) = changes.flow_id {
            if let Some(flow_id) = flow_id {
                self.flow_in(tenant_id, flow_id).await?;
            }
            link.flow_id = flow_id;
        }
        if url_changes {
            let page = self.page_of(&link).await?;
            link.check_fits_qr_code(page.handle())?;
        }
        link.updated_at = self.clock.now();
        self.links.update(&link).await?;
        Ok(link)
    }

    /// Deletes a link.
    pub async fn delete(&self, principal: &Principal, id: RefLinkId) -> DomainResult<RefLinkId> {
        let access = principal.require_role(Role::Editor)?;
        if !self.links.delete(access.tenant_id, id).await? {
            return Err(DomainError::not_found_in("ref link", "id"));
        }
        Ok(id)
    }

    /// A link by id.
    pub async fn get(&self, principal: &Principal, id: RefLinkId) -> DomainResult<RefLink> {
        let access = principal.require_role(Role::Viewer)?;
        self.link_in(access.tenant_id, id).await
    }

    /// A page's links.
    pub async fn list_for_page(
        &self,
        principal: &Principal,
        page_id: PageId,
        page: PageRequest,
    ) -> DomainResult<ListPage<RefLink>> {
        let access = principal.require_role(Role::Viewer)?;
        self.page_in(access.tenant_id, page_id, "pageId").await?;
        self.links
            .list_for_page(access.tenant_id, page_id, page)
            .await
    }

    /// The link's page (for its m.me handle).
    pub async fn page_of(&self, link: &RefLink) -> DomainResult<Page> {
        self.page_in(link.tenant_id, link.page_id, "pageId").await
    }

    /// The link's URL on its page.
    pub async fn url(&self, link: &RefLink) -> DomainResult<String> {
        let page = self.page_of(link).await?;
        Ok(link.url(page.handle()))
    }

    /// The URL the link's QR code shows; a stored link too long for one is refused with a
    /// validation error naming the field to shorten.
    pub async fn qr_code_url(&self, link: &RefLink) -> DomainResult<String> {
        let page = self.page_of(link).await?;
        link.qr_code_url(page.handle())
    }

    /// A URL that fills custom fields when followed: `defaultValue` goes to the link's default
    /// field, each other value to its field by number. Every value is checked against its
    /// field's type and against the characters a ref can carry.
    pub async fn payload_url(
        &self,
        principal: &Principal,
        link: &RefLink,
        default_value: Option<&str>,
        values: &[PayloadFieldValue],
    ) -> DomainResult<String> {
        let access = principal.require_role(Role::Viewer)?;
        let tenant_id = access.tenant_id;
        let default_value = match default_value {
            None => None,
            Some(value) => {
                let field_id = link.default_field_id.ok_or_else(|| {
                    DomainError::validation(
                        "defaultValue",
                        "this link has no default field; give the value with its field instead",
                    )
                })?;
                let field = self
                    .usable_field(tenant_id, field_id, "defaultValue")
                    .await?;
                Some(payload_value(&field, value, "defaultValue")?)
            }
        };
        let mut pairs = Vec::with_capacity(values.len());
        for (index, entry) in values.iter().enumerate() {
            let field = self
                .usable_field(
                    tenant_id,
                    entry.field_id,
                    &format!("fields[{index}].fieldId"),
                )
                .await?;
            pairs.push(PayloadPair {
                field_number: u32::try_from(field.number).map_err(|_| {
                    DomainError::validation(
                        format!("fields[{index}].fieldId"),
                        "has no usable number",
                    )
                })?,
                value: payload_value(&field, &entry.value, &format!("fields[{index}].value"))?,
            });
        }
        let reference =
            render_ref(&link.ref_name, default_value.as_deref(), &pairs).map_err(|err| {
                let field = match err.index {
                    None => "defaultValue".to_owned(),
                    Some(index) => format!("fields[{index}].value"),
                };
                DomainError::validation(field, err.message)
            })?;
        check_encoded_length(&reference, "fields")?;
        let page = self.page_of(link).await?;
        Ok(mme_url(page.handle().0, &reference, link.text.as_deref()))
    }

    async fn link_in(&self, tenant_id: TenantId, id: RefLinkId) -> DomainResult<RefLink> {
        self.links
            .find(tenant_id, id)
            .await?
            .ok_or(DomainError::not_found_in("ref link", "id"))
    }

    async fn flow_in(&self, tenant_id: TenantId, id: FlowId) -> DomainResult<()> {
        self.flows
            .find(tenant_id, id)
            .await?
            .map(|_| ())
            .ok_or_else(|| DomainError::not_found_in("flow", "flowId"))
    }

    async fn page_in(&self, tenant_id: TenantId, id: PageId, field: &str) -> DomainResult<Page> {
        self.pages
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("page", field))
    }

    async fn usable_field(
        &self,
        tenant_id: TenantId,
        id: CustomFieldId,
        field: &str,
    ) -> DomainResult<CustomField> {
        let custom_field = self
            .fields
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("custom field", field))?;
        if custom_field.is_archived() {
            return Err(DomainError::validation(
                field,
                "this custom field is archived",
            ));
        }
        Ok(custom_field)
    }

    async fn existing_tags(
        &self,
        tenant_id: TenantId,
        tag_ids: Vec<TagId>,
    ) -> DomainResult<Vec<TagId>> {
        let tag_ids = distinct_tags(tag_ids);
        if tag_ids.len() > MAX_TAGS_PER_LINK {
            return Err(DomainError::validation(
                "tagIds",
                format!("at most {MAX_TAGS_PER_LINK} tags per link"),
            ));
        }
        let found = self.tags.find_many(tenant_id, &tag_ids).await?;
        if let Some(index) = tag_ids
            .iter()
            .position(|id| !found.iter().any(|tag| tag.id == *id))
        {
            return Err(DomainError::not_found_in("tag", format!("tagIds[{index}]")));
        }
        Ok(tag_ids)
    }
}

/// A value checked against its field's type and the ref alphabet, as it will travel.
fn payload_value(field: &CustomField, value: &str, input_field: &str) -> DomainResult<String> {
    field
        .field_type
        .parse_value(value)
        .map_err(|err| err.into_domain(input_field))?;
    let value = value.trim();
    check_payload_value(value).map_err(|err| err.into_domain(input_field))?;
    Ok(value.to_owned())
}
