//! The isolation matrix (issue #7, item 3).
//!
//! Every field of the live schema that takes an `ID` argument — queries, mutations and object
//! fields, directly, inside their `input`, in lists of ids and in nested inputs such as
//! `steps[].setField.fieldId` — is found by introspection over HTTP. Each is then called by
//! tenant B's owner with one of tenant A's ids at a time (every other id B's own, every other
//! argument a valid value), and must answer `NOT_FOUND` exactly as it answers a random id,
//! carrying nothing of A's data. Both tenants' data are read before and after the matrix and
//! must be identical: nothing was changed, and no call half-applied.
//!
//! Coverage cannot shrink silently: an operation or an id argument the table of fillers does
//! not know fails the test, and so does a filler (or exception) the schema no longer needs.

#[allow(dead_code)]
#[path = "webhooks/support.rs"]
mod hooks;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use refhub_tests::{PASSWORD, TestApp, data, random_id, spawn_app_on_graph, str_at};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use hooks::{Tenant, WAIT, connect_tenant, eventually, settled_events};

/// Facebook page ids of the two tenants.
const A_PAGE: &str = hooks::PAGE;
const B_PAGE: &str = "104857600000002";
/// PSIDs of their subscribers.
const A_PSID: &str = "6100000000000801";
const B_PSID: &str = "6100000000000802";
/// Every name and text of tenant A carries this, so that a leak shows in any answer.
const A_MARK: &str = "Acmeonly";

// ---------------------------------------------------------------------------------------------
// The kinds of ids, and the two tenants' ids of each.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Tenant,
    /// A member's user id (for B: its owner's, used only as a placeholder).
    Member,
    ApiKey,
    /// A pending invitation.
    Invitation,
    Page,
    Field,
    Tag,
    RefLink,
    Topic,
    Subscriber,
    Event,
    Flow,
    Trigger,
    Run,
    Message,
}

/// One tenant: its owner's session and one id of each kind.
struct World {
    tenant: Tenant,
    ids: BTreeMap<Kind, String>,
}

impl World {
    fn id(&self, kind: Kind) -> String {
        self.ids
            .get(&kind)
            .unwrap_or_else(|| panic!("this tenant has no {kind:?}"))
            .clone()
    }

    fn token(&self) -> &str {
        self.tenant.token()
    }
}

// ---------------------------------------------------------------------------------------------
// The schema, by introspection.

const INTROSPECTION: &str = r#"
query Matrix {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types {
      kind name
      fields(includeDeprecated: true) {
        name
        args { name defaultValue type { ...T } }
        type { ...T }
      }
      inputFields { name type { ...T } }
    }
  }
}
fragment T on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
}
"#;

struct Schema {
    types: BTreeMap<String, Value>,
    query: String,
    mutation: String,
    subscription: Option<String>,
}

impl Schema {
    async fn introspect(app: &TestApp, token: &str) -> Schema {
        let response = app.graphql(INTROSPECTION, json!({}), Some(token)).await;
        let schema = &data(&response)["__schema"];
        let types = schema["types"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| (str_at(t, "/name"), t.clone()))
            .collect();
        Schema {
            types,
            query: str_at(schema, "/queryType/name"),
            mutation: str_at(schema, "/mutationType/name"),
            subscription: schema["subscriptionType"]["name"]
                .as_str()
                .map(str::to_owned),
        }
    }

    fn kind_of(&self, name: &str) -> &str {
        self.types[name]["kind"].as_str().unwrap_or("?")
    }

    /// A field definition of an object type.
    fn field(&self, owner: &str, name: &str) -> &Value {
        self.types[owner]["fields"]
            .as_array()
            .and_then(|fields| fields.iter().find(|f| f["name"] == name))
            .unwrap_or_else(|| panic!("{owner}.{name} is not in the schema"))
    }

    /// Every (type, field) whose arguments hold an `ID` somewhere, with those paths.
    fn id_paths(&self) -> BTreeMap<String, Vec<IdPath>> {
        let mut found = BTreeMap::new();
        for (name, ty) in &self.types {
            if ty["kind"] != "OBJECT" || name.starts_with("__") {
                continue;
            }
            for field in ty["fields"].as_array().into_iter().flatten() {
                let mut paths = Vec::new();
                for arg in field["args"].as_array().into_iter().flatten() {
                    let arg_name = str_at(arg, "/name");
                    self.walk(&arg["type"], arg_name, &mut Vec::new(), &mut paths);
                }
                if !paths.is_empty() {
                    found.insert(format!("{name}.{}", str_at(field, "/name")), paths);
                }
            }
        }
        found
    }

    fn walk(&self, ty: &Value, prefix: String, stack: &mut Vec<String>, out: &mut Vec<IdPath>) {
        let ty = strip_non_null(ty);
        match ty["kind"].as_str() {
            Some("LIST") => {
                let element = strip_non_null(&ty["ofType"]);
                if element["kind"] == "SCALAR" && element["name"] == "ID" {
                    out.push(IdPath {
                        path: format!("{prefix}[]"),
                        list: true,
                    });
                } else {
                    self.walk(element, format!("{prefix}[]"), stack, out);
                }
            }
            Some("SCALAR") if ty["name"] == "ID" => out.push(IdPath {
                path: prefix,
                list: false,
            }),
            Some("INPUT_OBJECT") => {
                let name = str_at(ty, "/name");
                if stack.contains(&name) {
                    return;
                }
                stack.push(name.clone());
                for field in self.types[&name]["inputFields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let child = format!("{prefix}.{}", str_at(field, "/name"));
                    self.walk(&field["type"], child, stack, out);
                }
                stack.pop();
            }
            _ => {}
        }
    }

