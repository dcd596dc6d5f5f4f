//! A short-lived cache of tenants' Messenger app connections, so that the webhook request path
//! does not open a database transaction per delivery just to read the app secret.
//!
//! Changes made through this process (connect, rotate, disconnect) replace or drop the entry at
//! once; another process's change is seen within [`TTL`]. Unknown tenants are not cached, and
//! the map is bounded, so made-up keys cannot grow it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{MessengerApp, MessengerAppRepository};
use refhub_domain::ids::TenantId;

/// How long a cached connection is trusted.
pub const TTL: Duration = Duration::from_secs(5);
/// Most tenants held at once; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// A caching [`MessengerAppRepository`] in front of the real one.
pub struct CachedMessengerApps {
    inner: Arc<dyn MessengerAppRepository>,
    entries: Mutex<HashMap<TenantId, (Instant, MessengerApp)>>,
}

impl CachedMessengerApps {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn MessengerAppRepository>) -> Self {
        Self {
            inner,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, tenant_id: TenantId) -> Option<MessengerApp> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&tenant_id)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, app)| app.clone())
    }

    fn remember(&self, app: &MessengerApp) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(app.tenant_id, (Instant::now(), app.clone()));
        }
    }

    fn forget(&self, tenant_id: TenantId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&tenant_id);
        }
    }
}

#[async_trait]
impl MessengerAppRepository for CachedMessengerApps {
    async fn find(&self, tenant_id: TenantId) -> DomainResult<Option<MessengerApp>> {
        if let Some(app) = self.cached(tenant_id) {
            return Ok(Some(app));
        }
        let app = self.inner.find(tenant_id).await?;
        if let Some(app) = &app {
            self.remember(app);
        }
        Ok(app)
    }

    async fn save(&self, app: &MessengerApp) -> DomainResult<()> {
        self.forget(app.tenant_id);
        self.inner.save(app).await?;
        self.remember(app);
        Ok(())
    }

    async fn delete(&self, tenant_id: TenantId) -> DomainResult<bool> {
        self.forget(tenant_id);
        self.inner.delete(tenant_id).await
    }
}
