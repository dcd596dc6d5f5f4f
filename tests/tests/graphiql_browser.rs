//! GraphiQL in a real browser: headless Chromium (see `refhub_tests::browser`) opens
//! `GET /graphql` of a running app, puts a query in the editor and an `Authorization: Bearer …`
//! header in GraphiQL's headers editor, runs it with the run button, and the signed-in user's
//! email must appear in the result pane. Without Chromium the test fails (CI installs it).

use refhub_tests::browser::Browser;
use refhub_tests::spawn_app;
use serde_json::{Value, json};

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
    let app = spawn_app().await;
    let email = "owner@graphiql.test";
    let session = app.sign_up(email, "GraphiQL").await;

    let browser = Browser::launch().await;
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
