//! A page of subscribers with their field values, tags and opt-ins:
//! - no N+1: it costs the same number of SQL statements for 5 subscribers as for 50 (related
//!   data is fetched with the page, in batches, not per subscriber);
//! - what a page shows of each subscriber (fetched with the page) is what the subscriber shows
//!   alone (fetched by the batch loaders), whether the page selects through `nodes`, through
//!   `edges { node }`, or through fragments.

use refhub_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::hooks::{Tenant, all_subscribers, body_of_entries, create_field, create_tag};
use crate::support::{
    PAGE, WAIT, connect_tenant, create_link, create_topic, deliver, eventually, now_ms, opt_in,
    referral,
};

const PEOPLE: usize = 60;
const DAY_MS: i64 = 24 * 3_600_000;

const PAGE_QUERY: &str = "query($page: ID!, $first: Int) { subscribers(pageId: $page, first: $first) { \
     nodes { id psid fields { field { id name } value } tags { id name } \
             optIns { topic { id title } status } } } }";

/// Runs the page query for `first` subscribers; returns the statements it cost and the nodes.
async fn measured(app: &TestApp, token: &str, page: &str, first: usize) -> (u64, Vec<Value>) {
    let before = app.store.statements_executed();
    let response = app
        .graphql(
            PAGE_QUERY,
            json!({ "page": page, "first": first }),
            Some(token),
        )
        .await;
    let after = app.store.statements_executed();
    let nodes = refhub_tests::data(&response)["subscribers"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no nodes: {response:#}"));
    (after - before, nodes)
}

/// A tenant whose page has [`PEOPLE`] subscribers, each with a field value, two tags and an
/// opt-in; returns once all of them are processed.
async fn seeded(app: &TestApp, email: &str) -> Tenant {
    let tenant = connect_tenant(app, email, "N plus one", PAGE).await;
    let token = tenant.token();
    let (city, _) = create_field(app, token, "city", "TEXT", None).await;
    let vip = create_tag(app, token, "vip").await;
    let lead = create_tag(app, token, "lead").await;
    create_link(
        app,
        token,
        &tenant.page_id,
        "seed",
        Some(&city),
        &[&vip, &lead],
    )
    .await;
    create_topic(app, token, &tenant.page_id, "Daily news").await;

    // Everyone arrives through the link (a field value and two tags) and opts in.
    let start = now_ms() - 3_600_000;
    let expiry = now_ms() + 180 * DAY_MS;
    let items: Vec<Value> = (0..PEOPLE)
        .flat_map(|i| {
            let psid = format!("61000000000{:05}", 9000 + i);
            let at = start + i as i64 * 1_000;
            [
                referral(&psid, at, &format!("seed--town{i}")),
                opt_in(
                    &psid,
                    at + 500,
                    &format!("TOKEN-NP1-{i}"),
                    "daily news",
                    expiry,
                ),
            ]
        })
        .collect();
    for chunk in items.chunks(20) {
        deliver(app, &tenant, body_of_entries(chunk)).await;
    }
    eventually(
        &format!("{PEOPLE} subscribers with a field value, two tags and an opt-in"),
        WAIT * 4,
        async || {
            let all = all_subscribers(app, token, &tenant.page_id, Value::Null).await;
            let ready = all
                .iter()
                .filter(|s| {
                    s["fields"].as_array().is_some_and(|f| !f.is_empty())
                        && s["tags"].as_array().is_some_and(|t| t.len() == 2)
                        && s["optIns"].as_array().is_some_and(|o| o.len() == 1)
                })
                .count();
            if ready == PEOPLE {
                Ok(())
            } else {
                Err(format!("{ready} of {} ready", all.len()))
            }
        },
    )
    .await;
    tenant
}

#[tokio::test]
async fn a_page_of_subscribers_with_fields_tags_and_opt_ins_costs_the_same_statements_for_5_or_50()
{
    let app = spawn_app().await;
    let tenant = seeded(&app, "owner@nplus1.test").await;
    let token = tenant.token();

    // Idle workers poll now and then, and their statements count too: measure each size many
    // times, interleaved, and keep the smallest.
    let mut least = [u64::MAX; 3];
    let sizes = [5, 25, 50];
    for _ in 0..15 {
        for (slot, size) in sizes.iter().enumerate() {
            let (statements, nodes) = measured(&app, token, &tenant.page_id, *size).await;
            assert_eq!(nodes.len(), *size, "a page of {size}");
            assert!(
                nodes.iter().all(|n| {
                    n["fields"][0]["field"]["name"] == "city"
                        && n["tags"].as_array().is_some_and(|t| t.len() == 2)
                        && n["optIns"][0]["topic"]["title"] == "Daily news"
                }),
                "every subscriber has its related data: {nodes:#?}"
            );
            least[slot] = least[slot].min(statements);
        }
    }
    assert!(least[0] > 0, "the statement counter counts nothing?");
    assert_eq!(
        least[0], least[2],
        "statements for a page of 5 ({}), of 25 ({}) and of 50 ({}) subscribers with fields, \
         tags and opt-ins must not grow with the page size",
        least[0], least[1], least[2]
    );
    assert_eq!(
        least[1], least[2],
        "5: {}, 25: {}, 50: {}",
        least[0], least[1], least[2]
    );
    eprintln!(
        "statements per page: 5 -> {}, 25 -> {}, 50 -> {}",
        least[0], least[1], least[2]
    );
}

const PERSON: &str = "fragment Person on Subscriber { id psid fields { field { id name } value } \
     tags { id name } optIns { topic { id title } topicTitle status expiresAt } }";

#[tokio::test]
async fn a_page_shows_each_subscriber_as_it_shows_alone_through_nodes_edges_and_fragments() {
    let app = spawn_app().await;
    let tenant = seeded(&app, "owner@page-nodes.test").await;
    let token = tenant.token();

    let page = app
        .graphql(
            &format!(
                "{PERSON} query($page: ID!) {{ subscribers(pageId: $page, first: 10) {{ \
                 nodes {{ ...Person }} \
                 edges {{ node {{ ... on Subscriber {{ id tags {{ name }} optIns {{ status }} }} }} }} }} }}"
            ),
            json!({ "page": tenant.page_id }),
            Some(token),
        )
        .await;
    let list = &refhub_tests::data(&page)["subscribers"];
    let nodes = list["nodes"].as_array().expect("nodes");
    let edges = list["edges"].as_array().expect("edges");
    assert_eq!(nodes.len(), 10, "{page:#}");
    assert_eq!(edges.len(), 10, "{page:#}");
    for (node, edge) in nodes.iter().zip(edges) {
        let alone = app
            .graphql(
                &format!("{PERSON} query($id: ID!) {{ subscriber(id: $id) {{ ...Person }} }}"),
                json!({ "id": node["id"] }),
                Some(token),
            )
            .await;
        let alone = &refhub_tests::data(&alone)["subscriber"];
        assert_eq!(node, alone, "the page's node and the subscriber alone");
        assert_eq!(node["fields"][0]["field"]["name"], "city", "{node:#}");
        assert_eq!(node["tags"].as_array().map(Vec::len), Some(2), "{node:#}");
        assert_eq!(
            node["optIns"][0]["topic"]["title"], "Daily news",
            "{node:#}"
        );
        assert_eq!(node["optIns"][0]["status"], "ACTIVE", "{node:#}");

        let edge_node = &edge["node"];
        assert_eq!(
            edge_node["id"], node["id"],
            "edges and nodes in the same order"
        );
        let names = |n: &Value| -> Vec<Value> {
            n["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .map(|t| t["name"].clone())
                .collect()
        };
        assert_eq!(names(edge_node), names(node), "tags through edges");
        assert_eq!(
            names(node),
            [json!("lead"), json!("vip")],
            "a subscriber's tags come by name, whichever was added first"
        );
        assert_eq!(edge_node["optIns"][0]["status"], "ACTIVE", "{edge_node:#}");
    }
}