    /// A selection of a value of `ty`: its scalars, and those of its objects down to `depth`.
    fn selection(&self, ty: &Value, depth: usize) -> String {
        let name = named(ty);
        if matches!(self.kind_of(&name), "SCALAR" | "ENUM") {
            return String::new();
        }
        let mut parts = vec!["__typename".to_owned()];
        for field in self.types[&name]["fields"].as_array().into_iter().flatten() {
            let required_arg = field["args"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|arg| arg["type"]["kind"] == "NON_NULL" && arg["defaultValue"].is_null());
            if required_arg {
                continue;
            }
            let field_name = str_at(field, "/name");
            let inner = named(&field["type"]);
            match self.kind_of(&inner) {
                "SCALAR" | "ENUM" => parts.push(field_name),
                "OBJECT" if depth > 1 => {
                    parts.push(format!(
                        "{field_name} {}",
                        self.selection(&field["type"], depth - 1)
                    ));
                }
                _ => {}
            }
        }
        format!("{{ {} }}", parts.join(" "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct IdPath {
    /// `id`, `input.pageId`, `input.tagIds[]`, `input.steps[].setField.fieldId`, …
    path: String,
    /// A list of ids (`[ID!]`): the whole list is replaced.
    list: bool,
}

fn strip_non_null(ty: &Value) -> &Value {
    if ty["kind"] == "NON_NULL" {
        strip_non_null(&ty["ofType"])
    } else {
        ty
    }
}

fn named(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL" | "LIST") => named(&ty["ofType"]),
        _ => str_at(ty, "/name"),
    }
}

fn type_string(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_string(&ty["ofType"])),
        Some("LIST") => format!("[{}]", type_string(&ty["ofType"])),
        _ => str_at(ty, "/name"),
    }
}

/// Puts `leaf` at `path` (every element of the lists on the way); returns how many places
/// took it. A path whose last segment is a list (`tagIds[]`) is replaced whole.
fn set_path(value: &mut Value, segments: &[&str], leaf: &Value) -> usize {
    let Some((first, rest)) = segments.split_first() else {
        return 0;
    };
    let (name, list) = match first.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (*first, false),
    };
    let Some(child) = value.get_mut(name) else {
        return 0;
    };
    if rest.is_empty() {
        *child = leaf.clone();
        return 1;
    }
    if list {
        child
            .as_array_mut()
            .map(|items| items.iter_mut().map(|i| set_path(i, rest, leaf)).sum())
            .unwrap_or(0)
    } else {
        set_path(child, rest, leaf)
    }
}

// ---------------------------------------------------------------------------------------------
// The fillers: for every operation with an id argument, the kind of id each path takes and
// arguments valid for B. `n` makes names and refs unique, so that a call that wrongly
// succeeded cannot make a later one fail for another reason.

/// How an operation is called.
enum Caller {
    /// By B's owner, with its access token.
    Owner,
    /// Without credentials (`logIn`), with B's owner's e-mail and password.
    Anonymous,
}

