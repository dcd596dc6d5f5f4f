//! Counts of large subscriber lists, remembered for a few seconds.
//!
//! Counting a million rows takes tens of milliseconds however it is indexed, and a dashboard
//! asks for the count with every page it shows. Lists under [`LARGE`] are counted every time
//! (exact, and cheap); a list that was large when last counted answers that count for up to
//! [`FRESH_FOR`] — by then it is a figure people read as "about", not a key to page by.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// From how many rows a count is remembered.
pub(crate) const LARGE: u64 = 10_000;
/// How long a remembered count is used.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(10);
/// Most counts held at once; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// Remembered counts, by list (tenant, page and filter).
#[derive(Default)]
pub(crate) struct CountCache {
    entries: Mutex<HashMap<String, (Instant, u64)>>,
}

impl CountCache {
    /// A large count for `key` counted less than [`FRESH_FOR`] ago.
    pub(crate) fn fresh(&self, key: &str) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, count)| *count >= LARGE && at.elapsed() < FRESH_FOR)
            .map(|(_, count)| *count)
    }

    /// Remembers a count just made.
    pub(crate) fn remember(&self, key: String, count: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), count));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_counts_are_reused() {
        let cache = CountCache::default();
        cache.remember("small".into(), LARGE - 1);
        cache.remember("large".into(), LARGE);
        assert_eq!(cache.fresh("small"), None);
        assert_eq!(cache.fresh("large"), Some(LARGE));
        assert_eq!(cache.fresh("unknown"), None);
    }
}
