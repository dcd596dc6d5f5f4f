//! Meta's data-deletion and deauthorize callbacks, on a workspace's own URL, and the work they
//! start.
//!
//! The request path only verifies the `signed_request` with the workspace's app secret and
//! records the request (one insert), then answers Meta's `{url, confirmation_code}`: finding
//! the person's ids needs Meta (`ids_for_pages`), which may be slow or down, so it is done by a
//! worker that retries. Each subscriber is erased by the one erasure `eraseSubscriber` uses, in
//! its own transaction; a worker that dies halfway leaves a request that falls due again and
//! finds only who is left.
//!
//! What can be matched: Meta names the person by their app-scoped user id (ASID). Messenger
//! knows them by page-scoped ids (PSIDs), which `GET /{asid}/ids_for_pages` gives for the pages
//! of the app's business; a subscriber of the workspace is erased when their PSID is the one
//! Meta gives for their page. A subscriber whose stored PSID or plugin `user_ref` is the ASID
//! itself is erased too. A checkbox-plugin person known only by a `user_ref` (a string the
//! website made up) cannot be matched to an ASID by anyone: they are erased when they are
//! linked to a PSID Meta names, and otherwise only through `eraseSubscriber`.
//! <https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/>
//! <https://developers.facebook.com/docs/messenger-platform/psid-to-asid/>

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Duration;

use crate::audience::{ErasureTarget, SubscriberEraser};
use crate::catalogue::{
    MessengerApp, MessengerAppRepository, PageRepository, SecretCipher, app_for_webhook_key,
};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::SecretGenerator;
use crate::ids::{DeletionRequestId, PageId};
use crate::privacy::deletion_request::{
    DeletionKind, DeletionReceipt, DeletionRequest, DeletionStatus, DeletionStatusView,
};
use crate::privacy::ports::{DeletionRequestRepository, PageScopedIds, SubscriberIdentities};
use crate::privacy::signed_request::{SignedRequest, SignedRequestMac};
use crate::webhooks::DeliveryThrottle;

/// Tries at Meta before the matching gives up on it (about nine hours in all, with the
/// backoff): the erasure then goes ahead with what can be matched without Meta.
pub const MAX_MATCHING_ATTEMPTS: u32 = 10;