struct Filler {
    paths: Vec<(&'static str, Kind)>,
    args: Value,
    caller: Caller,
}

fn filler(op: &str, b: &World, n: usize) -> Option<Filler> {
    use Kind::*;
    let id = |kind| json!(b.id(kind));
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        (today - chrono::Duration::days(7)).to_string(),
        today.to_string(),
    );
    let report = |arg: &str, kind| json!({ arg: id(kind), "from": from, "to": to });
    let steps = json!([
        { "sendText": { "text": format!("step {n}") } },
        { "setField": { "fieldId": id(Field), "value": format!("v{n}") } },
        { "addTag": { "tagId": id(Tag) } },
        { "removeTag": { "tagId": id(Tag) } },
    ]);
    let owner = |paths: Vec<(&'static str, Kind)>, args: Value| {
        Some(Filler {
            paths,
            args,
            caller: Caller::Owner,
        })
    };
    match op {
        "Query.page" => owner(vec![("id", Page)], json!({ "id": id(Page) })),
        "Query.customField" => owner(vec![("id", Field)], json!({ "id": id(Field) })),
        "Query.tag" => owner(vec![("id", Tag)], json!({ "id": id(Tag) })),
        "Query.refLinks" => owner(vec![("pageId", Page)], json!({ "pageId": id(Page) })),
        "Query.refLink" => owner(vec![("id", RefLink)], json!({ "id": id(RefLink) })),
        "Query.notificationTopics" => owner(vec![("pageId", Page)], json!({ "pageId": id(Page) })),
        "Query.notificationTopic" => owner(vec![("id", Topic)], json!({ "id": id(Topic) })),
        "Query.subscribers" => owner(
            vec![
                ("pageId", Page),
                ("filter.tagId", Tag),
                ("filter.refLinkId", RefLink),
                ("filter.field.fieldId", Field),
                ("filter.optedInTopicId", Topic),
            ],
            json!({ "pageId": id(Page), "filter": {
                "tagId": id(Tag), "refLinkId": id(RefLink),
                "field": { "fieldId": id(Field), "value": "x" }, "optedInTopicId": id(Topic),
            } }),
        ),
        "Query.subscriber" => owner(vec![("id", Subscriber)], json!({ "id": id(Subscriber) })),
        "Query.webhookEvent" => owner(vec![("id", Event)], json!({ "id": id(Event) })),
        "Query.flow" => owner(vec![("id", Flow)], json!({ "id": id(Flow) })),
        "Query.flowRuns" => owner(
            vec![("flowId", Flow), ("subscriberId", Subscriber)],
            json!({ "flowId": id(Flow), "subscriberId": id(Subscriber) }),
        ),
        "Query.flowRun" => owner(vec![("id", Run)], json!({ "id": id(Run) })),
        "Query.outboundMessages" => owner(
            vec![("subscriberId", Subscriber), ("runId", Run)],
            json!({ "subscriberId": id(Subscriber), "runId": id(Run) }),
        ),
        "Query.outboundMessage" => owner(vec![("id", Message)], json!({ "id": id(Message) })),
        "Query.refLinkReport" => owner(vec![("refLinkId", RefLink)], report("refLinkId", RefLink)),
        "Query.pageReport" => owner(vec![("pageId", Page)], report("pageId", Page)),
        "Query.topicReport" => owner(vec![("topicId", Topic)], report("topicId", Topic)),
        "Query.flowReport" => owner(vec![("flowId", Flow)], report("flowId", Flow)),
        // Object fields, called on B's own object (see `PARENTS`).
        "RefLink.payloadUrl" => owner(
            vec![("fields[].fieldId", Field)],
            json!({ "fields": [{ "fieldId": id(Field), "value": format!("v{n}") }] }),
        ),

        "Mutation.logIn" => Some(Filler {
            paths: vec![("input.tenantId", Tenant)],
            args: json!({ "input": {
                "email": b.tenant.session.email, "password": PASSWORD, "tenantId": id(Tenant),
            } }),
            caller: Caller::Anonymous,
        }),
        "Mutation.switchTenant" => owner(
            vec![("input.tenantId", Tenant)],
            json!({ "input": { "tenantId": id(Tenant) } }),
        ),
        "Mutation.updateMemberRole" => owner(
            vec![("input.userId", Member)],
            json!({ "input": { "userId": id(Member), "role": "VIEWER" } }),
        ),
        "Mutation.removeMember" => owner(
            vec![("input.userId", Member)],
            json!({ "input": { "userId": id(Member) } }),
        ),
        "Mutation.revokeApiKey" => owner(
            vec![("input.id", ApiKey)],
            json!({ "input": { "id": id(ApiKey) } }),
        ),
        "Mutation.revokeInvitation" => owner(
            vec![("input.id", Invitation)],
            json!({ "input": { "id": id(Invitation) } }),
        ),
        "Mutation.updatePage" => owner(
            vec![("input.id", Page)],
            json!({ "input": { "id": id(Page), "name": format!("page {n}") } }),
        ),
        "Mutation.disconnectPage" => owner(
            vec![("input.id", Page)],
            json!({ "input": { "id": id(Page) } }),
        ),
        "Mutation.refreshPageSetup" => owner(
            vec![("input.id", Page)],
            json!({ "input": { "id": id(Page), "replaceGetStarted": true } }),
        ),
        "Mutation.setPageMessengerProfile" => owner(
            vec![("input.pageId", Page)],
            json!({ "input": { "pageId": id(Page),
                "greeting": [{ "locale": "default", "text": format!("hello {n}") }] } }),
        ),
        "Mutation.updateCustomField" => owner(
            vec![("input.id", Field)],
            json!({ "input": { "id": id(Field), "name": format!("field {n}") } }),
        ),
        "Mutation.deleteCustomField" => owner(
            vec![("input.id", Field)],
            json!({ "input": { "id": id(Field) } }),
        ),
        "Mutation.renameTag" => owner(
            vec![("input.id", Tag)],
            json!({ "input": { "id": id(Tag), "name": format!("tag {n}") } }),
        ),
        "Mutation.deleteTag" => owner(
            vec![("input.id", Tag)],
            json!({ "input": { "id": id(Tag) } }),
        ),
        "Mutation.createRefLink" => owner(
            vec![
                ("input.pageId", Page),
                ("input.defaultFieldId", Field),
                ("input.tagIds[]", Tag),
                ("input.flowId", Flow),
            ],
            json!({ "input": {
                "pageId": id(Page), "ref": format!("matrix{n}"), "defaultFieldId": id(Field),
                "tagIds": [id(Tag)], "flowId": id(Flow),
            } }),
        ),
        "Mutation.updateRefLink" => owner(
            vec![
                ("input.id", RefLink),
                ("input.defaultFieldId", Field),
                ("input.tagIds[]", Tag),
                ("input.flowId", Flow),
            ],
            json!({ "input": {
                "id": id(RefLink), "text": format!("text {n}"), "defaultFieldId": id(Field),
                "tagIds": [id(Tag)], "flowId": id(Flow),
            } }),
        ),
        "Mutation.deleteRefLink" => owner(
            vec![("input.id", RefLink)],
            json!({ "input": { "id": id(RefLink) } }),
        ),
        "Mutation.createNotificationTopic" => owner(
            vec![("input.pageId", Page)],
            json!({ "input": { "pageId": id(Page), "title": format!("Matrix {n}") } }),
        ),
        "Mutation.updateNotificationTopic" => owner(
            vec![("input.id", Topic)],
            json!({ "input": { "id": id(Topic), "defaultCadence": "MONTHLY" } }),
        ),
        "Mutation.deleteNotificationTopic" => owner(
            vec![("input.id", Topic)],
            json!({ "input": { "id": id(Topic) } }),
        ),
        "Mutation.registerNotificationTopic" => owner(
            vec![("input.topicId", Topic)],
            json!({ "input": { "topicId": id(Topic), "psid": B_PSID } }),
        ),
        "Mutation.setSubscriberField" => owner(
            vec![("input.subscriberId", Subscriber), ("input.fieldId", Field)],
            json!({ "input": {
                "subscriberId": id(Subscriber), "fieldId": id(Field), "value": format!("v{n}"),
            } }),
        ),
        "Mutation.clearSubscriberField" => owner(
            vec![("input.subscriberId", Subscriber), ("input.fieldId", Field)],
            json!({ "input": { "subscriberId": id(Subscriber), "fieldId": id(Field) } }),
        ),
        "Mutation.addSubscriberTag" | "Mutation.removeSubscriberTag" => owner(
            vec![("input.subscriberId", Subscriber), ("input.tagId", Tag)],
            json!({ "input": { "subscriberId": id(Subscriber), "tagId": id(Tag) } }),
        ),
        "Mutation.eraseSubscriber" | "Mutation.refreshSubscriberProfile" => owner(
            vec![("input.id", Subscriber)],
            json!({ "input": { "id": id(Subscriber) } }),
        ),
        "Mutation.replayWebhookEvent" => owner(
            vec![("input.id", Event)],
            json!({ "input": { "id": id(Event) } }),
        ),
        "Mutation.createFlow" => owner(
            vec![
                ("input.steps[].setField.fieldId", Field),
                ("input.steps[].addTag.tagId", Tag),
                ("input.steps[].removeTag.tagId", Tag),
            ],
            json!({ "input": { "name": format!("flow {n}"), "steps": steps } }),
        ),
        "Mutation.updateFlow" => owner(
            vec![
                ("input.id", Flow),
                ("input.steps[].setField.fieldId", Field),
                ("input.steps[].addTag.tagId", Tag),
                ("input.steps[].removeTag.tagId", Tag),
            ],
            json!({ "input": { "id": id(Flow), "name": format!("flow {n}"), "steps": steps } }),
        ),
        "Mutation.deleteFlow" => owner(
            vec![("input.id", Flow)],
            json!({ "input": { "id": id(Flow) } }),
        ),
        "Mutation.createFlowTrigger" => owner(
            vec![
                ("input.flowId", Flow),
                ("input.pageId", Page),
                ("input.rule.topicOptIn.topicId", Topic),
            ],
            json!({ "input": {
                "flowId": id(Flow), "pageId": id(Page),
                "rule": { "topicOptIn": { "topicId": id(Topic) } },
            } }),
        ),
        "Mutation.deleteFlowTrigger" => owner(
            vec![("input.id", Trigger)],
            json!({ "input": { "id": id(Trigger) } }),
        ),
        "Mutation.startFlow" => owner(
            vec![
                ("input.flowId", Flow),
                ("input.subscriberIds[]", Subscriber),
            ],
            json!({ "input": { "flowId": id(Flow), "subscriberIds": [id(Subscriber)] } }),
        ),
        "Mutation.cancelFlowRun" => owner(
            vec![("input.id", Run)],
            json!({ "input": { "id": id(Run) } }),
        ),
        "Mutation.sendTopicNotification" => owner(
            vec![("input.topicId", Topic)],
            json!({ "input": { "topicId": id(Topic), "message": { "text": format!("note {n}") } } }),
        ),
        _ => None,
    }
}

