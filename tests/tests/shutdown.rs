//! SIGTERM lets in-flight requests finish, then the process exits cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::test]
async fn sigterm_drains_in_flight_requests_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/refhub.db?mode=rwc", dir.path().display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_refhub_server"))
        .env("DATABASE_URL", &url)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("the server prints its port");
    let port = line.trim().trim_start_matches("listening on ").to_owned();
    let address = format!("http://127.0.0.1:{port}/graphql");

    // Each sign-up hashes a password (argon2, two at a time): twenty keep the server busy
    // for a while after the signal arrives.
    let client = refhub_tests::http_client();
    let ready = client
        .get(address.replace("/graphql", "/healthz"))
        .send()
        .await
        .expect("the server answers");
    assert!(ready.status().is_success());
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            let address = address.clone();
            tokio::spawn(async move {
                let query = format!(
                    r#"mutation {{ signUp(input: {{email: "user{i}@example.com", password: "correct-Horse-battery-9", tenantName: "T{i}"}}) {{ user {{ email }} }} }}"#
                );
                let answer = client
                    .post(&address)
                    .json(&json!({ "query": query }))
                    .send()
                    .await
                    .expect("answered")
                    .json::<serde_json::Value>()
                    .await
                    .expect("JSON");
                (answer, Instant::now())
            })
        })
        .collect();
    // Signal once the first sign-up is answered: by then the server has read every request
    // (each waits its turn to hash a password), and most are still in flight. A fixed delay
    // was too short on a loaded machine, where the server had not yet read them all.
    let started = Instant::now();
    while !requests.iter().any(|request| request.is_finished()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no sign-up was answered within a minute"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let signalled_at = Instant::now();
    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());

    let mut finished_after_signal = 0;
    for (i, request) in requests.into_iter().enumerate() {
        let (answer, finished_at) = request.await.expect("task");
        if finished_at > signalled_at {
            finished_after_signal += 1;
        }
        assert_eq!(
            answer["data"]["signUp"]["user"]["email"],
            format!("user{i}@example.com"),
            "request {i} was cut off: {answer}"
        );
    }
    assert!(
        finished_after_signal > 0,
        "no request was still in flight when the signal came: the test proves nothing"
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("task")
        .expect("the server exits");
    assert!(status.success(), "exit status {status}");
    let mut rest = String::new();
    stdout.read_line(&mut rest).expect("output");
    assert_eq!(rest.trim(), "stopped");
}
