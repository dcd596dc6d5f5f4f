//! A webhook worker process for the crash-and-restart tests: `refhub_api::startup::run_workers`
//! over the database in `DATABASE_URL`, with `WORKERS` worker tasks (default 1), claims of
//! `WORKER_BATCH_SIZE` events (default the app's) that lapse after `WORKER_LEASE_SECS` seconds
//! (default 2), sending through the Graph API at `GRAPH_API_BASE_URL` when set. Returns (exit code 0) on SIGTERM or
//! SIGINT; the tests also SIGKILL it to simulate a crash.
//!
//! Logs go to standard output as the app writes them, filtered by `RUST_LOG`.

use anyhow::Context as _;
use refhub_api::Config;

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} must be a number, got {text:?}")),
        Err(_) => Ok(default),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL must name the database")?;
    let mut config = Config::for_tests(&url);
    config.migrate_on_start = false;
    config.workers = env_number("WORKERS", 1)?;
    config.worker_lease_secs = env_number("WORKER_LEASE_SECS", 2)?;
    config.worker_batch_size = env_number("WORKER_BATCH_SIZE", config.worker_batch_size)?;
    if let Ok(url) = std::env::var("GRAPH_API_BASE_URL") {
        config.graph_api_base_url = url;
    }
    refhub_api::telemetry::init(&config);
    refhub_api::startup::run_workers(&config).await
}
