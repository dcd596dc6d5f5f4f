//! The command line: `refhub [serve]`, `refhub migrate`, `refhub create-operator --email E`.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::Config;

/// refhub: the backend of a multi-tenant SaaS for Messenger bot builders.
#[derive(Parser, Debug)]
#[command(name = "refhub", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API (applies migrations first unless MIGRATE_ON_START=false).
    Serve,
    /// Run only the webhook workers (several processes may run at once on PostgreSQL).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    PrintSchema,
    /// Create a platform operator (or promote an existing account); reads the password from
    /// standard input.
    CreateOperator {
        /// The operator's e-mail address.
        #[arg(long)]
        email: String,
    },
}

/// Applies migrations.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    crate::startup::migrate(config).await
}

/// Applies migrations when `serve` would.
pub async fn migrate_if_configured(config: &Config) -> anyhow::Result<()> {
    if config.migrate_on_start {
        migrate(config).await?;
    }
    Ok(())
}

/// Reads one line from standard input as the password (so it stays out of shell history and
/// process listings).
pub fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!(
            "no password on standard input: pipe it in, e.g. `refhub create-operator --email E < password.txt`"
        );
    }
    Ok(password)
}

/// Creates (or promotes) an operator directly in the database at `database_url`.
pub async fn create_operator(
    database_url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let operators = crate::startup::operator_service(database_url).await?;
    operators
        .create_operator(email, password.to_owned())
        .await
        .map_err(|err| match err.field() {
            Some(field) => anyhow::anyhow!("{field}: {err}"),
            None => anyhow::anyhow!("could not create the operator: {err}"),
        })?;
    Ok(())
}
