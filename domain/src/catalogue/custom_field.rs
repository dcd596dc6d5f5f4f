//! Custom field definitions: typed slots on subscribers, filled by ref payloads and flows.

use chrono::{DateTime, Utc};

use crate::catalogue::field_type::FieldType;
use crate::error::DomainResult;
use crate::ids::{CustomFieldId, TenantId};
use crate::text;

/// Longest field name accepted.
pub const MAX_FIELD_NAME_CHARS: usize = 100;
/// Longest field description accepted.
pub const MAX_FIELD_DESCRIPTION_CHARS: usize = 1000;

/// A custom field. Its `number` is short and unique in the tenant: ref payloads name fields by
/// it (`ref--NUMBER--value`).
#[derive(Debug, Clone)]
pub struct CustomField {
    /// Its id.
    pub id: CustomFieldId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its number in ref payloads.
    pub number: i32,
    /// Its name, unique (case-insensitively) in the tenant.
    pub name: String,
    /// The type its values must fit.
    pub field_type: FieldType,
    /// What it is for.
    pub description: Option<String>,
    /// When it was archived (hidden from pickers; payloads no longer fill it).
    pub archived_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl CustomField {
    /// Whether it is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// Highest field number accepted (numbers stay short inside refs).
pub const MAX_FIELD_NUMBER: i32 = 99_999;

/// A field to create; without a number the repository assigns the next free one.
#[derive(Debug, Clone)]
pub struct NewCustomField {
    /// Its id.
    pub id: CustomFieldId,
    /// The number asked for, if any.
    pub number: Option<i32>,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub name: String,
    /// Its type.
    pub field_type: FieldType,
    /// Its description.
    pub description: Option<String>,
    /// When it is created.
    pub created_at: DateTime<Utc>,
}

/// Changes to a field; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct CustomFieldChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// A new type (only while no subscriber has a value for it).
    pub field_type: Option<FieldType>,
    /// Archive (`true`) or restore (`false`).
    pub archived: Option<bool>,
}

/// Checks a requested field number; errors name the field `number`.
pub fn validate_field_number(number: Option<i32>) -> DomainResult<Option<i32>> {
    match number {
        Some(n) if !(1..=MAX_FIELD_NUMBER).contains(&n) => {
            Err(crate::error::DomainError::validation(
                "number",
                format!("must be between 1 and {MAX_FIELD_NUMBER}"),
            ))
        }
        other => Ok(other),
    }
}

/// Checks a field name; errors name the field `name`.
pub fn validate_field_name(raw: &str) -> DomainResult<String> {
    text::single_line(raw, "name", MAX_FIELD_NAME_CHARS)
}

/// Checks a description; errors name the field `description`.
pub fn validate_description(raw: Option<&str>) -> DomainResult<Option<String>> {
    text::optional_multiline(raw, "description", MAX_FIELD_DESCRIPTION_CHARS)
}
