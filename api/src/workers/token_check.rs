//! The periodic token check (token health): every few seconds it claims the active pages whose
//! token is due for a check (each page once per `TOKEN_CHECK_INTERVAL_SECS`, counted from when
//! it was connected or last checked, so checks are spread as pages were connected; at most
//! `BATCH` a round) and asks Meta about each. A dead token marks its page `NEEDS_RECONNECT`
//! before any message fails on it.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use refhub_domain::catalogue::TokenCheck;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Pages checked at most per round (one Graph API call each, one after another).
const BATCH: usize = 20;

/// The running check.
pub struct TokenCheckWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TokenCheckWorker {
    /// Starts checking.
    pub fn start(check: Arc<TokenCheck>) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        // Often enough to meet the interval, seldom enough to cost nothing when idle.
        let tick = check
            .interval
            .to_std()
            .map(|i| i / 4)
            .unwrap_or(StdDuration::from_secs(30))
            .clamp(StdDuration::from_millis(200), StdDuration::from_secs(30));
        let task = tokio::spawn(
            async move {
                while !*stopped.borrow() {
                    match check.run_once(BATCH).await {
                        // A full round: more may be due.
                        Ok(claimed) if claimed >= BATCH => continue,
                        Ok(_) => {}
                        Err(err) => tracing::error!(error = ?err, "claiming token checks failed"),
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(tick) => {}
                        _ = stopped.changed() => {}
                    }
                }
            }
            .instrument(tracing::info_span!("token_check_worker")),
        );
        Self { stop, task }
    }

    /// Stops after the check in hand.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
