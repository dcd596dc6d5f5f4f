//! Answers come in the order the query asked for (GraphQL spec, "Serialized Map Ordering"),
//! however the fields' resolvers happen to finish: the engine resolves a query's fields
//! concurrently, and wrote each one in as it completed.

use refhub_tests::spawn_app;
use serde_json::json;

/// Eight top-level fields that each read the database, and nested ones, under aliases whose
/// names appear nowhere else in the answer; each listed in the order the query asks for them.
const QUERY: &str = "{
    q8: tags(first: 5) { totalCount }
    q1: tenant { t2: name t1: slug }
    q7: members(first: 5) { totalCount }
    q2: me { m2: role m1: email }
    q6: pages(first: 5) { totalCount }
    q3: apiKeys(first: 5) { totalCount }
    q5: customFields(first: 5) { totalCount }
    q4: notificationTopics(first: 5) { totalCount }
}";
const ORDER: [&str; 12] = [
    "q8", "q1", "t2", "t1", "q7", "q2", "m2", "m1", "q6", "q3", "q5", "q4",
];

#[tokio::test]
async fn fields_are_answered_in_the_order_asked_every_time() {
    let app = spawn_app().await;
    let owner = app.sign_up("order@example.com", "Order").await;
    for attempt in 0..30 {
        let body = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&owner.access_token)
            .json(&json!({ "query": QUERY }))
            .send()
            .await
            .expect("POST /graphql")
            .text()
            .await
            .expect("a body");
        assert!(!body.contains("\"errors\""), "{body}");
        // The raw text, since a parsed JSON map would not keep the order it came in.
        let positions: Vec<usize> = ORDER
            .iter()
            .map(|key| {
                body.find(&format!("\"{key}\":"))
                    .unwrap_or_else(|| panic!("{key} missing: {body}"))
            })
            .collect();
        assert!(
            positions.is_sorted(),
            "attempt {attempt}: the answer is not in the query's order {ORDER:?}: {body}"
        );
    }
}