/// The ports the service needs.
pub struct DataDeletionPorts {
    /// The workspaces' app connections (the key and the secret).
    pub apps: Arc<dyn MessengerAppRepository>,
    /// Opens the sealed app secret.
    pub cipher: Arc<dyn SecretCipher>,
    /// Checks the `signed_request`'s HMAC.
    pub mac: Arc<dyn SignedRequestMac>,
    /// The recorded requests.
    pub requests: Arc<dyn DeletionRequestRepository>,
    /// Meta's ID matching.
    pub ids: Arc<dyn PageScopedIds>,
    /// The workspace's pages.
    pub pages: Arc<dyn PageRepository>,
    /// Finds subscribers by their Messenger ids.
    pub subscribers: Arc<dyn SubscriberIdentities>,
    /// The one erasure.
    pub eraser: Arc<dyn SubscriberEraser>,
    /// Confirmation codes and fingerprints.
    pub secrets: Arc<dyn SecretGenerator>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// The data-deletion use cases.
pub struct DataDeletionService {
    ports: DataDeletionPorts,
    public_base_url: String,
}

impl DataDeletionService {
    /// Builds the service; status URLs start with `public_base_url`.
    pub fn new(ports: DataDeletionPorts, public_base_url: &str) -> Self {
        Self {
            ports,
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The data-deletion callback: verifies `signed_request` with the workspace's app secret,
    /// records the request (or finds the one already under way for the same person) and
    /// answers Meta's receipt. Nothing is recorded when anything is wrong.
    pub async fn request_deletion(
        &self,
        key: &str,
        signed_request: Option<&str>,
        throttle: &dyn DeliveryThrottle,
    ) -> DomainResult<DeletionReceipt> {
        let (app, signed) = self.verify(key, signed_request, throttle).await?;
        let request = self.new_request(&app, &signed, DeletionKind::DataDeletion);
        let recorded = self.ports.requests.record(&request).await?;
        if recorded.id == request.id {
            tracing::info!(tenant_id = %app.tenant_id, request_id = %recorded.id, "data deletion requested");
        } else {
            tracing::info!(tenant_id = %app.tenant_id, request_id = %recorded.id, "data deletion requested again while under way; same confirmation code");
        }
        Ok(DeletionReceipt {
            url: self.status_url(&recorded.confirmation_code),
            confirmation_code: recorded.confirmation_code,
        })
    }

    /// The deauthorize callback: verifies and records that the person removed the app. Meta
    /// sends it when a person removes the app from their Facebook settings; whether they want
    /// their data gone they say through the data-deletion callback, so nothing is erased here.
    pub async fn deauthorize(
        &self,
        key: &str,
        signed_request: Option<&str>,
        throttle: &dyn DeliveryThrottle,
    ) -> DomainResult<()> {
        let (app, signed) = self.verify(key, signed_request, throttle).await?;
        let mut request = self.new_request(&app, &signed, DeletionKind::Deauthorize);
        request.app_scoped_user_id = None;
        request.status = DeletionStatus::Recorded;
        request.finished_at = Some(request.requested_at);
        let recorded = self.ports.requests.record(&request).await?;
        tracing::info!(tenant_id = %app.tenant_id, request_id = %recorded.id, "a person removed the app (deauthorized); recorded, nothing erased");
        Ok(())
    }

    /// The status page's content for `code`; `None` for a code that is no request's.
    pub async fn status(&self, code: &str) -> DomainResult<Option<DeletionStatusView>> {
        if code.is_empty() || code.len() > 128 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        self.ports.requests.status_by_code(code).await
    }

    /// The status page of a confirmation code.
    pub fn status_url(&self, code: &str) -> String {
        format!("{}/data-deletion/{code}", self.public_base_url)
    }

    /// Carries out one claimed request: asks Meta for the person's PSIDs (a transient failure
    /// puts the request back with a backoff), erases every subscriber they are, and records
    /// the outcome.
    pub async fn carry_out(&self, mut request: DeletionRequest) -> DomainResult<()> {
        let tenant_id = request.tenant_id;
        let Some(asid) = request.app_scoped_user_id.clone() else {
            // Its id is cleared only when it is done: nothing is left to look for. Saved as done
            // so that its lease does not bring it back for ever.
            request.status = if request.subscribers_erased > 0 {
                DeletionStatus::Finished
            } else {
                DeletionStatus::NothingFound
            };
            request.finished_at = request.finished_at.or(Some(self.ports.clock.now()));
            return self.ports.requests.save_attempt(&request, None).await;
        };
        let matched = match self.ports.apps.find(tenant_id).await? {
            Some(app) => self.psids_of(&app, &asid).await,
            None => Err((
                false,
                "the workspace has no Messenger app connection".to_owned(),
            )),
        };
        let psids = match matched {
            Ok(psids) => psids,
            Err((true, message)) if request.attempts < MAX_MATCHING_ATTEMPTS => {
                let retry_at = self.ports.clock.now() + backoff(request.attempts);
                tracing::warn!(%tenant_id, request_id = %request.id, attempts = request.attempts, error = %message, "ID matching failed for now; retried later");
                request.status = DeletionStatus::Erasing;
                request.last_error = Some(message);
                return self
                    .ports
                    .requests
                    .save_attempt(&request, Some(retry_at))
                    .await;
            }
            Err((_, message)) => {
                tracing::warn!(%tenant_id, request_id = %request.id, error = %message, "ID matching is not possible; erasing what matches without it");
                request.last_error = Some(message);
                Vec::new()
            }
        };
        let mut ids: Vec<String> = psids.iter().map(|(_, psid)| psid.clone()).collect();
        ids.push(asid.clone());
        ids.sort();
        ids.dedup();
        let found = self.ports.subscribers.find_by_ids(tenant_id, &ids).await?;
        let psids: HashSet<(PageId, String)> = psids.into_iter().collect();
        let mut erased = 0;
        let mut redacted = 0;
        for subscriber in found {
            let by_meta = subscriber
                .psid()
                .is_some_and(|psid| psids.contains(&(subscriber.page_id, psid.to_owned())));
            let by_id = subscriber.psid() == Some(asid.as_str())
                || subscriber.user_ref.as_deref() == Some(asid.as_str());
            if !(by_meta || by_id) {
                continue;
            }
            if let Some(counts) = self
                .ports
                .eraser
                .erase(tenant_id, &ErasureTarget::of(&subscriber))
                .await?
            {
                erased += 1;
                redacted += counts.webhook_events_redacted;
            }
        }
        request.subscribers_erased += erased;
        request.events_redacted += redacted;
        request.status = if request.subscribers_erased > 0 {
            DeletionStatus::Finished
        } else {
            DeletionStatus::NothingFound
        };
        request.app_scoped_user_id = None;
        request.finished_at = Some(self.ports.clock.now());
        self.ports.requests.save_attempt(&request, None).await?;
        tracing::info!(%tenant_id, request_id = %request.id, subscribers_erased = request.subscribers_erased, "data deletion done");
        Ok(())
    }

    /// The person's PSIDs on the workspace's pages, by the workspace's page ids; or whether
    /// the failure is worth retrying and what it was.
    async fn psids_of(
        &self,
        app: &MessengerApp,
        asid: &str,
    ) -> Result<Vec<(PageId, String)>, (bool, String)> {
        let secret = app
            .open_secret(self.ports.cipher.as_ref())
            .map_err(|err| (false, format!("the app secret cannot be opened: {err}")))?;
        let found = self
            .ports
            .ids
            .ids_for_pages(&app.app_id, &secret, asid)
            .await
            .map_err(|err| (err.transient, err.message))?;
        let mut psids = Vec::new();
        for id in found {
            let page = self
                .ports
                .pages
                .find_by_facebook_id(app.tenant_id, &id.facebook_page_id)
                .await
                .map_err(|err| (true, format!("reading the workspace's pages: {err}")))?;
            if let Some(page) = page {
                psids.push((page.id, id.psid));
            }
        }
        Ok(psids)
    }

    async fn verify(
        &self,
        key: &str,
        signed_request: Option<&str>,
        throttle: &dyn DeliveryThrottle,
    ) -> DomainResult<(MessengerApp, SignedRequest)> {
        let app = self.app_for_key(key).await?;
        throttle
            .check(app.tenant_id)
            .map_err(|retry_after_secs| DomainError::RateLimited { retry_after_secs })?;
        let secret = app.open_secret(self.ports.cipher.as_ref())?;
        let signed = SignedRequest::verify(
            signed_request.unwrap_or(""),
            &secret,
            self.ports.mac.as_ref(),
        )?;
        Ok((app, signed))
    }

    fn new_request(
        &self,
        app: &MessengerApp,
        signed: &SignedRequest,
        kind: DeletionKind,
    ) -> DeletionRequest {
        DeletionRequest {
            id: DeletionRequestId::generate(),
            tenant_id: app.tenant_id,
            kind,
            confirmation_code: self.ports.secrets.random_token(),
            // Keyed by the app: an ASID means a person only within its app.
            user_fingerprint: self
                .ports
                .secrets
                .fingerprint(&format!("{}:{}", app.app_id, signed.user_id)),
            app_scoped_user_id: Some(signed.user_id.clone()),
            status: DeletionStatus::Received,
            subscribers_erased: 0,
            events_redacted: 0,
            attempts: 0,
            last_error: None,
            requested_at: self.ports.clock.now(),
            finished_at: None,
        }
    }

    /// The workspace whose webhook key `key` is (the same key as its webhook URL's).
    async fn app_for_key(&self, key: &str) -> DomainResult<MessengerApp> {
        app_for_webhook_key(self.ports.apps.as_ref(), key).await
    }
}

/// The wait before the next try at Meta: 30 s doubling, at most two hours.
fn backoff(attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(8);
    Duration::seconds((30_i64 << exponent).min(7_200))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::audience::{ErasureCounts, Subscriber};
    use crate::catalogue::{GatewayError, Page, SealedSecret, SecretPurpose, WebhookKey};
    use crate::ids::{MessengerAppId, TenantId};
    use crate::pagination::{Page as ListPage, PageRequest};
    use crate::privacy::PageScopedId;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
    }

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> DateTime<Utc> {
            at()
        }
    }

