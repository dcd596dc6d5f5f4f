//! A headless Chromium for browser tests: Debian's `chromium`, driven through `chromedriver`
//! over the W3C WebDriver protocol (plain HTTP). Without Chromium a browser test fails (CI
//! installs it).
//!
//! `REFHUB_CHROMIUM_ARGS` adds Chromium switches, separated by `|` (for instance
//! `--proxy-server=…` where the page's assets must come through a proxy).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long the browser gets for each step (starting, rendering GraphiQL, answering).
pub const STEP: Duration = Duration::from_secs(60);

/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The first of `names` found on `PATH` or in the usual Debian places.
fn program(names: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/bin", "/usr/lib/chromium", "/usr/local/bin"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A browser session through chromedriver; the session and the driver end when dropped.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    _driver: tokio::process::Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends Chromium even when the test failed half-way; a runtime of its own, on a thread,
        // because Drop may run inside the test's runtime.
        let session = self.session.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let _ = reqwest::Client::new()
                    .delete(&session)
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await;
            });
        })
        .join();
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium, found on `PATH` or in Debian's places;
    /// fails the test, saying how to install them, when they are not there.
    pub async fn launch() -> Browser {
        let chromium =
            program(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
                panic!(
                    "Chromium is not installed: this test drives a real browser. On Debian: \
                     apt-get install chromium chromium-driver (.ci/run installs them)"
                )
            });
        let chromedriver = program(&["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "chromedriver is not installed: this test drives Chromium through it. On \
                 Debian: apt-get install chromium-driver (.ci/run installs it)"
            )
        });
        Self::start(&chromium, &chromedriver).await
    }

    /// Starts chromedriver and a headless Chromium session.
    pub async fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = free_port();
        let driver = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", chromedriver.display()));
        let http = crate::http_client();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = match http.get(format!("{base}/status")).send().await {
                Ok(response) => response
                    .json::<Value>()
                    .await
                    .is_ok_and(|status| status["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(
                started.elapsed() < STEP,
                "chromedriver ({}) did not become ready on port {port} within {STEP:?}",
                chromedriver.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--window-size=1400,1000",
        ]
        .map(str::to_owned)
        .to_vec();
        if let Ok(extra) = std::env::var("REFHUB_CHROMIUM_ARGS") {
            args.extend(
                extra
                    .split('|')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned),
            );
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        } } });
        let response = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .timeout(STEP)
            .send()
            .await
            .expect("POST /session to chromedriver");
        let created: Value = response
            .json()
            .await
            .expect("a JSON answer to POST /session");
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "chromedriver could not start Chromium ({}): {created:#}",
                    chromium.display()
                )
            })
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{id}"),
            _driver: driver,
        }
    }

    /// Runs a WebDriver command; returns its `value`, failing the test on a WebDriver error.
    pub async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.session))
            .timeout(STEP);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "WebDriver {method} {path} answered {status}: {answer:#}"
        );
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Runs `script` in the page (it sees `arguments`); returns what it returns.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Every element matching a CSS selector, as WebDriver element ids.
    pub async fn find_all(&self, css: &str) -> Vec<String> {
        self.command(
            reqwest::Method::POST,
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )
        .await
        .as_array()
        .map(|found| {
            found
                .iter()
                .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    }

    pub async fn click(&self, element: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, element: &str, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// What the page shows, for failure messages.
    pub async fn diagnostics(&self) -> String {
        self.script(
            "const scripts = [...document.scripts].map(s => s.src).filter(Boolean);
             const loaded = performance.getEntriesByType('resource').map(r => r.name);
             return JSON.stringify({
               title: document.title,
               url: location.href,
               graphiqlLoaded: typeof window.GraphiQL !== 'undefined',
               reactLoaded: typeof window.React !== 'undefined',
               scripts,
               resourcesFetched: loaded,
               body: (document.body ? document.body.innerText : '').slice(0, 600),
             }, null, 2);",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Polls `script` until it returns something other than null or false; fails with `what`
    /// and the page's state after [`STEP`].
    pub async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let started = Instant::now();
        loop {
            let value = self.script(script, args.clone()).await;
            if !value.is_null() && value != false {
                return value;
            }
            if started.elapsed() > STEP {
                panic!(
                    "timed out after {STEP:?} waiting for {what}; the page: {}",
                    self.diagnostics().await
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