/// Object types whose fields take ids, and how B reaches one of its own: the root query
/// field that reads it by `id`, and the kind of that id.
const PARENTS: &[(&str, &str, Kind)] = &[("RefLink", "refLink", Kind::RefLink)];

/// Operations whose id is not a workspace's thing, with the answer B's owner must get for A's
/// id and for a random one alike (code, `extensions.reason`).
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    // Platform operators suspend and reactivate workspaces by id: no workspace's owner may, not
    // even for their own workspace, so B's owner is refused for the role before any lookup.
    ("Mutation.suspendTenant", "FORBIDDEN", "OPERATOR_ONLY"),
    ("Mutation.reactivateTenant", "FORBIDDEN", "OPERATOR_ONLY"),
];

/// `(operation, id path)` whose answer to an id of nothing in the workspace may be an empty list
/// (or null) instead of NOT_FOUND. Only where the README or the schema documents it: today they
/// document NOT_FOUND for every id that is not in the workspace ("another workspace's ids
/// answer exactly the same"), so this list is empty. An entry must cite where it is documented.
const EMPTY_WHERE_DOCUMENTED: &[(&str, &str)] = &[];

/// Whether an answer is an empty list or null, without errors.
fn empty_answer(response: &Value, op: &str) -> bool {
    let field = op.rsplit('.').next().unwrap_or(op);
    response.get("errors").is_none()
        && match &response["data"][field] {
            Value::Null => true,
            Value::Array(items) => items.is_empty(),
            connection => connection["totalCount"] == 0 && nodes_empty(connection),
        }
}

fn nodes_empty(connection: &Value) -> bool {
    connection["nodes"].as_array().is_none_or(Vec::is_empty)
        && connection["edges"].as_array().is_none_or(Vec::is_empty)
}

/// An argument's path without list positions: `steps[1].addTag.tagId` and `steps[].addTag.tagId`
/// are both `steps.addTag.tagId`.
fn without_indices(path: &str) -> String {
    let mut plain = String::with_capacity(path.len());
    let mut in_brackets = false;
    for c in path.chars() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            c if !in_brackets => plain.push(c),
            _ => {}
        }
    }
    plain
}

/// Checks one answer against NOT_FOUND (or a documented empty answer); describes a mismatch.
fn expect_not_found(call: &Call, response: &Value) -> Option<String> {
    if refhub_tests::error_code(response).as_deref() == Some("NOT_FOUND") {
        // A dashboard shows the error beside the input it names.
        let argument = without_indices(call.path.strip_prefix("input.").unwrap_or(&call.path));
        return match refhub_tests::error_field(response) {
            Some(field) if without_indices(&field) == argument => None,
            _ => Some(format!(
                "NOT_FOUND does not name {argument} in extensions.field: {response}"
            )),
        };
    }
    let empty = empty_answer(response, &call.op);
    if empty
        && EMPTY_WHERE_DOCUMENTED
            .iter()
            .any(|(op, path)| *op == call.op && *path == call.path)
    {
        return None;
    }
    Some(if empty {
        format!(
            "answered an empty list instead of NOT_FOUND (it leaks nothing, but an empty \
             answer is documented nowhere): {response}"
        )
    } else {
        format!("expected NOT_FOUND, got {response}")
    })
}

/// Names of operations that destroy what they name: called last, so that a call that wrongly
/// succeeded cannot hide another operation's leak by deleting what it would have found.
fn destructive(op: &str) -> bool {
    let name = op.rsplit('.').next().unwrap_or(op);
    [
        "delete",
        "disconnect",
        "remove",
        "revoke",
        "cancel",
        "erase",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

// ---------------------------------------------------------------------------------------------
// Calls.

/// One call of the matrix: an operation with one path holding a given id (or list of ids).
struct Call {
    op: String,
    path: String,
    variant: &'static str,
    query: String,
    variables: Value,
    anonymous: bool,
}

/// Builds the document and variables of `op` with `args`.
fn document(schema: &Schema, b: &World, op: &str, args: &Value) -> (String, Value) {
    let (owner, field_name) = op.split_once('.').expect("Type.field");
    let field = schema.field(owner, field_name);
    let mut declarations = Vec::new();
    let mut arguments = Vec::new();
    let mut variables = serde_json::Map::new();
    for arg in field["args"].as_array().into_iter().flatten() {
        let name = str_at(arg, "/name");
        let Some(value) = args.get(&name) else {
            continue;
        };
        declarations.push(format!("$a_{name}: {}", type_string(&arg["type"])));
        arguments.push(format!("{name}: $a_{name}"));
        variables.insert(format!("a_{name}"), value.clone());
    }
    let selection = schema.selection(&field["type"], 2);
    let call = format!("{field_name}({}) {selection}", arguments.join(", "));
    let (keyword, body) = if owner == schema.query {
        ("query", call)
    } else if owner == schema.mutation {
        ("mutation", call)
    } else {
        let (_, root, kind) = PARENTS
            .iter()
            .find(|(ty, _, _)| *ty == owner)
            .unwrap_or_else(|| panic!("no way to reach a {owner} (add it to PARENTS)"));
        declarations.push("$parent: ID!".to_owned());
        variables.insert("parent".to_owned(), json!(b.id(*kind)));
        ("query", format!("{root}(id: $parent) {{ {call} }}"))
    };
    let declarations = if declarations.is_empty() {
        String::new()
    } else {
        format!("({})", declarations.join(", "))
    };
    (
        format!("{keyword} Matrix{declarations} {{ {body} }}"),
        Value::Object(variables),
    )
}

async fn run(app: &TestApp, b: &World, call: &Call) -> Value {
    let token = (!call.anonymous).then(|| b.token());
    app.graphql(&call.query, call.variables.clone(), token)
        .await
}

/// The answer with every occurrence of `id` written `<id>`, to compare answers to A's ids
/// with answers to random ones.
fn normalized(response: &Value, ids: &[String]) -> String {
    let mut text = response.to_string();
    for id in ids {
        text = text.replace(id.as_str(), "<id>");
    }
    text
}

// ---------------------------------------------------------------------------------------------
// The two tenants.

/// Answers every Graph API call (Send API, registrations) as Meta does on success.
struct MetaAccepts(Arc<AtomicUsize>);

impl Respond for MetaAccepts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        ResponseTemplate::new(200).set_body_json(json!({
            "recipient_id": body["recipient"]["id"].as_str().unwrap_or(""),
            "message_id": format!("m_matrix{n:04}"),
        }))
    }
}

