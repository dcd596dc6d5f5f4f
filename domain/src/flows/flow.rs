//! A flow: a named list of steps, run for one subscriber at a time.

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult};
use crate::flows::step::{FlowStep, MAX_STEPS};
use crate::ids::{FlowId, TenantId};
use crate::text;

/// Longest flow name.
pub const MAX_FLOW_NAME_CHARS: usize = 100;

/// A flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Its id.
    pub id: FlowId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub name: String,
    /// Its steps, in order.
    pub steps: Vec<FlowStep>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A flow's name: one line, 1 to 100 characters.
pub fn flow_name(raw: &str) -> DomainResult<String> {
    text::single_line(raw, "name", MAX_FLOW_NAME_CHARS)
}

/// Checks the number of steps (1 to 50).
pub fn step_count(steps: &[FlowStep]) -> DomainResult<()> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(DomainError::validation(
            "steps",
            format!("a flow has between 1 and {MAX_STEPS} steps"),
        ));
    }
    Ok(())
}
