use std::collections::BTreeSet;

use refhub_tests::{TestApp, assert_validation, data, spawn_app, str_at};
use serde_json::{Value, json};

/// Walks a connection page by page; returns the node ids and checks the page metadata.
async fn walk(
    app: &TestApp,
    token: &str,
    field: &str,
    page_size: usize,
    total: usize,
) -> Vec<String> {
    let query = format!(
        "query($first: Int, $after: String) {{ {field}(first: $first, after: $after) {{
            totalCount edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    );
    let mut ids = Vec::new();
    let mut after = Value::Null;
    for _ in 0..=total {
        let page = app
            .graphql_ok(
                &query,
                json!({ "first": page_size, "after": after }),
                Some(token),
            )
            .await;
        let connection = &page[field];
        assert_eq!(connection["totalCount"], total, "{connection:#}");
        let edges = connection["edges"].as_array().expect("edges");
        let expected = page_size.min(total - ids.len());
        assert_eq!(edges.len(), expected, "page after {after}: {connection:#}");
        for edge in edges {
            assert!(edge["cursor"].is_string(), "{edge:#}");
            ids.push(str_at(edge, "/node/id"));
        }
        let has_next = connection["pageInfo"]["hasNextPage"]
            .as_bool()
            .expect("hasNextPage");
        assert_eq!(has_next, ids.len() < total, "{connection:#}");
        if !has_next {
            return ids;
        }
        after = connection["pageInfo"]["endCursor"].clone();
        assert!(after.is_string(), "{connection:#}");
    }
    panic!("{field} did not end after {total} nodes");
}

#[tokio::test]
async fn members_are_paged_with_first_and_after() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    for n in 1..=4 {
        app.member_of(&owner, &format!("member{n}@example.com"), "VIEWER")
            .await;
    }

    let ids = walk(&app, &owner.access_token, "members", 2, 5).await;

    let distinct: BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 5, "a member was repeated: {ids:?}");
    let all = app
        .graphql_ok(
            "{ members(first: 100) { edges { node { id } } } }",
            json!({}),
            owner.token(),
        )
        .await;
    let all: BTreeSet<_> = refhub_tests::nodes(&all["members"])
        .iter()
        .map(|n| str_at(n, "/id"))
        .collect();
    assert_eq!(distinct, all.iter().collect());
}

#[tokio::test]
async fn api_keys_are_paged_with_first_and_after() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let mut created = BTreeSet::new();
    for n in 1..=3 {
        let (id, _) = app
            .create_api_key(&owner.access_token, &format!("key {n}"), "VIEWER")
            .await;
        created.insert(id);
    }

    let ids = walk(&app, &owner.access_token, "apiKeys", 2, 3).await;

    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), created);
}

#[tokio::test]
async fn more_than_100_per_page_is_a_validation_error() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;

    for field in ["members", "apiKeys"] {
        let response = app
            .graphql(
                &format!("{{ {field}(first: 101) {{ totalCount }} }}"),
                json!({}),
                owner.token(),
            )
            .await;
        assert_validation(&response, "first");
    }
    let hundred = app
        .graphql(
            "{ members(first: 100) { totalCount } }",
            json!({}),
            owner.token(),
        )
        .await;
    assert_eq!(data(&hundred)["members"]["totalCount"], 1);
}

/// A page's count comes with its rows; a page that has no rows (after the last item, or
/// `first: 0`) still says how long the list is.
#[tokio::test]
async fn a_page_without_rows_still_counts_the_list() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    for n in 1..=2 {
        app.member_of(&owner, &format!("member{n}@example.com"), "VIEWER")
            .await;
    }
    let query = "query($first: Int, $after: String) { members(first: $first, after: $after) { \
                 totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }";

    let all = app
        .graphql_ok(query, json!({ "first": 3 }), owner.token())
        .await;
    assert_eq!(all["members"]["totalCount"], 3, "{all:#}");
    let last = all["members"]["pageInfo"]["endCursor"].clone();
    assert!(last.is_string(), "{all:#}");

    let after_last = app
        .graphql_ok(query, json!({ "first": 3, "after": last }), owner.token())
        .await;
    assert_eq!(after_last["members"]["totalCount"], 3, "{after_last:#}");
    assert_eq!(after_last["members"]["edges"], json!([]), "{after_last:#}");
    assert_eq!(after_last["members"]["pageInfo"]["hasNextPage"], false);

    let none_asked = app
        .graphql_ok(query, json!({ "first": 0 }), owner.token())
        .await;
    assert_eq!(none_asked["members"]["totalCount"], 3, "{none_asked:#}");
    assert_eq!(none_asked["members"]["edges"], json!([]), "{none_asked:#}");
    assert_eq!(none_asked["members"]["pageInfo"]["hasNextPage"], true);
}