    struct Plain;
    impl SecretCipher for Plain {
        fn seal(
            &self,
            text: &str,
            _: TenantId,
            _: Uuid,
            _: SecretPurpose,
        ) -> DomainResult<SealedSecret> {
            Ok(SealedSecret(text.as_bytes().to_vec()))
        }
        fn open(
            &self,
            sealed: &SealedSecret,
            _: TenantId,
            _: Uuid,
            _: SecretPurpose,
        ) -> DomainResult<String> {
            String::from_utf8(sealed.0.clone()).map_err(DomainError::internal)
        }
    }

    struct OneApp(MessengerApp);
    #[async_trait]
    impl MessengerAppRepository for OneApp {
        async fn find(&self, _: TenantId) -> DomainResult<Option<MessengerApp>> {
            Ok(Some(self.0.clone()))
        }
        async fn save(&self, _: &MessengerApp) -> DomainResult<()> {
            unreachable!()
        }
        async fn delete(&self, _: TenantId) -> DomainResult<bool> {
            unreachable!()
        }
    }

    /// Meta failing the same way every time.
    struct Failing(bool);
    #[async_trait]
    impl PageScopedIds for Failing {
        async fn ids_for_pages(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Vec<PageScopedId>, GatewayError> {
            Err(GatewayError {
                transient: self.0,
                code: Some(if self.0 { 2 } else { 100 }),
                subcode: None,
                message: "Meta error".to_owned(),
            })
        }
    }

