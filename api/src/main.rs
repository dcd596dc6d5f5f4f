use clap::Parser;
use refhub_api::cli::{Cli, Command};
use refhub_api::{Application, Config, cli, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Cli::parse();
    let config = Config::from_env()?;
    telemetry::init(&config);
    config.log_warnings();
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config.clone()).await?;
            let base = format!("http://{}", app.local_addr());
            tracing::info!("refhub is listening on {base}");
            println!("refhub is listening on {base}");
            println!(
                "GraphiQL: {base}/graphql   health: {base}/healthz   readiness: {base}/readyz"
            );
            app.run_until_stopped().await?;
            tracing::info!("refhub stopped");
        }
        Command::Migrate => {
            cli::migrate(&config).await?;
            println!("migrations applied");
        }
        Command::CreateOperator { email } => {
            let password = cli::read_password_from_stdin()?;
            cli::migrate_if_configured(&config).await?;
            cli::create_operator(&config.database_url, &email, &password).await?;
            println!("operator {email} is ready; sign in with logIn");
        }
    }
    Ok(())
}