fn delivery(page: &str, item: Value) -> String {
    json!({ "object": "page", "entry": [{ "id": page, "time": hooks::now_ms(), "messaging": [item] }] })
        .to_string()
}

async fn create(app: &TestApp, token: &str, name: &str, input: Value) -> String {
    let response = app.mutate(name, input, "{ id }", Some(token)).await;
    str_at(data(&response), &format!("/{name}/id"))
}

async fn run_ids(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app
        .graphql(
            "{ flowRuns(first: 50) { nodes { id status } } outboundMessages(first: 50) { nodes { id status } } }",
            json!({}),
            Some(token),
        )
        .await;
    vec![
        data(&response)["flowRuns"]["nodes"].clone(),
        data(&response)["outboundMessages"]["nodes"].clone(),
    ]
}

/// Waits until the tenant has `runs` runs, all WAITING, and `messages` messages, all SENT.
async fn settled_runs(app: &TestApp, token: &str, runs: usize, messages: usize) -> Vec<Value> {
    eventually(
        &format!("{runs} waiting runs and {messages} sent messages"),
        WAIT,
        async || {
            let found = run_ids(app, token).await;
            let all = |list: &Value, status: &str, count: usize| {
                list.as_array()
                    .is_some_and(|l| l.len() == count && l.iter().all(|i| i["status"] == status))
            };
            if all(&found[0], "WAITING", runs) && all(&found[1], "SENT", messages) {
                Ok(found)
            } else {
                Err(format!("{found:#?}"))
            }
        },
    )
    .await
}

/// Tenant A, with one of everything.
async fn tenant_a(app: &TestApp) -> World {
    let tenant = connect_tenant(app, "owner@acme.test", &format!("{A_MARK} Inc"), A_PAGE).await;
    let token = tenant.token().to_owned();
    let t = token.as_str();
    let mut ids = BTreeMap::new();
    ids.insert(Kind::Tenant, tenant.session.tenant().to_owned());
    ids.insert(Kind::Page, tenant.page_id.clone());
    let member = app
        .member_of(&tenant.session, "member@acme.test", "EDITOR")
        .await;
    ids.insert(Kind::Member, member.user_id);
    let invited = app.invite_member(t, "invitee@acme.test", "VIEWER").await;
    ids.insert(
        Kind::Invitation,
        str_at(&data(&invited)["inviteMember"], "/id"),
    );
    let (key, _) = app
        .create_api_key(t, &format!("{A_MARK} key"), "VIEWER")
        .await;
    ids.insert(Kind::ApiKey, key);
    let field = create(
        app,
        t,
        "createCustomField",
        json!({ "name": format!("{A_MARK} coupon"), "type": "TEXT" }),
    )
    .await;
    let tag = create(
        app,
        t,
        "createTag",
        json!({ "name": format!("{A_MARK} VIP") }),
    )
    .await;
    let flow = create(
        app,
        t,
        "createFlow",
        json!({ "name": format!("{A_MARK} drip"), "steps": [
            { "sendText": { "text": format!("{A_MARK} hello") } },
            { "setField": { "fieldId": field, "value": format!("{A_MARK}fromflow") } },
            { "addTag": { "tagId": tag } },
            { "wait": { "seconds": 86_400 } },
            { "sendText": { "text": format!("{A_MARK} tomorrow") } },
        ] }),
    )
    .await;
    let link = create(
        app,
        t,
        "createRefLink",
        json!({ "pageId": tenant.page_id, "ref": format!("{A_MARK}summer"), "text": format!("{A_MARK} hi"),
                "defaultFieldId": field, "tagIds": [tag], "flowId": flow }),
    )
    .await;
    let topic_title = format!("{A_MARK} deals");
    let topic = create(
        app,
        t,
        "createNotificationTopic",
        json!({ "pageId": tenant.page_id, "title": topic_title }),
    )
    .await;
    let trigger = create(
        app,
        t,
        "createFlowTrigger",
        json!({ "flowId": flow, "pageId": tenant.page_id, "rule": { "postback": { "payload": format!("{A_MARK}_GO") } } }),
    )
    .await;

    // A person arrives through the link with a payload (a run starts), then opts in.
    let now = hooks::now_ms();
    let arrival = hooks::referral(A_PSID, now, &format!("{A_MARK}summer--{A_MARK}payload"));
    hooks::deliver(app, &tenant, delivery(A_PAGE, arrival)).await;
    let opt_in = hooks::opt_in(
        A_PSID,
        now + 1,
        &format!("{A_MARK}-notification-token"),
        &topic_title,
        now + 86_400_000 * 30,
    );
    hooks::deliver(app, &tenant, delivery(A_PAGE, opt_in)).await;
    let events = settled_events(app, t, 2).await;
    let subscriber = hooks::wait_for_subscriber(app, &tenant, A_PSID, "tagged by the link", |s| {
        !hooks::tag_ids(s).is_empty() && !s["optIns"].as_array().is_none_or(Vec::is_empty)
    })
    .await;
    let subscriber = str_at(&subscriber, "/id");
    let started = app
        .mutate(
            "startFlow",
            json!({ "flowId": flow, "subscriberIds": [subscriber] }),
            "{ runs { id } }",
            Some(t),
        )
        .await;
    let run = str_at(data(&started), "/startFlow/runs/0/id");
    let settled = settled_runs(app, t, 2, 2).await;

    ids.insert(Kind::Field, field);
    ids.insert(Kind::Tag, tag);
    ids.insert(Kind::Flow, flow);
    ids.insert(Kind::RefLink, link);
    ids.insert(Kind::Topic, topic);
    ids.insert(Kind::Trigger, trigger);
    ids.insert(Kind::Subscriber, subscriber);
    ids.insert(Kind::Event, str_at(&events[0], "/id"));
    ids.insert(Kind::Run, run);
    ids.insert(Kind::Message, str_at(&settled[1], "/0/id"));
    World { tenant, ids }
}

