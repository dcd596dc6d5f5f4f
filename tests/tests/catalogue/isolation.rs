//! Another tenant's catalogue ids answer NOT_FOUND exactly like ids that do not exist, and
//! change nothing.

use refhub_tests::{TestApp, random_id, spawn_app_on_graph, str_at};
use serde_json::{Value, json};

use crate::support::{
    APP_MUTATIONS, Catalogue, Checks, accepting_graph_api, connect_page, create_link, error_shape,
    every_mutation, owner, seed, snapshot,
};

/// Ids of nothing at all, in the shape of a catalogue.
fn random_catalogue() -> Catalogue {
    Catalogue {
        page: random_id(),
        field: random_id(),
        tag: random_id(),
        link: random_id(),
        topic: random_id(),
    }
}

/// The id an operation on `ids` names, to blank it out of messages.
fn named_id(input: &Value) -> &str {
    ["id", "pageId", "topicId"]
        .iter()
        .find_map(|key| input[key].as_str())
        .unwrap_or("")
}

/// Reads each of `ids` by id, one query at a time; returns `(query, id, response)`.
async fn read_each(
    app: &TestApp,
    ids: &Catalogue,
    token: &str,
) -> Vec<(&'static str, String, Value)> {
    let reads = [
        (
            "page",
            "query($id: ID!) { page(id: $id) { id } }",
            &ids.page,
        ),
        (
            "page.refLinks",
            "query($id: ID!) { page(id: $id) { refLinks { totalCount } } }",
            &ids.page,
        ),
        (
            "refLinks",
            "query($id: ID!) { refLinks(pageId: $id) { totalCount } }",
            &ids.page,
        ),
        (
            "notificationTopics",
            "query($id: ID!) { notificationTopics(pageId: $id) { totalCount } }",
            &ids.page,
        ),
        (
            "customField",
            "query($id: ID!) { customField(id: $id) { id } }",
            &ids.field,
        ),
        ("tag", "query($id: ID!) { tag(id: $id) { id } }", &ids.tag),
        (
            "refLink",
            "query($id: ID!) { refLink(id: $id) { id url } }",
            &ids.link,
        ),
        (
            "notificationTopic",
            "query($id: ID!) { notificationTopic(id: $id) { id rnUrl } }",
            &ids.topic,
        ),
    ];
    let mut answers = Vec::new();
    for (name, query, id) in reads {
        let response = app.graphql(query, json!({ "id": id }), Some(token)).await;
        answers.push((name, id.clone(), response));
    }
    answers
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_like_ids_of_nothing() {
    let graph = accepting_graph_api().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let theirs = seed(&app, &acme.access_token).await;
    let before = snapshot(&app, &acme.access_token).await;
    let globex = owner(&app, "owner@globex.test", "Globex").await;
    let b = &globex.access_token;
    let nothing = random_catalogue();

    let reads = read_each(&app, &theirs, b)
        .await
        .into_iter()
        .zip(read_each(&app, &nothing, b).await);
    for ((name, their_id, their_answer), (_, no_id, no_answer)) in reads {
        assert_eq!(
            refhub_tests::error_code(&their_answer).as_deref(),
            Some("NOT_FOUND"),
            "{name} with tenant A's id: {their_answer:#}"
        );
        refhub_tests::assert_no_database_text(&their_answer);
        assert_eq!(
            error_shape(&their_answer, &their_id),
            error_shape(&no_answer, &no_id),
            "{name}: another tenant's id must answer like an id of nothing"
        );
    }

    let mut tried = 0;
    let with_their_ids = every_mutation(&theirs);
    let with_no_ids = every_mutation(&nothing);
    for ((name, their_input, selection), (_, no_input, _)) in
        with_their_ids.into_iter().zip(with_no_ids)
    {
        let their_id = named_id(&their_input);
        let no_id = named_id(&no_input);
        if their_id.is_empty() || APP_MUTATIONS.contains(&name) {
            continue; // nothing of tenant A's named
        }
        tried += 1;
        let their_answer = app
            .mutate(name, their_input.clone(), selection, Some(b))
            .await;
        let no_answer = app.mutate(name, no_input.clone(), selection, Some(b)).await;
        assert_eq!(
            refhub_tests::error_code(&their_answer).as_deref(),
            Some("NOT_FOUND"),
            "{name} with tenant A's id: {their_answer:#}"
        );
        refhub_tests::assert_no_database_text(&their_answer);
        assert_eq!(
            error_shape(&their_answer, their_id),
            error_shape(&no_answer, no_id),
            "{name}: another tenant's id must answer like an id of nothing"
        );
    }

    assert_eq!(tried, 13, "every mutation that names an id was tried");
    assert_eq!(
        snapshot(&app, &acme.access_token).await,
        before,
        "tenant B changed tenant A's catalogue"
    );
    assert!(
        crate::support::send_api_calls(&graph).await.is_empty(),
        "tenant B registered tenant A's topic"
    );
}

#[tokio::test]
async fn links_cannot_borrow_another_tenants_page_field_or_tag() {
    let mut checks = Checks::default();
    let graph = accepting_graph_api().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let theirs = seed(&app, &acme.access_token).await;
    let before = snapshot(&app, &acme.access_token).await;
    let globex = owner(&app, "owner@globex.test", "Globex").await;
    let b = &globex.access_token;
    let page = connect_page(&app, b, "600700800", "Globex", None).await;
    let link = create_link(&app, b, json!({ "pageId": page, "ref": "welcome" })).await;
    let link = str_at(&link, "/id");

    let cases = [
        (json!({ "pageId": theirs.page, "ref": "stolen" }), "pageId"),
        (
            json!({ "pageId": page, "ref": "stolen", "defaultFieldId": theirs.field }),
            "defaultFieldId",
        ),
        (
            json!({ "pageId": page, "ref": "stolen", "tagIds": [theirs.tag] }),
            "tagIds[0]",
        ),
    ];
    for (input, field) in cases {
        let response = app
            .mutate("createRefLink", input.clone(), "{ id }", Some(b))
            .await;
        checks.error(
            &format!("createRefLink {input}"),
            &response,
            "NOT_FOUND",
            Some(field),
        );
        let mut update = input;
        update["id"] = json!(link);
        if field != "pageId" {
            update.as_object_mut().unwrap().remove("pageId");
            update.as_object_mut().unwrap().remove("ref");
            let response = app
                .mutate("updateRefLink", update.clone(), "{ id }", Some(b))
                .await;
            checks.error(
                &format!("updateRefLink {update}"),
                &response,
                "NOT_FOUND",
                Some(field),
            );
        }
    }
    let topic = app
        .mutate(
            "createNotificationTopic",
            json!({ "pageId": theirs.page, "title": "Stolen" }),
            "{ id }",
            Some(b),
        )
        .await;
    checks.error(
        "createNotificationTopic",
        &topic,
        "NOT_FOUND",
        Some("pageId"),
    );
    let payload = app
        .graphql(
            "query($id: ID!, $field: ID!) { refLink(id: $id) { \
             payloadUrl(fields: [{ fieldId: $field, value: \"1\" }]) } }",
            json!({ "id": link, "field": theirs.field }),
            Some(b),
        )
        .await;
    checks.error(
        "payloadUrl",
        &payload,
        "NOT_FOUND",
        Some("fields[0].fieldId"),
    );

    // Tenant B's lists hold only its own rows; tenant A is untouched.
    let lists = app
        .graphql_ok(
            "{ messengerApp { id } pages { nodes { id } } customFields(includeArchived: true) \
             { totalCount } tags { totalCount } notificationTopics { totalCount } }",
            json!({}),
            Some(b),
        )
        .await;
    assert!(lists["messengerApp"].is_null(), "{lists:#}");
    assert_eq!(lists["pages"]["nodes"], json!([{ "id": page }]));
    assert_eq!(lists["customFields"]["totalCount"], 0);
    assert_eq!(lists["tags"]["totalCount"], 0);
    assert_eq!(lists["notificationTopics"]["totalCount"], 0);
    let links = app
        .graphql_ok(
            "query($id: ID!) { refLink(id: $id) { defaultField { id } tags { id } } }",
            json!({ "id": link }),
            Some(b),
        )
        .await;
    assert_eq!(
        links["refLink"],
        json!({ "defaultField": null, "tags": [] }),
        "a failed update attached something"
    );
    assert_eq!(snapshot(&app, &acme.access_token).await, before);
    checks.verify();
}
