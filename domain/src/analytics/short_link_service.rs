//! Following a short link: where it leads, and the click counted off the request path.

use std::sync::Arc;

use crate::analytics::clicks::{Click, Requester};
use crate::analytics::ports::{ClickRecorder, ShortLinkRepository};
use crate::analytics::short_code::is_plausible_short_code;
use crate::clock::Clock;
use crate::error::DomainResult;

/// Resolves short codes and counts clicks.
pub struct ShortLinkService {
    links: Arc<dyn ShortLinkRepository>,
    clicks: Arc<dyn ClickRecorder>,
    clock: Arc<dyn Clock>,
}

impl ShortLinkService {
    /// Builds the service.
    pub fn new(
        links: Arc<dyn ShortLinkRepository>,
        clicks: Arc<dyn ClickRecorder>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            links,
            clicks,
            clock,
        }
    }

    /// The URL a code leads to (`None`: no such link, or one switched off or suspended),
    /// counting the click.
    pub async fn follow(
        &self,
        code: &str,
        requester: &Requester<'_>,
    ) -> DomainResult<Option<String>> {
        if !is_plausible_short_code(code) {
            return Ok(None);
        }
        let Some(target) = self.links.resolve(code).await? else {
            return Ok(None);
        };
        if !target.is_open() {
            return Ok(None);
        }
        self.clicks
            .record(Click {
                tenant_id: target.tenant_id,
                ref_link_id: target.ref_link_id,
                page_id: target.page_id,
                at: self.clock.now(),
                automated: requester.is_automated(),
            })
            .await;
        Ok(Some(target.url))
    }
}
