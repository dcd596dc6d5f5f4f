//! The lists shown beside subscribers (field values, tags, opt-ins), read for many at once.

use crate::audience::subscriber::{FieldValueRecord, OptIn};
use crate::catalogue::{CustomField, Tag};
use crate::ids::SubscriberId;

/// Which of their lists to read with a set of subscribers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetailSelection {
    pub fields: bool,
    pub tags: bool,
    pub opt_ins: bool,
}

impl DetailSelection {
    /// Whether any list is asked for.
    pub fn any(self) -> bool {
        self.fields || self.tags || self.opt_ins
    }
}

/// The lists read for a set of subscribers, each `None` where it was not asked for. Each
/// subscriber's share comes in a stable order: field values by field number, tags by name,
/// opt-ins oldest first.
#[derive(Debug, Default)]
pub struct SubscriberDetails {
    /// Field values, each with its field.
    pub fields: Option<Vec<(SubscriberId, FieldValueRecord, CustomField)>>,
    pub tags: Option<Vec<(SubscriberId, Tag)>>,
    pub opt_ins: Option<Vec<OptIn>>,
}
