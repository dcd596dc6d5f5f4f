//! The real application as a child process, for tests that signal it: serves the database in
//! `DATABASE_URL` on a free port, prints `listening on <port>`, and exits when SIGTERM has
//! drained it.

use refhub_api::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let app = Application::build(Config::for_tests(&url)).await?;
    println!("listening on {}", app.port());
    app.run_until_stopped().await?;
    println!("stopped");
    Ok(())
}