/// Tenant B: its own small catalogue, one subscriber, one run and its message.
async fn tenant_b(app: &TestApp) -> World {
    let tenant = connect_tenant(app, "owner@globex.test", "Globex", B_PAGE).await;
    let token = tenant.token().to_owned();
    let t = token.as_str();
    let mut ids = BTreeMap::new();
    ids.insert(Kind::Tenant, tenant.session.tenant().to_owned());
    ids.insert(Kind::Page, tenant.page_id.clone());
    ids.insert(Kind::Member, tenant.session.user_id.clone());
    let invited = app.invite_member(t, "invitee@globex.test", "VIEWER").await;
    ids.insert(
        Kind::Invitation,
        str_at(&data(&invited)["inviteMember"], "/id"),
    );
    let (key, _) = app.create_api_key(t, "Globex key", "VIEWER").await;
    ids.insert(Kind::ApiKey, key);
    let field = create(
        app,
        t,
        "createCustomField",
        json!({ "name": "Globex field", "type": "TEXT" }),
    )
    .await;
    let tag = create(app, t, "createTag", json!({ "name": "Globex tag" })).await;
    let flow = create(
        app,
        t,
        "createFlow",
        json!({ "name": "Globex flow", "steps": [
            { "sendText": { "text": "Globex hello" } }, { "wait": { "seconds": 86_400 } },
        ] }),
    )
    .await;
    let link = create(
        app,
        t,
        "createRefLink",
        json!({ "pageId": tenant.page_id, "ref": "globex", "tagIds": [] }),
    )
    .await;
    let topic = create(
        app,
        t,
        "createNotificationTopic",
        json!({ "pageId": tenant.page_id, "title": "Globex news" }),
    )
    .await;
    let trigger = create(
        app,
        t,
        "createFlowTrigger",
        json!({ "flowId": flow, "rule": { "postback": { "payload": "GLOBEX_GO" } } }),
    )
    .await;
    let mut hello = hooks::message(B_PSID, hooks::now_ms(), "m_globex_hello", "hello");
    hello["recipient"]["id"] = json!(B_PAGE);
    hooks::deliver(app, &tenant, delivery(B_PAGE, hello)).await;
    let events = settled_events(app, t, 1).await;
    let subscriber = hooks::wait_for_subscriber(app, &tenant, B_PSID, "exists", |_| true).await;
    let subscriber = str_at(&subscriber, "/id");
    let started = app
        .mutate(
            "startFlow",
            json!({ "flowId": flow, "subscriberIds": [subscriber] }),
            "{ runs { id } }",
            Some(t),
        )
        .await;
    let run = str_at(data(&started), "/startFlow/runs/0/id");
    let settled = settled_runs(app, t, 1, 1).await;

    ids.insert(Kind::Field, field);
    ids.insert(Kind::Tag, tag);
    ids.insert(Kind::Flow, flow);
    ids.insert(Kind::RefLink, link);
    ids.insert(Kind::Topic, topic);
    ids.insert(Kind::Trigger, trigger);
    ids.insert(Kind::Subscriber, subscriber);
    ids.insert(Kind::Event, str_at(&events[0], "/id"));
    ids.insert(Kind::Run, run);
    ids.insert(Kind::Message, str_at(&settled[1], "/0/id"));
    World { tenant, ids }
}

// ---------------------------------------------------------------------------------------------
// Snapshots: a tenant's data as its owner reads it.

const STEP: &str = "sendText { text } sendQuickReplies { text replies { title payload } } \
     sendButtons { text buttons { title payload url } } setField { fieldId value } \
     addTag { tagId } removeTag { tagId } wait { seconds }";

