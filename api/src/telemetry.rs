//! Logging: human-readable in development, JSON lines in production; `RUST_LOG` filters.

use tracing_subscriber::EnvFilter;

use crate::config::{AppEnv, Config};

/// Installs the global subscriber (once; later calls are ignored, as tests spawn many apps).
pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.app_env {
        AppEnv::Production => builder.json().flatten_event(true).try_init(),
        AppEnv::Development => builder.try_init(),
    };
}
