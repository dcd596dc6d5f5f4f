//! Short codes remembered for a few seconds, so that a redirect does not cost a database
//! round trip: the redirect path is the hottest in the service (every click on every link).
//!
//! A link renamed or deleted is seen within [`TTL`]. Unknown codes are not remembered, and the
//! map is bounded, so made-up codes cannot grow it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::analytics::{ShortLinkRepository, ShortLinkTarget};

/// How long a resolved code is trusted.
pub const TTL: Duration = Duration::from_secs(5);
/// Most codes held at once; past it the cache starts over.
const MAX_ENTRIES: usize = 100_000;

/// A caching [`ShortLinkRepository`] in front of the real one.
pub struct CachedShortLinks {
    inner: Arc<dyn ShortLinkRepository>,
    entries: Mutex<HashMap<String, (Instant, ShortLinkTarget)>>,
}

impl CachedShortLinks {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ShortLinkRepository>) -> Self {
        Self {
            inner,
            entries: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl ShortLinkRepository for CachedShortLinks {
    async fn resolve(&self, code: &str) -> DomainResult<Option<ShortLinkTarget>> {
        if let Ok(entries) = self.entries.lock()
            && let Some((at, target)) = entries.get(code)
            && at.elapsed() < TTL
        {
            return Ok(Some(target.clone()));
        }
        let target = self.inner.resolve(code).await?;
        if let (Some(target), Ok(mut entries)) = (&target, self.entries.lock()) {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(code.to_owned(), (Instant::now(), target.clone()));
        }
        Ok(target)
    }
}
