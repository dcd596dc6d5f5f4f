//! GraphiQL in a real browser: headless Chromium (Debian's `chromium`, driven through
//! `chromedriver` over the W3C WebDriver protocol, plain HTTP) opens `GET /graphql` of a running
//! app, puts a query in the editor and an `Authorization: Bearer …` header in GraphiQL's headers
//! editor, runs it with the run button, and the signed-in user's email must appear in the result
//! pane. Without Chromium the test fails (CI installs it).
//!
//! `REFHUB_CHROMIUM_ARGS` adds Chromium switches, separated by `|` (for instance
//! `--proxy-server=…` where the page's assets must come through a proxy).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use refhub_tests::spawn_app;
use serde_json::{Value, json};

/// How long the browser gets for each step (starting, rendering GraphiQL, answering).
const STEP: Duration = Duration::from_secs(60);

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
struct Browser {
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
    /// Starts chromedriver and a headless Chromium session.
    async fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = free_port();
        let driver = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", chromedriver.display()));
        let http = refhub_tests::http_client();
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
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Runs `script` in the page (it sees `arguments`); returns what it returns.
    async fn script(&self, script: &str, args: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Every element matching a CSS selector, as WebDriver element ids.
    async fn find_all(&self, css: &str) -> Vec<String> {
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

    async fn click(&self, element: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// What the page shows, for failure messages.
    async fn diagnostics(&self) -> String {
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
    async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
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

/// Puts `text` in the GraphiQL editor inside `container` (a CSS selector for the visible one):
/// through the editor's own API when it exposes one (CodeMirror), otherwise by typing.
async fn fill_editor(browser: &Browser, container: &str, text: &str) {
    let through_api = browser
        .script(
            "const [container, text] = arguments;
             const editor = [...document.querySelectorAll(container + ' .CodeMirror')]
               .find(e => e.offsetParent !== null && !e.closest('.hidden'));
             if (!editor || !editor.CodeMirror) return false;
             editor.CodeMirror.setValue(text);
             return true;",
            json!([container, text]),
        )
        .await;
    if through_api != true {
        let inputs = browser
            .find_all(&format!(
                "{container} textarea, {container} [contenteditable=true]"
            ))
            .await;
        let input = inputs
            .first()
            .unwrap_or_else(|| panic!("no editor to type in inside {container}"));
        // Ctrl+A, Delete, then the text.
        browser.type_into(input, "\u{E009}a\u{E009}\u{E017}").await;
        browser.type_into(input, text).await;
    }
}

#[tokio::test]
async fn graphiql_runs_a_query_with_a_bearer_token_in_headless_chromium() {
    let chromium =
        program(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
            panic!(
                "Chromium is not installed: this test drives a real browser. On Debian: \
             apt-get install chromium chromium-driver (.ci/run installs them)"
            )
        });
    let chromedriver = program(&["chromedriver"]).unwrap_or_else(|| {
        panic!(
            "chromedriver is not installed: this test drives Chromium through it. On Debian: \
             apt-get install chromium-driver (.ci/run installs it)"
        )
    });

    let app = spawn_app().await;
    let email = "owner@graphiql.test";
    let session = app.sign_up(email, "GraphiQL").await;

    let browser = Browser::start(&chromium, &chromedriver).await;
    browser.goto(&app.url("/graphql")).await;
    browser
        .wait_for(
            "GraphiQL to render its query editor (when `graphiqlLoaded` is false below, its scripts \
             did not load: a page that takes React and GraphiQL from a CDN fails wherever the \
             CDN cannot be reached, as in CI; the app must serve them itself)",
            "return !!document.querySelector('.graphiql-container .graphiql-query-editor');",
            json!([]),
        )
        .await;

    // The query, then the token in the headers editor (opened from its tab).
    fill_editor(&browser, ".graphiql-query-editor", "{ me { email } }").await;
    browser
        .wait_for(
            "the Headers tab",
            "const tab = [...document.querySelectorAll('.graphiql-editor-tools button, button')]
               .find(b => b.textContent.trim() === 'Headers');
             if (!tab) return false;
             tab.click();
             return true;",
            json!([]),
        )
        .await;
    // The tools pane holds the variables and the headers editors, the one not shown hidden.
    let headers_editor = ".graphiql-editor-tool[aria-label=Headers] .graphiql-editor:not(.hidden)";
    browser
        .wait_for(
            "the headers editor to show",
            "const [container] = arguments;
             const editor = document.querySelector(container);
             return !!editor && editor.offsetParent !== null;",
            json!([headers_editor]),
        )
        .await;
    let headers = json!({ "Authorization": format!("Bearer {}", session.access_token) });
    fill_editor(&browser, headers_editor, &headers.to_string()).await;
    let shown = browser
        .script(
            "return [...document.querySelectorAll('.graphiql-query-editor, .graphiql-editor-tool')]
               .map(e => e.innerText).join('\\n');",
            json!([]),
        )
        .await;
    assert!(
        shown
            .as_str()
            .is_some_and(|text| text.contains("me") && text.contains("Bearer")),
        "the editors show the query and the header: {shown}; the tools pane: {}",
        browser
            .script(
                "const tools = document.querySelector('.graphiql-editor-tools');
                 const editors = [...document.querySelectorAll('.graphiql-editor')].map(e =>
                   [e.className, e.getAttribute('aria-label'), e.offsetParent !== null,
                    e.parentElement.className, e.parentElement.getAttribute('aria-label')]);
                 return JSON.stringify({ tools: tools ? tools.outerHTML.slice(0, 1500) : null, editors });",
                json!([])
            )
            .await
    );

    let run = browser.find_all(".graphiql-execute-button").await;
    let run = run
        .first()
        .unwrap_or_else(|| panic!("no run button in GraphiQL"));
    browser.click(run).await;

    let result = browser
        .wait_for(
            "the result pane to show the signed-in user's email",
            "const [email] = arguments;
             const pane = document.querySelector('.graphiql-response');
             if (!pane) return false;
             const editor = pane.querySelector('.CodeMirror');
             const text = editor && editor.CodeMirror ? editor.CodeMirror.getValue() : pane.innerText;
             return text.includes(email) ? text : false;",
            json!([email]),
        )
        .await;
    let text = result.as_str().unwrap_or_default();
    let answer: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the result pane holds JSON ({e}): {text}"));
    assert_eq!(
        answer,
        json!({ "data": { "me": { "email": email } } }),
        "the result GraphiQL shows"
    );
}