    struct NoPages;
    #[async_trait]
    impl PageRepository for NoPages {
        async fn create(&self, _: &Page) -> DomainResult<()> {
            unreachable!()
        }
        async fn find(&self, _: TenantId, _: PageId) -> DomainResult<Option<Page>> {
            Ok(None)
        }
        async fn find_by_facebook_id(&self, _: TenantId, _: &str) -> DomainResult<Option<Page>> {
            Ok(None)
        }
        async fn list(&self, _: TenantId, _: PageRequest) -> DomainResult<ListPage<Page>> {
            unreachable!()
        }
        async fn update(&self, _: &Page) -> DomainResult<()> {
            unreachable!()
        }
        async fn delete(&self, _: TenantId, _: PageId) -> DomainResult<bool> {
            unreachable!()
        }
        async fn mark_needs_reconnect(
            &self,
            _: TenantId,
            _: PageId,
            _: &crate::catalogue::PageHealth,
        ) -> DomainResult<bool> {
            unreachable!()
        }
        async fn mark_active(
            &self,
            _: TenantId,
            _: PageId,
            _: chrono::DateTime<chrono::Utc>,
        ) -> DomainResult<()> {
            unreachable!()
        }
        async fn claim_token_checks(
            &self,
            _: usize,
            _: chrono::Duration,
            _: chrono::DateTime<chrono::Utc>,
        ) -> DomainResult<Vec<Page>> {
            unreachable!()
        }
    }

    struct Nobody;
    #[async_trait]
    impl SubscriberIdentities for Nobody {
        async fn find_by_ids(&self, _: TenantId, _: &[String]) -> DomainResult<Vec<Subscriber>> {
            Ok(Vec::new())
        }
    }
    #[async_trait]
    impl SubscriberEraser for Nobody {
        async fn erase(
            &self,
            _: TenantId,
            _: &ErasureTarget,
        ) -> DomainResult<Option<ErasureCounts>> {
            Ok(None)
        }
    }

    struct Tokens;
    impl SecretGenerator for Tokens {
        fn random_token(&self) -> String {
            "code".to_owned()
        }
        fn fingerprint(&self, token: &str) -> String {
            format!("fp:{token}")
        }
    }

    struct Mac;
    impl SignedRequestMac for Mac {
        fn verify(&self, _: &str, _: &[u8], _: &[u8]) -> bool {
            true
        }
    }