async fn snapshot(app: &TestApp, world: &World) -> BTreeMap<&'static str, Value> {
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(7)).to_string();
    let to = today.to_string();
    let flow_fields = format!(
        "id name updatedAt steps {{ {STEP} }} triggers {{ id page {{ id }} \
         rule {{ postback {{ payload }} keyword {{ keyword match }} topicOptIn {{ topicId }} }} }}"
    );
    let reads: Vec<(&'static str, String, Value)> = vec![
        ("tenant", "{ tenant { id name slug status timeZone } me { id role } }".into(), json!({})),
        ("members", "{ members(first: 50) { totalCount nodes { id role createdAt user { id email } } } }".into(), json!({})),
        ("invitations", "{ invitations(first: 50) { totalCount nodes { id email role status expiresAt respondedAt } } }".into(), json!({})),
        ("apiKeys", "{ apiKeys(first: 50) { totalCount nodes { id name prefix role active createdAt lastUsedAt revokedAt } } }".into(), json!({})),
        ("messengerApp", "{ messengerApp { id appId webhookUrl createdAt updatedAt } }".into(), json!({})),
        ("pages", "{ pages(first: 50) { totalCount nodes { id facebookPageId name username mmeUrl updatedAt } } }".into(), json!({})),
        (
            "refLinks",
            "query($p: ID!) { refLinks(pageId: $p, first: 50) { totalCount nodes { id ref text active \
             shortCode url updatedAt defaultField { id } tags { id } flow { id } } } }".into(),
            json!({ "p": world.id(Kind::Page) }),
        ),
        (
            "notificationTopics",
            "{ notificationTopics(first: 50) { totalCount nodes { id title defaultCadence updatedAt \
             page { id } registration { status attemptedAt messageId error } } } }".into(),
            json!({}),
        ),
        ("customFields", "{ customFields(first: 50, includeArchived: true) { totalCount nodes { id number name type description archived updatedAt } } }".into(), json!({})),
        ("tags", "{ tags(first: 50) { totalCount nodes { id name createdAt } } }".into(), json!({})),
        (
            "subscribers",
            "query($p: ID!) { subscribers(pageId: $p, first: 50) { totalCount nodes { id psid name \
             sourceRef entryCount lastInteractionAt sourceRefLink { id } fields { field { id } value setAt } \
             tags { id } optIns { id topicTitle status frequency expiresAt lastSentAt } \
             interactions(first: 50) { totalCount } } } }".into(),
            json!({ "p": world.id(Kind::Page) }),
        ),
        ("webhookEvents", "{ webhookEvents(first: 50) { totalCount nodes { id kind status attempts outcome error processedAt } } }".into(), json!({})),
        ("flows", format!("{{ flows(first: 10) {{ totalCount nodes {{ {flow_fields} }} }} }}"), json!({})),
        (
            "flowRuns",
            "{ flowRuns(first: 50) { totalCount nodes { id status currentStep nextStepAt error \
             finishedAt history { action step detail error } } } }".into(),
            json!({}),
        ),
        ("outboundMessages", "{ outboundMessages(first: 50) { totalCount nodes { id kind status attempts sentAt lastError metaMessageId } } }".into(), json!({})),
        (
            "reports",
            "query($l: ID!, $p: ID!, $t: ID!, $f: ID!, $from: NaiveDate!, $to: NaiveDate!) { \
             refLinkReport(refLinkId: $l, from: $from, to: $to) { totals { clicks entries newSubscribers } } \
             pageReport(pageId: $p, from: $from, to: $to) { totals { clicks entries newSubscribers } } \
             topicReport(topicId: $t, from: $from, to: $to) { activeTokens totals { optIns optOuts } } \
             flowReport(flowId: $f, from: $from, to: $to) { totals { runsStarted runsCompleted messagesSent } } }".into(),
            json!({ "l": world.id(Kind::RefLink), "p": world.id(Kind::Page), "t": world.id(Kind::Topic),
                    "f": world.id(Kind::Flow), "from": from, "to": to }),
        ),
    ];
    let mut snapshot = BTreeMap::new();
    for (name, query, variables) in reads {
        let response = app.graphql(&query, variables, Some(world.token())).await;
        snapshot.insert(name, data(&response).clone());
    }
    snapshot
}

