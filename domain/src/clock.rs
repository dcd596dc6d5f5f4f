//! Time as a port, so that use cases can be tested at any instant.

use chrono::{DateTime, SubsecRound, Utc};

/// Tells the current time in UTC.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // PostgreSQL keeps microseconds: an instant answered by a mutation must read back the
        // same from the database.
        Utc::now().trunc_subsecs(6)
    }
}
