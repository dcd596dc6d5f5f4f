//! Counts of large subscriber lists, remembered for a few seconds.
//!
//! Counting a million rows takes tens of milliseconds however it is indexed, and a dashboard
//! asks for the count with every page it shows. Lists under [`LARGE`] are counted every time
//! (exact, and cheap); a list that was large when last counted answers that count for up to
//! [`FRESH_FOR`] — by then it is a figure people read as "about", not a key to page by. When it
//! is older, one request counts again while the others keep the old count meanwhile, so that
//! an expiry does not set every concurrent request counting at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// From how many rows a count is remembered.
pub(crate) const LARGE: u64 = 10_000;
/// How long a remembered count is used as it is.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(10);
/// How long a recount may take before another request is let to try (it may have failed).
const RECOUNT_FOR: Duration = Duration::from_secs(30);
/// Most counts held at once; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    counted_at: Instant,
    count: u64,
    recount_started: Option<Instant>,
}

/// Remembered counts, by list (tenant, page and filter).
#[derive(Default)]
pub(crate) struct CountCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl CountCache {
    /// A large count for `key` to use now, or `None` when the caller must count (and then
    /// [`CountCache::remember`]): the list is small, unknown, or its count is old and nobody
    /// else is counting it again.
    pub(crate) fn usable(&self, key: &str) -> Option<u64> {
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get_mut(key).filter(|e| e.count >= LARGE)?;
        if entry.counted_at.elapsed() < FRESH_FOR {
            return Some(entry.count);
        }
        match entry.recount_started {
            Some(started) if started.elapsed() < RECOUNT_FOR => Some(entry.count),
            _ => {
                entry.recount_started = Some(Instant::now());
                None
            }
        }
    }

    /// Remembers a count just made.
    pub(crate) fn remember(&self, key: String, count: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    counted_at: Instant::now(),
                    count,
                    recount_started: None,
                },
            );
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
        assert_eq!(cache.usable("small"), None);
        assert_eq!(cache.usable("large"), Some(LARGE));
        assert_eq!(cache.usable("unknown"), None);
    }

    #[test]
    fn an_old_count_is_recounted_by_one_caller_while_the_others_keep_it() {
        let cache = CountCache::default();
        cache.remember("large".into(), LARGE);
        if let Ok(mut entries) = cache.entries.lock() {
            let entry = entries.get_mut("large").unwrap();
            entry.counted_at = Instant::now() - FRESH_FOR - Duration::from_secs(1);
        }
        assert_eq!(cache.usable("large"), None, "the first caller counts again");
        assert_eq!(
            cache.usable("large"),
            Some(LARGE),
            "the others keep the old count"
        );
        cache.remember("large".into(), LARGE + 5);
        assert_eq!(cache.usable("large"), Some(LARGE + 5));
    }
}