fn compare(
    who: &str,
    before: &BTreeMap<&'static str, Value>,
    after: &BTreeMap<&'static str, Value>,
    failures: &mut Vec<String>,
) {
    for (name, value) in before {
        if after.get(name) != Some(value) {
            failures.push(format!(
                "{who}'s {name} changed during the matrix:\nbefore: {value:#}\nafter: {:#}",
                after.get(name).unwrap_or(&Value::Null)
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The test.

#[tokio::test]
async fn every_operation_taking_an_id_answers_not_found_for_another_tenants_id() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v[0-9.]+/[0-9]+/messages$"))
        .respond_with(MetaAccepts(Arc::new(AtomicUsize::new(0))))
        .mount(&graph)
        .await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let a = tenant_a(&app).await;
    let b = tenant_b(&app).await;

    // What the schema asks for, against what the matrix knows how to fill.
    let schema = Schema::introspect(&app, b.token()).await;
    let derived = schema.id_paths();
    let mut failures = Vec::new();
    for op in derived.keys() {
        let root = op.split('.').next().unwrap_or_default();
        if Some(root) == schema.subscription.as_deref() {
            failures.push(format!(
                "{op} is a subscription with an id argument: the matrix cannot call it over HTTP"
            ));
        }
    }
    let known: BTreeSet<String> = derived
        .keys()
        .filter(|op| filler(op, &b, 0).is_some())
        .cloned()
        .collect();
    let exceptions: BTreeSet<String> = EXCEPTIONS
        .iter()
        .map(|(op, _, _)| (*op).to_owned())
        .collect();
    for op in derived.keys() {
        if !known.contains(op) && !exceptions.contains(op) {
            failures.push(format!(
                "{op} takes an id ({}) but the matrix has no filler for it: add one to `filler` \
                 (or, if its id is not a workspace's, to EXCEPTIONS with a reason)",
                derived[op]
                    .iter()
                    .map(|p| p.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for op in &exceptions {
        if !derived.contains_key(op) {
            failures.push(format!(
                "EXCEPTIONS names {op}, which no longer takes an id"
            ));
        }
    }
    let all_fillable = [
        "Query.page",
        "Query.customField",
        "Query.tag",
        "Query.refLinks",
        "Query.refLink",
        "Query.notificationTopics",
        "Query.notificationTopic",
        "Query.subscribers",
        "Query.subscriber",
        "Query.webhookEvent",
        "Query.flow",
        "Query.flowRuns",
        "Query.flowRun",
        "Query.outboundMessages",
        "Query.outboundMessage",
        "Query.refLinkReport",
        "Query.pageReport",
        "Query.topicReport",
        "Query.flowReport",
        "RefLink.payloadUrl",
    ];
    for op in all_fillable {
        assert!(
            derived.contains_key(op),
            "introspection missed {op}: the derivation is broken"
        );
    }

    // The calls: one per id path (lists: only A's id, then B's and A's), ordered so that
    // destructive operations come last.
    let mut calls = Vec::new();
    let mut n = 0;
    let mut ops: Vec<&String> = known.iter().collect();
    ops.sort_by_key(|op| (destructive(op), (*op).clone()));
    for op in ops {
        let paths = &derived[op];
        let table = filler(op, &b, 0).expect("known").paths;
        for IdPath { path, .. } in paths {
            if !table.iter().any(|(p, _)| p == path) {
                failures.push(format!(
                    "{op} takes an id at {path}, which its filler does not know: add it"
                ));
            }
        }
        for (path, _) in &table {
            if !paths.iter().any(|p| p.path == *path) {
                failures.push(format!(
                    "the filler of {op} names {path}, which the schema does not have"
                ));
            }
        }
        for IdPath { path, list } in paths {
            let Some((_, kind)) = table.iter().find(|(p, _)| p == path) else {
                continue;
            };
            // A single id; a list of only A's id; B's own id followed by A's.
            let own = b.id(*kind);
            let variants: Vec<&'static str> = if *list {
                vec!["[theirs]", "[ours, theirs]"]
            } else {
                vec!["theirs"]
            };
            let leaf = |variant: &str, id: &str| match variant {
                "[theirs]" => json!([id]),
                "[ours, theirs]" => json!([own, id]),
                _ => json!(id),
            };
            for variant in variants {
                n += 1;
                for foreign in [a.id(*kind), random_id()] {
                    let fill = filler(op, &b, n).expect("known");
                    let mut args = fill.args;
                    let segments: Vec<&str> = path.split('.').collect();
                    if set_path(&mut args, &segments, &leaf(variant, &foreign)) == 0 {
                        failures.push(format!(
                            "the arguments of {op}'s filler lack {path}: it is never exercised"
                        ));
                        continue;
                    }
                    let (query, variables) = document(&schema, &b, op, &args);
                    calls.push((
                        foreign,
                        Call {
                            op: op.clone(),
                            path: path.clone(),
                            variant,
                            query,
                            variables,
                            anonymous: matches!(fill.caller, Caller::Anonymous),
                        },
                    ));
                }
            }
        }
    }

    // What A's data looks like from the outside: every id and every marked text.
    let a_ids: Vec<String> = a.ids.values().cloned().collect();
    let a_texts = [
        A_MARK.to_owned(),
        A_PSID.to_owned(),
        A_PAGE.to_owned(),
        "acme.test".to_owned(),
    ];

    let a_before = snapshot(&app, &a).await;
    let b_before = snapshot(&app, &b).await;
    assert!(
        a_before.values().any(|v| v.to_string().contains(A_MARK)),
        "the snapshot reads A's data"
    );

    // Each call with A's id is followed by the same call with a random id.
    let mut answered = 0;
    let mut pending: Option<(String, Call, Value)> = None;
    for (foreign, call) in calls {
        let response = run(&app, &b, &call).await;
        let label = format!("{} {} = {}", call.op, call.path, call.variant);
        let text = response.to_string();
        match pending.take() {
            None => {
                answered += 1;
                // The matrix, for `--nocapture`.
                println!(
                    "{label:<60} {}",
                    refhub_tests::error_code(&response).unwrap_or_else(|| "(no error)".into())
                );
                if let Some(problem) = expect_not_found(&call, &response) {
                    failures.push(format!(
                        "{label} with A's id: {problem}\n  query: {}\n  variables: {}",
                        call.query, call.variables
                    ));
                }
                let sent = call.variables.to_string();
                for secret in a_ids.iter().chain(a_texts.iter()) {
                    if text.contains(secret.as_str()) && !sent.contains(secret.as_str()) {
                        failures.push(format!(
                            "{label}: the answer carries A's data {secret:?}: {response}"
                        ));
                    }
                }
                refhub_tests::assert_no_database_text(&response);
                pending = Some((foreign, call, response));
            }
            Some((a_id, a_call, a_response)) => {
                assert_eq!(
                    (&a_call.op, &a_call.path, a_call.variant),
                    (&call.op, &call.path, call.variant)
                );
                if let Some(problem) = expect_not_found(&call, &response) {
                    failures.push(format!("{label} with a random id: {problem}"));
                }
                let theirs = normalized(&a_response, &[a_id]);
                let random = normalized(&response, &[foreign]);
                if theirs != random {
                    failures.push(format!(
                        "{label}: A's id and a random id answer differently (an existence oracle):\n  A's id: {theirs}\n  random: {random}"
                    ));
                }
            }
        }
    }

    // The operator-only exceptions.
    for (op, code, reason) in EXCEPTIONS {
        if !derived.contains_key(*op) {
            continue;
        }
        let name = op.split_once('.').expect("Type.field").1;
        for tenant in [a.id(Kind::Tenant), b.id(Kind::Tenant), random_id()] {
            let response = app
                .mutate(
                    name,
                    json!({ "tenantId": tenant }),
                    "{ id status }",
                    Some(b.token()),
                )
                .await;
            let got = (
                refhub_tests::error_code(&response),
                response
                    .pointer("/errors/0/extensions/reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            );
            if got != (Some((*code).to_owned()), Some((*reason).to_owned())) {
                failures.push(format!(
                    "{op}({tenant}) as B's owner: expected {code} ({reason}), got {response}"
                ));
            }
        }
    }

    // HTTP routes naming an id (not in the schema): the same answer as for a random id, 404.
    let http_routes = [
        ("GET", "/api/ref-links/{}/qr.png", Kind::RefLink),
        ("GET", "/api/pages/{}/subscribers.csv", Kind::Page),
        ("POST", "/api/pages/{}/subscribers/import", Kind::Page),
    ];
    for (verb, route, kind) in http_routes {
        for foreign in [a.id(kind), random_id()] {
            let url = app.url(&route.replace("{}", &foreign));
            let request = if verb == "GET" {
                app.client.get(url)
            } else {
                app.client
                    .post(url)
                    .header("Content-Type", "text/csv")
                    .body(format!("psid\n{}\n", "6100000000000999"))
            };
            let response = request
                .bearer_auth(b.token())
                .send()
                .await
                .expect("answered");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            if status != 404 {
                failures.push(format!(
                    "{verb} {route} with {foreign}: expected 404, got {status}: {body}"
                ));
            }
            for secret in a_texts.iter() {
                if body.contains(secret.as_str()) {
                    failures.push(format!(
                        "{verb} {route}: the answer carries A's data {secret:?}"
                    ));
                }
            }
        }
    }

    // Nothing changed, on either side (B's failed calls must not half-apply either).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let a_after = snapshot(&app, &a).await;
    let b_after = snapshot(&app, &b).await;
    compare("A", &a_before, &a_after, &mut failures);
    compare("B", &b_before, &b_after, &mut failures);

    assert!(
        answered >= 60,
        "only {answered} calls were made: the matrix shrank"
    );
    assert!(
        failures.is_empty(),
        "{} isolation failures ({answered} operations × id paths called):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
