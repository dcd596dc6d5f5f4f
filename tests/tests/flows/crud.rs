//! Flows over GraphQL: every step type stored and read back as given (setField values
//! canonical), listing, changing, deleting; every validation rule of the contract with its field
//! path; ids of other tenants; roles; triggers and their conflicts; ref links' `flowId`.

use refhub_tests::{TestApp, assert_error, data, nodes, random_id, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{
    Checks, Field, PAGE, connect_tenant, create_field, create_flow, create_flow_raw, create_tag,
    create_topic, create_trigger, create_trigger_raw, flow_fields, read_flow, send_text,
};

/// A `FlowStep` as read back: the one kind given, every other kind null.
fn step(kind: &str, value: Value) -> Value {
    let mut step = json!({
        "sendText": null, "sendQuickReplies": null, "sendButtons": null,
        "setField": null, "addTag": null, "removeTag": null, "wait": null,
    });
    assert!(step.get(kind).is_some(), "no step kind {kind}");
    step[kind] = value;
    step
}

async fn update_flow(app: &TestApp, token: &str, input: Value) -> Value {
    app.mutate("updateFlow", input, &flow_fields(), Some(token))
        .await
}

async fn delete_flow(app: &TestApp, token: &str, id: &str) -> Value {
    app.mutate("deleteFlow", json!({ "id": id }), "", Some(token))
        .await
}

async fn list_flows(app: &TestApp, token: &str) -> Value {
    app.graphql_ok(
        &format!(
            "{{ flows(first: 10) {{ totalCount pageInfo {{ hasNextPage endCursor }} \
               edges {{ cursor node {} }} }} }}",
            flow_fields()
        ),
        json!({}),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn a_flow_with_every_step_type_is_stored_read_listed_changed_and_deleted() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@crud.test", "Crud", PAGE).await;
    let token = tenant.token();
    let (age, _) = create_field(&app, token, "age", "NUMBER", None).await;
    let (vip_flag, _) = create_field(&app, token, "vip", "BOOLEAN", None).await;
    let (note, _) = create_field(&app, token, "note", "TEXT", None).await;
    let lead = create_tag(&app, token, "lead").await;
    let newbie = create_tag(&app, token, "newbie").await;

    let long_text: String = "é".repeat(2000);
    let input_steps = json!([
        { "sendText": { "text": "Welcome! 🎉" } },
        { "sendQuickReplies": { "text": "Pick one", "replies": [
            { "title": "Red", "payload": "COLOR_RED" },
            { "title": "Blue", "payload": "COLOR_BLUE" },
        ] } },
        { "sendButtons": { "text": "What next?", "buttons": [
            { "title": "Start", "payload": "START" },
            { "title": "Website", "url": "https://example.com/shop?x=1" },
        ] } },
        { "setField": { "fieldId": age, "value": "007" } },
        { "setField": { "fieldId": vip_flag, "value": "YES" } },
        { "setField": { "fieldId": note, "value": "hello there" } },
        { "addTag": { "tagId": lead } },
        { "removeTag": { "tagId": newbie } },
        { "wait": { "seconds": 2592000 } },
        { "sendText": { "text": long_text } },
    ]);
    let expected_steps = json!([
        step("sendText", json!({ "text": "Welcome! 🎉" })),
        step(
            "sendQuickReplies",
            json!({ "text": "Pick one", "replies": [
            { "title": "Red", "payload": "COLOR_RED" },
            { "title": "Blue", "payload": "COLOR_BLUE" },
        ] })
        ),
        step(
            "sendButtons",
            json!({ "text": "What next?", "buttons": [
            { "title": "Start", "payload": "START", "url": null },
            { "title": "Website", "payload": null, "url": "https://example.com/shop?x=1" },
        ] })
        ),
        step(
            "setField",
            json!({ "fieldId": age, "field": { "id": age }, "value": "7" })
        ),
        step(
            "setField",
            json!({ "fieldId": vip_flag, "field": { "id": vip_flag }, "value": "true" })
        ),
        step(
            "setField",
            json!({ "fieldId": note, "field": { "id": note }, "value": "hello there" })
        ),
        step("addTag", json!({ "tagId": lead, "tag": { "id": lead } })),
        step(
            "removeTag",
            json!({ "tagId": newbie, "tag": { "id": newbie } })
        ),
        step("wait", json!({ "seconds": 2592000 })),
        step("sendText", json!({ "text": long_text })),
    ]);

    let created = create_flow_raw(&app, token, "  Welcome series  ", input_steps).await;
    let flow = data(&created)["createFlow"].clone();
    let id = str_at(&flow, "/id");
    assert_eq!(flow["name"], "Welcome series", "the name is trimmed");
    assert_eq!(
        flow["steps"], expected_steps,
        "steps read back from createFlow"
    );
    assert_eq!(flow["triggers"], json!([]));
    assert!(flow["createdAt"].is_string() && flow["updatedAt"].is_string());

    let read = read_flow(&app, token, &id).await;
    assert_eq!(
        data(&read)["flow"],
        flow,
        "flow(id) answers what createFlow answered"
    );

    let second = create_flow(&app, token, "Second", json!([send_text("two")])).await;
    let listed = list_flows(&app, token).await;
    assert_eq!(listed["flows"]["totalCount"], 2);
    let listed_nodes = nodes(&listed["flows"]);
    assert_eq!(
        listed_nodes
            .iter()
            .map(|f| str_at(f, "/id"))
            .collect::<Vec<_>>(),
        vec![id.clone(), second.clone()],
        "flows are listed oldest first"
    );
    assert_eq!(listed_nodes[0], flow);
    // Paging: one at a time.
    let page = app
        .graphql_ok(
            "{ flows(first: 1) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }",
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(page["flows"]["nodes"], json!([{ "id": id }]));
    assert_eq!(page["flows"]["pageInfo"]["hasNextPage"], true);
    let next = app
        .graphql_ok(
            "query($after: String) { flows(first: 1, after: $after) { pageInfo { hasNextPage } nodes { id } } }",
            json!({ "after": page["flows"]["pageInfo"]["endCursor"] }),
            Some(token),
        )
        .await;
    assert_eq!(next["flows"]["nodes"], json!([{ "id": second }]));
    assert_eq!(next["flows"]["pageInfo"]["hasNextPage"], false);

    // Rename only: the steps stay.
    let renamed = update_flow(&app, token, json!({ "id": id, "name": "Renamed" })).await;
    let renamed = data(&renamed)["updateFlow"].clone();
    assert_eq!(renamed["name"], "Renamed");
    assert_eq!(
        renamed["steps"], expected_steps,
        "steps omitted = unchanged"
    );
    assert_eq!(renamed["createdAt"], flow["createdAt"]);
    assert!(
        crate::support::instant(&renamed["updatedAt"])
            >= crate::support::instant(&flow["updatedAt"])
    );
    // New steps only: the name stays.
    let restepped = update_flow(
        &app,
        token,
        json!({ "id": id, "steps": [send_text("only this"), { "wait": { "seconds": 1 } }] }),
    )
    .await;
    let restepped = data(&restepped)["updateFlow"].clone();
    assert_eq!(restepped["name"], "Renamed", "name omitted = unchanged");
    assert_eq!(
        restepped["steps"],
        json!([
            step("sendText", json!({ "text": "only this" })),
            step("wait", json!({ "seconds": 1 })),
        ])
    );
    assert_eq!(data(&read_flow(&app, token, &id).await)["flow"], restepped);

    // Delete.
    let deleted = delete_flow(&app, token, &id).await;
    assert_eq!(
        data(&deleted)["deleteFlow"],
        json!(id),
        "deleteFlow returns the id"
    );
    assert_error(&read_flow(&app, token, &id).await, "NOT_FOUND");
    assert_error(&delete_flow(&app, token, &id).await, "NOT_FOUND");
    assert_error(
        &update_flow(&app, token, json!({ "id": id, "name": "Back" })).await,
        "NOT_FOUND",
    );
    let listed = list_flows(&app, token).await;
    assert_eq!(listed["flows"]["totalCount"], 1);
    assert_eq!(nodes(&listed["flows"])[0]["id"], json!(second));
}

#[tokio::test]
async fn every_malformed_step_is_refused_on_its_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@valid.test", "Valid", PAGE).await;
    let token = tenant.token();
    let (age, _) = create_field(&app, token, "age", "NUMBER", None).await;
    let (old, _) = create_field(&app, token, "old", "TEXT", None).await;
    let archived = app
        .mutate(
            "updateCustomField",
            json!({ "id": old, "archived": true }),
            "{ id }",
            Some(token),
        )
        .await;
    data(&archived);
    // Another tenant's field and tag.
    let other = connect_tenant(&app, "owner@other.test", "Other", "104857600000099").await;
    let (foreign_field, _) = create_field(&app, other.token(), "age", "NUMBER", None).await;
    let foreign_tag = create_tag(&app, other.token(), "lead").await;

    let ok = send_text("fine");
    let reply = |title: &str, payload: &str| json!({ "title": title, "payload": payload });
    let postback = |title: &str, payload: &str| json!({ "title": title, "payload": payload });
    let t21 = "x".repeat(21);
    let p1001 = "p".repeat(1001);
    let quick =
        |replies: Value| json!({ "sendQuickReplies": { "text": "Pick", "replies": replies } });
    let buttons = |buttons: Value| json!({ "sendButtons": { "text": "Go", "buttons": buttons } });

    // (case, steps, code, field)
    let cases: Vec<(&str, Value, &str, Field<'_>)> = vec![
        ("no steps", json!([]), "VALIDATION", Field::Exactly("steps")),
        (
            "51 steps",
            Value::Array(vec![ok.clone(); 51]),
            "VALIDATION",
            Field::Exactly("steps"),
        ),
        (
            "empty text",
            json!([ok, ok, { "sendText": { "text": "" } }]),
            "VALIDATION",
            Field::Exactly("steps[2].sendText.text"),
        ),
        (
            "blank text",
            json!([ok, { "sendText": { "text": " \n\t " } }]),
            "VALIDATION",
            Field::Exactly("steps[1].sendText.text"),
        ),
        (
            "2001-character text",
            json!([ok, { "sendText": { "text": "é".repeat(2001) } }]),
            "VALIDATION",
            Field::Exactly("steps[1].sendText.text"),
        ),
        (
            "blank quick-replies text",
            json!([ok, { "sendQuickReplies": { "text": "  ", "replies": [reply("a", "A")] } }]),
            "VALIDATION",
            Field::Exactly("steps[1].sendQuickReplies.text"),
        ),
        (
            "2001-character quick-replies text",
            json!([{ "sendQuickReplies": { "text": "q".repeat(2001), "replies": [reply("a", "A")] } }]),
            "VALIDATION",
            Field::Exactly("steps[0].sendQuickReplies.text"),
        ),
        (
            "no quick replies",
            json!([quick(json!([]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendQuickReplies.replies"),
        ),
        (
            "14 quick replies",
            json!([
                ok,
                quick(Value::Array(
                    (0..14)
                        .map(|i| reply(&format!("r{i}"), &format!("R{i}")))
                        .collect()
                ))
            ]),
            "VALIDATION",
            Field::Exactly("steps[1].sendQuickReplies.replies"),
        ),
        (
            "empty quick reply title",
            json!([quick(json!([reply("ok", "OK"), reply("", "EMPTY")]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendQuickReplies.replies[1].title"),
        ),
        (
            "21-character quick reply title",
            json!([quick(json!([reply(&t21, "LONG")]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendQuickReplies.replies[0].title"),
        ),
        (
            "empty quick reply payload",
            json!([quick(json!([reply("a", "")]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendQuickReplies.replies[0].payload"),
        ),
        (
            "1001-character quick reply payload",
            json!([quick(json!([reply("a", &p1001)]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendQuickReplies.replies[0].payload"),
        ),
        (
            "641-character button text",
            json!([ok, { "sendButtons": { "text": "b".repeat(641), "buttons": [postback("a", "A")] } }]),
            "VALIDATION",
            Field::Exactly("steps[1].sendButtons.text"),
        ),
        (
            "blank button text",
            json!([{ "sendButtons": { "text": "", "buttons": [postback("a", "A")] } }]),
            "VALIDATION",
            Field::Exactly("steps[0].sendButtons.text"),
        ),
        (
            "no buttons",
            json!([buttons(json!([]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendButtons.buttons"),
        ),
        (
            "4 buttons",
            json!([buttons(json!([
                postback("a", "A"),
                postback("b", "B"),
                postback("c", "C"),
                postback("d", "D")
            ]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendButtons.buttons"),
        ),
        (
            "empty button title",
            json!([buttons(json!([postback("", "A")]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendButtons.buttons[0].title"),
        ),
        (
            "21-character button title",
            json!([buttons(json!([postback("a", "A"), postback(&t21, "B")]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendButtons.buttons[1].title"),
        ),
        (
            "1001-character button payload",
            json!([buttons(json!([postback("a", &p1001)]))]),
            "VALIDATION",
            Field::Exactly("steps[0].sendButtons.buttons[0].payload"),
        ),
        (
            "ftp button url",
            json!([
                ok,
                buttons(json!([{ "title": "a", "url": "ftp://example.com/file" }]))
            ]),
            "VALIDATION",
            Field::Exactly("steps[1].sendButtons.buttons[0].url"),
        ),
        (
            "relative button url",
            json!([buttons(
                json!([postback("a", "A"), { "title": "b", "url": "/shop" }])
            )]),
            "VALIDATION",
            Field::Exactly("steps[0].sendButtons.buttons[1].url"),
        ),
        (
            "a button with neither payload nor url",
            json!([buttons(json!([{ "title": "a" }]))]),
            "VALIDATION",
            Field::StartsWith("steps[0].sendButtons.buttons[0]"),
        ),
        (
            "a button with both payload and url",
            json!([buttons(
                json!([{ "title": "a", "payload": "A", "url": "https://example.com" }])
            )]),
            "VALIDATION",
            Field::StartsWith("steps[0].sendButtons.buttons[0]"),
        ),
        (
            "unknown field",
            json!([ok, { "setField": { "fieldId": random_id(), "value": "1" } }]),
            "NOT_FOUND",
            Field::Exactly("steps[1].setField.fieldId"),
        ),
        (
            "another tenant's field",
            json!([{ "setField": { "fieldId": foreign_field, "value": "1" } }]),
            "NOT_FOUND",
            Field::Exactly("steps[0].setField.fieldId"),
        ),
        (
            "malformed field id",
            json!([{ "setField": { "fieldId": "not-a-uuid", "value": "1" } }]),
            "VALIDATION",
            Field::Exactly("steps[0].setField.fieldId"),
        ),
        (
            "archived field",
            json!([ok, { "setField": { "fieldId": old, "value": "x" } }]),
            "VALIDATION",
            Field::Exactly("steps[1].setField.fieldId"),
        ),
        (
            "a NUMBER field set to abc",
            json!([ok, ok, { "setField": { "fieldId": age, "value": "abc" } }]),
            "VALIDATION",
            Field::Exactly("steps[2].setField.value"),
        ),
        (
            "unknown tag to add",
            json!([{ "addTag": { "tagId": random_id() } }]),
            "NOT_FOUND",
            Field::Exactly("steps[0].addTag.tagId"),
        ),
        (
            "another tenant's tag to add",
            json!([ok, { "addTag": { "tagId": foreign_tag } }]),
            "NOT_FOUND",
            Field::Exactly("steps[1].addTag.tagId"),
        ),
        (
            "unknown tag to remove",
            json!([ok, { "removeTag": { "tagId": random_id() } }]),
            "NOT_FOUND",
            Field::Exactly("steps[1].removeTag.tagId"),
        ),
        (
            "another tenant's tag to remove",
            json!([{ "removeTag": { "tagId": foreign_tag } }]),
            "NOT_FOUND",
            Field::Exactly("steps[0].removeTag.tagId"),
        ),
        (
            "malformed tag id",
            json!([{ "addTag": { "tagId": "tag-1" } }]),
            "VALIDATION",
            Field::Exactly("steps[0].addTag.tagId"),
        ),
        (
            "a wait of 0 seconds",
            json!([ok, { "wait": { "seconds": 0 } }]),
            "VALIDATION",
            Field::Exactly("steps[1].wait.seconds"),
        ),
        (
            "a negative wait",
            json!([{ "wait": { "seconds": -5 } }]),
            "VALIDATION",
            Field::Exactly("steps[0].wait.seconds"),
        ),
        (
            "a wait over 30 days",
            json!([{ "wait": { "seconds": 2592001 } }]),
            "VALIDATION",
            Field::Exactly("steps[0].wait.seconds"),
        ),
    ];

    let mut checks = Checks::default();
    for (case, steps, code, field) in cases {
        let response = create_flow_raw(&app, token, "Bad", steps).await;
        checks.error(&format!("createFlow: {case}"), &response, code, field);
    }
    for (case, name) in [
        ("empty name", String::new()),
        ("blank name", "   ".to_owned()),
        ("101-character name", "n".repeat(101)),
    ] {
        let response = create_flow_raw(&app, token, &name, json!([send_text("hi")])).await;
        checks.error(
            &format!("createFlow: {case}"),
            &response,
            "VALIDATION",
            Field::Exactly("name"),
        );
    }
    // A step with two kinds, or none, is refused (by @oneOf or by the app).
    for (case, step) in [
        (
            "two kinds in one step",
            json!({ "sendText": { "text": "a" }, "wait": { "seconds": 1 } }),
        ),
        ("no kind in a step", json!({})),
    ] {
        let response = create_flow_raw(&app, token, "Bad", json!([step])).await;
        if response.get("errors").is_none() {
            checks.fail(format!("createFlow: {case}: accepted: {response}"));
        }
    }

    // The limits themselves are accepted.
    let limits = json!([
        { "sendText": { "text": "t".repeat(2000) } },
        { "sendQuickReplies": { "text": "q", "replies":
            Value::Array((0..13).map(|i| reply(&format!("{i:0>20}"), &"p".repeat(1000))).collect()) } },
        { "sendButtons": { "text": "b".repeat(640), "buttons": [
            postback(&"x".repeat(20), &"p".repeat(1000)),
            { "title": "http", "url": "http://example.com" },
            { "title": "https", "url": "https://example.com/a?b=c#d" },
        ] } },
        { "wait": { "seconds": 1 } },
        { "wait": { "seconds": 2592000 } },
    ]);
    let response = create_flow_raw(&app, token, &"n".repeat(100), limits).await;
    checks.ok("createFlow at every limit", &response);
    let response =
        create_flow_raw(&app, token, "Fifty", Value::Array(vec![send_text("x"); 50])).await;
    checks.ok("createFlow with 50 steps", &response);

    // updateFlow validates the same way and changes nothing when it refuses.
    let flow = create_flow(&app, token, "Keep", json!([send_text("keep")])).await;
    let before = data(&read_flow(&app, token, &flow).await)["flow"].clone();
    for (case, input, code, field) in [
        (
            "bad step",
            json!({ "id": flow, "steps": [send_text("ok"), { "sendText": { "text": "" } }] }),
            "VALIDATION",
            Field::Exactly("steps[1].sendText.text"),
        ),
        (
            "no steps",
            json!({ "id": flow, "steps": [] }),
            "VALIDATION",
            Field::Exactly("steps"),
        ),
        (
            "blank name",
            json!({ "id": flow, "name": " " }),
            "VALIDATION",
            Field::Exactly("name"),
        ),
        (
            "unknown tag",
            json!({ "id": flow, "name": "New", "steps": [{ "addTag": { "tagId": random_id() } }] }),
            "NOT_FOUND",
            Field::Exactly("steps[0].addTag.tagId"),
        ),
        (
            "malformed id",
            json!({ "id": "not-a-uuid", "name": "x" }),
            "VALIDATION",
            Field::Exactly("id"),
        ),
        (
            "unknown id",
            json!({ "id": random_id(), "name": "x" }),
            "NOT_FOUND",
            Field::None,
        ),
    ] {
        let response = app.mutate("updateFlow", input, "{ id }", Some(token)).await;
        checks.error(&format!("updateFlow: {case}"), &response, code, field);
    }
    let after = data(&read_flow(&app, token, &flow).await)["flow"].clone();
    if after != before {
        checks.fail(format!(
            "a refused updateFlow changed the flow: {before} → {after}"
        ));
    }
    let malformed = read_flow(&app, token, "not-a-uuid").await;
    checks.error(
        "flow(id) malformed",
        &malformed,
        "VALIDATION",
        Field::Exactly("id"),
    );
    let unknown = read_flow(&app, token, &random_id()).await;
    checks.error("flow(id) unknown", &unknown, "NOT_FOUND", Field::None);

    // Only the flows made at the limits and `Keep` exist.
    let count = app
        .graphql_ok("{ flows(first: 0) { totalCount } }", json!({}), Some(token))
        .await;
    if count["flows"]["totalCount"] != json!(3) {
        checks.fail(format!("refused flows were stored: {count}"));
    }
    checks.verify();
}

#[tokio::test]
async fn viewers_read_flows_but_cannot_change_or_start_them() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@roles.test", "Roles", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(&app, token, "Owned", json!([send_text("hi")])).await;
    let topic = create_topic(&app, token, &tenant.page_id, "Weekly deals").await;
    let viewer = app
        .member_of(&tenant.session, "viewer@roles.test", "VIEWER")
        .await;
    let editor = app
        .member_of(&tenant.session, "editor@roles.test", "EDITOR")
        .await;
    let v = viewer.access_token.as_str();

    let read = read_flow(&app, v, &flow).await;
    assert_eq!(
        data(&read)["flow"]["id"],
        json!(flow),
        "a VIEWER reads flows"
    );
    let listed = app
        .graphql_ok(
            "{ flows { totalCount } flowRuns { totalCount } outboundMessages { totalCount } }",
            json!({}),
            Some(v),
        )
        .await;
    assert_eq!(listed["flows"]["totalCount"], 1);

    let mut checks = Checks::default();
    let attempts = [
        (
            "createFlow",
            json!({ "name": "Mine", "steps": [send_text("x")] }),
            "{ id }",
        ),
        (
            "updateFlow",
            json!({ "id": flow, "name": "Mine" }),
            "{ id }",
        ),
        ("deleteFlow", json!({ "id": flow }), ""),
        (
            "startFlow",
            json!({ "flowId": flow, "subscriberIds": [random_id()] }),
            "{ runs { id } }",
        ),
        (
            "createFlowTrigger",
            json!({ "flowId": flow, "rule": { "postback": { "payload": "GO" } } }),
            "{ id }",
        ),
        ("cancelFlowRun", json!({ "id": random_id() }), "{ id }"),
        (
            "sendTopicNotification",
            json!({ "topicId": topic, "message": { "text": "Deals" } }),
            "{ queued }",
        ),
    ];
    for (name, input, selection) in &attempts {
        let response = app.mutate(name, input.clone(), selection, Some(v)).await;
        checks.error(
            &format!("VIEWER {name}"),
            &response,
            "FORBIDDEN",
            Field::None,
        );
    }
    let unauthenticated = app
        .mutate(
            "createFlow",
            json!({ "name": "x", "steps": [send_text("x")] }),
            "{ id }",
            None,
        )
        .await;
    checks.error(
        "anonymous createFlow",
        &unauthenticated,
        "UNAUTHENTICATED",
        Field::None,
    );
    checks.verify();
    assert_eq!(
        data(&read_flow(&app, v, &flow).await)["flow"]["name"],
        "Owned"
    );

    // An EDITOR may.
    let e = editor.access_token.as_str();
    let made = create_flow(&app, e, "Editor's", json!([send_text("x")])).await;
    let trigger = create_trigger(
        &app,
        e,
        &made,
        None,
        json!({ "postback": { "payload": "GO" } }),
    )
    .await;
    assert!(!trigger.is_empty());
    let renamed = app
        .mutate(
            "updateFlow",
            json!({ "id": made, "name": "Edited" }),
            "{ name }",
            Some(e),
        )
        .await;
    assert_eq!(data(&renamed)["updateFlow"]["name"], "Edited");
    let deleted = app
        .mutate("deleteFlow", json!({ "id": made }), "", Some(e))
        .await;
    assert_eq!(data(&deleted)["deleteFlow"], json!(made));
}

#[tokio::test]
async fn triggers_are_listed_on_their_flow_and_the_same_rule_twice_conflicts() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@rules.test", "Rules", PAGE).await;
    let token = tenant.token();
    let page = tenant.page_id.clone();
    let flow = create_flow(&app, token, "Rules", json!([send_text("hi")])).await;
    let other_flow = create_flow(&app, token, "Other", json!([send_text("ho")])).await;
    let topic = create_topic(&app, token, &page, "Weekly deals").await;

    let postback = create_trigger_raw(
        &app,
        token,
        &flow,
        Some(&page),
        json!({ "postback": { "payload": "GET_STARTED" } }),
    )
    .await;
    let postback = data(&postback)["createFlowTrigger"].clone();
    assert_eq!(postback["flow"]["id"], json!(flow));
    assert_eq!(postback["page"]["id"], json!(page));
    assert_eq!(
        postback["rule"],
        json!({ "postback": { "payload": "GET_STARTED" }, "keyword": null, "topicOptIn": null })
    );
    let keyword = create_trigger_raw(
        &app,
        token,
        &flow,
        None,
        json!({ "keyword": { "keyword": "Price" } }),
    )
    .await;
    let keyword = data(&keyword)["createFlowTrigger"].clone();
    assert_eq!(keyword["page"], Value::Null, "pageId omitted = every page");
    assert_eq!(
        keyword["rule"]["keyword"],
        json!({ "keyword": "Price", "match": "EXACT" }),
        "match defaults to EXACT"
    );
    let contains = create_trigger(
        &app,
        token,
        &flow,
        None,
        json!({ "keyword": { "keyword": "help", "match": "CONTAINS" } }),
    )
    .await;
    let opt_in = create_trigger_raw(
        &app,
        token,
        &flow,
        Some(&page),
        json!({ "topicOptIn": { "topicId": topic } }),
    )
    .await;
    let opt_in = data(&opt_in)["createFlowTrigger"].clone();
    assert_eq!(
        opt_in["rule"]["topicOptIn"],
        json!({ "topic": { "id": topic } })
    );

    let read = read_flow(&app, token, &flow).await;
    let triggers = data(&read)["flow"]["triggers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut got: Vec<String> = triggers.iter().map(|t| str_at(t, "/id")).collect();
    let mut want = vec![
        str_at(&postback, "/id"),
        str_at(&keyword, "/id"),
        contains.clone(),
        str_at(&opt_in, "/id"),
    ];
    got.sort();
    want.sort();
    assert_eq!(got, want, "Flow.triggers: {triggers:#?}");

    let mut checks = Checks::default();
    for (case, flow_id, page_id, rule, code, field) in [
        (
            "the same postback rule",
            &flow,
            Some(&page),
            json!({ "postback": { "payload": "GET_STARTED" } }),
            "CONFLICT",
            Field::None,
        ),
        (
            "the same postback rule on another flow",
            &other_flow,
            Some(&page),
            json!({ "postback": { "payload": "GET_STARTED" } }),
            "CONFLICT",
            Field::None,
        ),
        (
            "the same keyword in other case",
            &other_flow,
            None,
            json!({ "keyword": { "keyword": "PRICE" } }),
            "CONFLICT",
            Field::None,
        ),
        (
            "the same topic",
            &other_flow,
            Some(&page),
            json!({ "topicOptIn": { "topicId": topic } }),
            "CONFLICT",
            Field::None,
        ),
        (
            "an unknown flow",
            &random_id(),
            None,
            json!({ "postback": { "payload": "X" } }),
            "NOT_FOUND",
            Field::None,
        ),
        (
            "a malformed flow id",
            &"nope".to_owned(),
            None,
            json!({ "postback": { "payload": "X" } }),
            "VALIDATION",
            Field::Exactly("flowId"),
        ),
        (
            "an unknown page",
            &flow,
            Some(&random_id()),
            json!({ "postback": { "payload": "X" } }),
            "NOT_FOUND",
            Field::None,
        ),
        (
            "an unknown topic",
            &flow,
            None,
            json!({ "topicOptIn": { "topicId": random_id() } }),
            "NOT_FOUND",
            Field::None,
        ),
    ] {
        let response =
            create_trigger_raw(&app, token, flow_id, page_id.map(String::as_str), rule).await;
        checks.error(
            &format!("createFlowTrigger: {case}"),
            &response,
            code,
            field,
        );
    }
    // A payload differing in case is another rule (postbacks compare exactly).
    let other_case = create_trigger_raw(
        &app,
        token,
        &other_flow,
        Some(&page),
        json!({ "postback": { "payload": "get_started" } }),
    )
    .await;
    checks.ok("a postback payload in other case", &other_case);
    checks.verify();

    // Deleting a trigger.
    let deleted = app
        .mutate(
            "deleteFlowTrigger",
            json!({ "id": contains }),
            "",
            Some(token),
        )
        .await;
    assert_eq!(data(&deleted)["deleteFlowTrigger"], json!(contains));
    let again = app
        .mutate(
            "deleteFlowTrigger",
            json!({ "id": contains }),
            "",
            Some(token),
        )
        .await;
    assert_error(&again, "NOT_FOUND");
    let read = read_flow(&app, token, &flow).await;
    assert_eq!(
        data(&read)["flow"]["triggers"].as_array().map(Vec::len),
        Some(3)
    );
    // Once deleted, the rule may be made again.
    create_trigger(
        &app,
        token,
        &other_flow,
        None,
        json!({ "keyword": { "keyword": "help", "match": "CONTAINS" } }),
    )
    .await;
}

#[tokio::test]
async fn a_ref_link_names_its_flow_keeps_it_when_omitted_and_loses_it_on_null_or_deletion() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@links.test", "Links", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(&app, token, "Welcome", json!([send_text("hi")])).await;
    let other = create_flow(&app, token, "Other", json!([send_text("ho")])).await;

    let unknown = app
        .mutate(
            "createRefLink",
            json!({ "pageId": tenant.page_id, "ref": "nowhere", "flowId": random_id() }),
            "{ id }",
            Some(token),
        )
        .await;
    assert_error(&unknown, "NOT_FOUND");

    let created = app
        .mutate(
            "createRefLink",
            json!({ "pageId": tenant.page_id, "ref": "summer_coupon", "flowId": flow }),
            "{ id flow { id name } }",
            Some(token),
        )
        .await;
    let link = data(&created)["createRefLink"].clone();
    assert_eq!(link["flow"], json!({ "id": flow, "name": "Welcome" }));
    let id = str_at(&link, "/id");

    let update = async |input: Value| {
        app.mutate("updateRefLink", input, "{ id flow { id } }", Some(token))
            .await
    };
    let kept = update(json!({ "id": id, "text": "hello" })).await;
    assert_eq!(
        data(&kept)["updateRefLink"]["flow"],
        json!({ "id": flow }),
        "flowId omitted keeps the flow"
    );
    let changed = update(json!({ "id": id, "flowId": other })).await;
    assert_eq!(
        data(&changed)["updateRefLink"]["flow"],
        json!({ "id": other })
    );
    let refused = update(json!({ "id": id, "flowId": random_id() })).await;
    assert_error(&refused, "NOT_FOUND");
    let cleared = update(json!({ "id": id, "flowId": null })).await;
    assert_eq!(
        data(&cleared)["updateRefLink"]["flow"],
        Value::Null,
        "explicit null clears"
    );

    // Deleting a flow clears the links that start it.
    let set = update(json!({ "id": id, "flowId": flow })).await;
    assert_eq!(data(&set)["updateRefLink"]["flow"], json!({ "id": flow }));
    let deleted = app
        .mutate("deleteFlow", json!({ "id": flow }), "", Some(token))
        .await;
    data(&deleted);
    let read = app
        .graphql_ok(
            "query($id: ID!) { refLink(id: $id) { id flow { id } } }",
            json!({ "id": id }),
            Some(token),
        )
        .await;
    assert_eq!(
        read["refLink"]["flow"],
        Value::Null,
        "deleteFlow clears the link's flow"
    );
}

#[tokio::test]
async fn another_tenants_flow_is_not_found_everywhere() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@acme.test", "Acme", PAGE).await;
    let globex = connect_tenant(&app, "owner@globex.test", "Globex", "104857600000002").await;
    let flow = create_flow(&app, acme.token(), "Acme's", json!([send_text("hi")])).await;
    let subscriber =
        crate::support::known_subscriber_on(&app, &globex, "104857600000002", "6100000000000077")
            .await;
    let g = globex.token();

    let mut checks = Checks::default();
    checks.error(
        "flow",
        &read_flow(&app, g, &flow).await,
        "NOT_FOUND",
        Field::None,
    );
    for (name, input, selection) in [
        (
            "updateFlow",
            json!({ "id": flow, "name": "Mine" }),
            "{ id }",
        ),
        (
            "updateFlow steps",
            json!({ "id": flow, "steps": [send_text("mine")] }),
            "{ id }",
        ),
        ("deleteFlow", json!({ "id": flow }), ""),
        (
            "startFlow",
            json!({ "flowId": flow, "subscriberIds": [subscriber] }),
            "{ runs { id } }",
        ),
        (
            "createFlowTrigger",
            json!({ "flowId": flow, "rule": { "postback": { "payload": "GO" } } }),
            "{ id }",
        ),
    ] {
        let mutation = name.split(' ').next().unwrap_or(name);
        let response = app.mutate(mutation, input, selection, Some(g)).await;
        checks.error(name, &response, "NOT_FOUND", Field::None);
    }
    let link = app
        .mutate(
            "createRefLink",
            json!({ "pageId": globex.page_id, "ref": "stolen", "flowId": flow }),
            "{ id }",
            Some(g),
        )
        .await;
    checks.error(
        "createRefLink with another tenant's flow",
        &link,
        "NOT_FOUND",
        Field::None,
    );
    checks.verify();

    let read = read_flow(&app, acme.token(), &flow).await;
    assert_eq!(data(&read)["flow"]["name"], "Acme's", "untouched");
    assert_eq!(data(&read)["flow"]["triggers"], json!([]));
    let listed = app
        .graphql_ok("{ flows { totalCount } }", json!({}), Some(g))
        .await;
    assert_eq!(listed["flows"]["totalCount"], 0);
}
