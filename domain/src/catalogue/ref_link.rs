//! m.me ref links: `https://m.me/<page>?ref=<ref>[&text=<text>]`, with what happens when
//! someone arrives through one (default field for the first payload value, tags to add).

use chrono::{DateTime, Utc};

use crate::catalogue::links::{MAX_ENCODED_REF_CHARS, encode_query_value, mme_url};
use crate::catalogue::page::PageHandle;
use crate::catalogue::qr_capacity;
use crate::catalogue::ref_payload::RefName;
use crate::error::{DomainError, DomainResult};
use crate::ids::{CustomFieldId, FlowId, PageId, RefLinkId, TagId, TenantId};
use crate::text;

/// Longest prefilled message accepted (Messenger's text limit is 2,000; the link stays short).
pub const MAX_PREFILLED_TEXT_CHARS: usize = 1000;

/// A ref link.
#[derive(Debug, Clone)]
pub struct RefLink {
    /// Its id.
    pub id: RefLinkId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The page it opens a conversation with.
    pub page_id: PageId,
    /// The `ref` (unique per page).
    pub ref_name: RefName,
    /// A message prefilled in the composer.
    pub text: Option<String>,
    /// The field the first payload value fills.
    pub default_field_id: Option<CustomFieldId>,
    /// Tags added to everyone who arrives through it.
    pub tag_ids: Vec<TagId>,
    /// Whether arrivals through it are acted on.
    pub active: bool,
    /// The flow started for everyone who arrives through it.
    pub flow_id: Option<FlowId>,
    /// The code of its short URL (`/r/{code}`).
    pub short_code: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl RefLink {
    /// The link's m.me URL on `page`.
    pub fn url(&self, page: PageHandle<'_>) -> String {
        mme_url(page.0, self.ref_name.as_str(), self.text.as_deref())
    }

    /// The URL its QR code shows on `page`; refused (naming `ref` or `text`) when too long for
    /// one.
    pub fn qr_code_url(&self, page: PageHandle<'_>) -> DomainResult<String> {
        qr_capacity::qr_code_url(page, self.ref_name.as_str(), self.text.as_deref())
    }

    /// Fails, naming `ref` or `text`, when the link's URL would not fit a QR code on `page`
    /// with room for any username the page may take later.
    pub fn check_fits_qr_code(&self, page: PageHandle<'_>) -> DomainResult<()> {
        qr_capacity::check_saved_link_fits(page, self.ref_name.as_str(), self.text.as_deref())
    }
}

/// A ref link to create, as a client asked for it.
#[derive(Debug, Clone)]
pub struct RefLinkDraft {
    /// The page.
    pub page_id: PageId,
    /// The `ref`.
    pub ref_name: String,
    /// The prefilled message.
    pub text: Option<String>,
    /// The default field.
    pub default_field_id: Option<CustomFieldId>,
    /// Tags to add.
    pub tag_ids: Vec<TagId>,
    /// Whether it is active (default: yes).
    pub active: Option<bool>,
    /// The flow to start.
    pub flow_id: Option<FlowId>,
}

/// Changes to a ref link; `None` keeps a value, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct RefLinkChanges {
    /// A new `ref`.
    pub ref_name: Option<String>,
    /// A new prefilled message.
    pub text: Option<Option<String>>,
    /// A new default field.
    pub default_field_id: Option<Option<CustomFieldId>>,
    /// The new set of tags.
    pub tag_ids: Option<Vec<TagId>>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// A new flow to start.
    pub flow_id: Option<Option<FlowId>>,
}

/// Checks a `ref` for a link: the ref grammar, and Meta's limit on its encoded length.
pub fn validate_ref(raw: &str) -> DomainResult<RefName> {
    let name = RefName::parse(raw)?;
    check_encoded_length(name.as_str(), "ref")?;
    Ok(name)
}

/// Fails when `reference` would exceed Meta's 2,083 characters once percent-encoded.
pub fn check_encoded_length(reference: &str, field: &str) -> DomainResult<()> {
    let encoded = encode_query_value(reference).len();
    if encoded > MAX_ENCODED_REF_CHARS {
        return Err(DomainError::validation(
            field,
            format!(
                "the ref is {encoded} characters once URL-encoded; Meta accepts at most {MAX_ENCODED_REF_CHARS}"
            ),
        ));
    }
    Ok(())
}

/// Checks a prefilled message; blank means none. Errors name the field `text`.
pub fn validate_text(raw: Option<&str>) -> DomainResult<Option<String>> {
    text::optional_multiline(raw, "text", MAX_PREFILLED_TEXT_CHARS)
}

/// Removes repeated tag ids, keeping the first occurrence's order.
pub fn distinct_tags(tag_ids: Vec<TagId>) -> Vec<TagId> {
    let mut seen = std::collections::HashSet::new();
    tag_ids.into_iter().filter(|id| seen.insert(*id)).collect()
}
