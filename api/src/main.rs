use clap::Parser;
use mimalloc::MiMalloc;
use refhub_api::cli::{Cli, Command};
use refhub_api::{Application, Config, cli, telemetry};

/// Requests allocate many small, short-lived values (GraphQL values, JSON, rows) across
/// threads; glibc's malloc spent about an eighth of the server's CPU on them.
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    if let Command::PrintSchema = command {
        // Needs no configuration, so that it works in a fresh checkout.
        print!("{}", refhub_graphql::schema_sdl());
        return Ok(());
    }
    let config = Config::from_env()?;
    telemetry::init(&config);
    config.log_warnings();
    match command {
        Command::Serve | Command::PrintSchema => serve(config).await,
        Command::Worker => {
            cli::migrate_if_configured(&config).await?;
            refhub_api::startup::run_workers(&config).await
        }
        Command::Migrate => {
            cli::migrate(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateOperator { email } => {
            let password = cli::read_password_from_stdin()?;
            cli::migrate_if_configured(&config).await?;
            cli::create_operator(&config.database_url, &email, &password).await?;
            println!("operator {email} is ready; sign in with logIn");
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let base = format!("http://{}", app.local_addr());
    tracing::info!("refhub is listening on {base}");
    println!("refhub is listening on {base}");
    println!("GraphiQL: {base}/graphql   health: {base}/healthz   readiness: {base}/readyz");
    app.run_until_stopped().await?;
    tracing::info!("refhub stopped");
    Ok(())
}
