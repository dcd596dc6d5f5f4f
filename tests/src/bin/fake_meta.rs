//! The stand-in Graph API as a process, for the benchmarks and fault scripts that run a real
//! refhub binary: `fake_meta [--port N] [--page ID:TOKEN[:NAME]]… [--app ID:SECRET]…` serves
//! until killed, printing `listening on <port>` once ready. Point refhub at it with
//! `GRAPH_API_BASE_URL=http://127.0.0.1:<port>/v26.0`.

use std::net::TcpListener;

use anyhow::{Context, bail};
use refhub_tests::FakeMeta;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut port = 0u16;
    let mut pages = Vec::new();
    let mut apps = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => port = value()?.parse().context("--port takes a number")?,
            "--page" => pages.push(value()?),
            "--app" => apps.push(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).context("binding the port")?;
    let port = listener.local_addr()?.port();
    let server = wiremock::MockServer::builder()
        .listener(listener)
        .start()
        .await;
    let meta = FakeMeta::attach(&server).await;
    for page in &pages {
        let mut parts = page.splitn(3, ':');
        let (Some(id), Some(token)) = (parts.next(), parts.next()) else {
            bail!("--page takes ID:TOKEN[:NAME], not {page}");
        };
        let name = parts
            .next()
            .map(str::to_owned)
            .unwrap_or(format!("Page {id}"));
        meta.add_page(id, &name, None, token);
    }
    for app in &apps {
        let Some((id, secret)) = app.split_once(':') else {
            bail!("--app takes ID:SECRET, not {app}");
        };
        meta.add_app(id, secret);
    }
    println!("listening on {port}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