    /// What the service saved: the request and when it is due again.
    #[derive(Default)]
    struct Saved(Mutex<Vec<(DeletionRequest, Option<DateTime<Utc>>)>>);
    #[async_trait]
    impl DeletionRequestRepository for Saved {
        async fn record(&self, request: &DeletionRequest) -> DomainResult<DeletionRequest> {
            Ok(request.clone())
        }
        async fn status_by_code(&self, _: &str) -> DomainResult<Option<DeletionStatusView>> {
            Ok(None)
        }
        async fn claim_due(
            &self,
            _: usize,
            _: Duration,
            _: DateTime<Utc>,
        ) -> DomainResult<Vec<DeletionRequest>> {
            Ok(Vec::new())
        }
        async fn save_attempt(
            &self,
            request: &DeletionRequest,
            retry_at: Option<DateTime<Utc>>,
        ) -> DomainResult<()> {
            self.0.lock().unwrap().push((request.clone(), retry_at));
            Ok(())
        }
    }

    fn service(transient: bool, saved: Arc<Saved>) -> DataDeletionService {
        let tenant_id = TenantId(Uuid::nil());
        let app = MessengerApp {
            id: MessengerAppId(Uuid::nil()),
            tenant_id,
            app_id: "1234".to_owned(),
            app_secret: SealedSecret(b"secret".to_vec()),
            verify_token: SealedSecret(b"verify".to_vec()),
            webhook_key: WebhookKey::new(tenant_id, "abc"),
            created_at: at(),
            updated_at: at(),
        };
        DataDeletionService::new(
            DataDeletionPorts {
                apps: Arc::new(OneApp(app)),
                cipher: Arc::new(Plain),
                mac: Arc::new(Mac),
                requests: saved,
                ids: Arc::new(Failing(transient)),
                pages: Arc::new(NoPages),
                subscribers: Arc::new(Nobody),
                eraser: Arc::new(Nobody),
                secrets: Arc::new(Tokens),
                clock: Arc::new(Fixed),
            },
            "https://refhub.example/",
        )
    }

    fn claimed(attempts: u32) -> DeletionRequest {
        DeletionRequest {
            id: DeletionRequestId(Uuid::nil()),
            tenant_id: TenantId(Uuid::nil()),
            kind: DeletionKind::DataDeletion,
            confirmation_code: "code".to_owned(),
            user_fingerprint: "fp".to_owned(),
            app_scoped_user_id: Some("42".to_owned()),
            status: DeletionStatus::Erasing,
            subscribers_erased: 0,
            events_redacted: 0,
            attempts,
            last_error: None,
            requested_at: at(),
            finished_at: None,
        }
    }

    #[tokio::test]
    async fn meta_failing_for_now_brings_the_request_back_later_with_its_id() {
        let saved = Arc::new(Saved::default());
        service(true, saved.clone())
            .carry_out(claimed(2))
            .await
            .unwrap();
        let saved = saved.0.lock().unwrap();
        let (request, retry_at) = &saved[0];
        assert_eq!(*retry_at, Some(at() + Duration::seconds(60)));
        assert_eq!(request.status, DeletionStatus::Erasing);
        assert_eq!(request.app_scoped_user_id.as_deref(), Some("42"));
        assert!(request.last_error.is_some());
    }

    #[tokio::test]
    async fn meta_refusing_or_failing_too_long_ends_with_what_matches_without_it() {
        for (transient, attempts) in [(false, 1), (true, MAX_MATCHING_ATTEMPTS)] {
            let saved = Arc::new(Saved::default());
            service(transient, saved.clone())
                .carry_out(claimed(attempts))
                .await
                .unwrap();
            let saved = saved.0.lock().unwrap();
            let (request, retry_at) = &saved[0];
            assert_eq!(*retry_at, None);
            assert_eq!(request.status, DeletionStatus::NothingFound);
            assert_eq!(request.app_scoped_user_id, None);
            assert_eq!(request.finished_at, Some(at()));
            assert!(request.last_error.is_some());
        }
    }

    #[test]
    fn status_urls_are_public() {
        let service = service(true, Arc::new(Saved::default()));
        assert_eq!(
            service.status_url("abc"),
            "https://refhub.example/data-deletion/abc"
        );
    }

    #[test]
    fn the_backoff_grows_and_stops_growing() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(20), Duration::seconds(7_200));
    }
}
