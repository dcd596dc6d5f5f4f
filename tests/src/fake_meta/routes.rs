//! The requests the stand-in answers: only those Meta documents, with the parameters Meta
//! documents; anything else is refused (and remembered, so a test can fail on it).
//!
//! - Long-lived user token: `GET /oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`
//!   <https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived/>
//! - Pages a person manages: `GET /me/accounts` or `/{user-id}/accounts`
//!   <https://developers.facebook.com/docs/graph-api/reference/user/accounts/>
//! - A page: `GET /{page-id}` and `GET /me` with its token
//! - Token inspection: `GET /debug_token?input_token&access_token={app-id}|{app-secret}`
//!   <https://developers.facebook.com/docs/graph-api/reference/debug_token/>
//! - Webhook subscription: `GET|POST|DELETE /{page-id}/subscribed_apps`
//!   <https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/>
//! - Messenger Profile: `GET|POST|DELETE /me/messenger_profile`
//!   <https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/>
//! - User Profile: `GET /{psid}?fields=first_name,last_name,profile_pic,locale,timezone`
//!   <https://developers.facebook.com/docs/messenger-platform/identity/user-profile/>
//! - Send API: `POST /{page-id}/messages` or `/me/messages`
//!   <https://developers.facebook.com/docs/messenger-platform/reference/send-api/>
//! - ID matching: `GET /{app-scoped-user-id}/ids_for_pages?page={page-id}`
//!   <https://developers.facebook.com/docs/graph-api/reference/user/ids_for_pages/>

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::world::{Grant, World};

/// Webhook fields a page subscription may name (Meta's Messenger page fields).
pub const PAGE_WEBHOOK_FIELDS: [&str; 20] = [
    "messages",
    "message_deliveries",
    "message_echoes",
    "message_edits",
    "message_reactions",
    "message_reads",
    "messaging_account_linking",
    "messaging_customer_information",
    "messaging_feedback",
    "messaging_game_plays",
    "messaging_handovers",
    "messaging_optins",
    "messaging_optouts",
    "messaging_payments",
    "messaging_policy_enforcement",
    "messaging_postbacks",
    "messaging_pre_checkouts",
    "messaging_referrals",
    "response_feedback",
    "standby",
];

/// Messenger Profile properties (the API reference's table).
const PROFILE_PROPERTIES: [&str; 8] = [
    "get_started",
    "greeting",
    "ice_breakers",
    "persistent_menu",
    "whitelisted_domains",
    "account_linking_url",
    "commands",
    "title",
];

/// User Profile fields a page may ask for.
const USER_PROFILE_FIELDS: [&str; 7] = [
    "id",
    "name",
    "first_name",
    "last_name",
    "profile_pic",
    "locale",
    "timezone",
];

/// One request, read once.
pub struct Call {
    pub method: String,
    /// The path's segments after the version (`v26.0`), if the path carries one.
    pub segments: Vec<String>,
    pub query: HashMap<String, String>,
    pub body: Value,
}

impl Call {
    fn read(request: &Request) -> Self {
        let mut segments: Vec<String> = request
            .url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if segments.first().is_some_and(|s| is_version(s)) {
            segments.remove(0);
        }
        let mut query: HashMap<String, String> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let content_type = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let body = if content_type.starts_with("application/x-www-form-urlencoded") {
            // Form posts carry the same parameters as the query string.
            for (k, v) in url::form_urlencoded::parse(&request.body).into_owned() {
                query.entry(k).or_insert(v);
            }
            Value::Null
        } else {
            serde_json::from_slice(&request.body).unwrap_or(Value::Null)
        };
        Self {
            method: request.method.to_string(),
            segments,
            query,
            body,
        }
    }

    fn param(&self, name: &str) -> Result<&str, Failure> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Failure::meta(
                    400,
                    100,
                    None,
                    &format!("(#100) The parameter {name} is required"),
                )
            })
    }

    fn token(&self) -> Result<&str, Failure> {
        self.query
            .get("access_token")
            .map(String::as_str)
            .ok_or_else(|| {
                Failure::meta(
                    400,
                    104,
                    None,
                    "An access token is required to request this resource.",
                )
            })
    }

    fn describe(&self) -> String {
        let mut keys: Vec<&String> = self.query.keys().collect();
        keys.sort();
        format!("{} /{} {:?}", self.method, self.segments.join("/"), keys)
    }
}

fn is_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|rest| {
        rest.split_once('.')
            .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
    })
}

/// An error answer in Meta's envelope.
pub struct Failure {
    status: u16,
    body: Value,
    undocumented: bool,
}

impl Failure {
    pub fn meta(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Self {
        let kind = match code {
            190 | 102 | 104 => "OAuthException",
            _ => "GraphMethodException",
        };
        let mut error = json!({
            "message": message,
            "type": kind,
            "code": code,
            "fbtrace_id": "FakeMetaTrace01",
        });
        if let Some(subcode) = subcode {
            error["error_subcode"] = json!(subcode);
        }
        Self {
            status,
            body: json!({ "error": error }),
            undocumented: false,
        }
    }

    fn undocumented(call: &Call) -> Self {
        let mut failure = Self::meta(
            400,
            100,
            Some(33),
            &format!(
                "Unsupported request: the stand-in Meta answers only documented calls, not {}",
                call.describe()
            ),
        );
        failure.undocumented = true;
        failure
    }

    fn invalid(field: &str, why: &str) -> Self {
        Self::meta(400, 100, None, &format!("(#100) {field} {why}"))
    }
}

type Answer = Result<Value, Failure>;

/// The wiremock responder over a shared [`World`].
pub struct FakeMetaResponder {
    pub world: Arc<Mutex<World>>,
}

impl Respond for FakeMetaResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let call = Call::read(request);
        let mut world = self.world.lock().expect("the fake Meta's state");
        let api_down = call
            .segments
            .iter()
            .any(|segment| world.down_for.contains(segment));
        let answer = if world.down || api_down {
            Err(Failure::meta(
                500,
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            ))
        } else {
            route(&mut world, &call)
        };
        match answer {
            Ok(body) => ResponseTemplate::new(200).set_body_json(body),
            Err(failure) => {
                if failure.undocumented {
                    world.refused.push(call.describe());
                }
                ResponseTemplate::new(failure.status).set_body_json(failure.body)
            }
        }
    }
}

fn route(world: &mut World, call: &Call) -> Answer {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (call.method.as_str(), segments.as_slice()) {
        ("GET", ["oauth", "access_token"]) => exchange_token(world, call),
        ("GET", ["debug_token"]) => debug_token(world, call),
        ("GET", [owner, "accounts"]) => accounts(world, call, owner),
        ("GET" | "POST" | "DELETE", ["me", "messenger_profile"]) => messenger_profile(world, call),
        ("POST", [page, "messages"]) => send(world, call, page),
        ("GET" | "POST" | "DELETE", [page, "subscribed_apps"]) if is_numeric(page) => {
            subscribed_apps(world, call, page)
        }
        ("GET", [user, "ids_for_pages"]) if is_numeric(user) => ids_for_pages(world, call, user),
        ("GET", ["me"]) => node(world, call, None),
        ("GET", [id]) if is_numeric(id) => node(world, call, Some(id)),
        _ => Err(Failure::undocumented(call)),
    }
}

fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a token is alive and returns what it grants.
fn grant(world: &World, token: &str) -> Result<Grant, Failure> {
    if let Some(subcode) = world.revoked.get(token) {
        return Err(Failure::meta(
            400,
            190,
            Some(*subcode),
            "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
        ));
    }
    world.tokens.get(token).cloned().ok_or_else(|| {
        Failure::meta(
            400,
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
        )
    })
}

fn page_token<'w>(
    world: &'w World,
    call: &Call,
    page_id: Option<&str>,
) -> Result<&'w str, Failure> {
    let token = call.token()?;
    match grant(world, token)? {
        Grant::Page { page_id: granted } => {
            if page_id.is_some_and(|p| p != granted) {
                return Err(Failure::meta(
                    400,
                    200,
                    None,
                    "(#200) The page access token is for another page",
                ));
            }
            Ok(world.pages[&granted].id.as_str())
        }
        Grant::User { .. } => Err(Failure::meta(
            400,
            190,
            None,
            "(#190) This method must be called with a Page Access Token",
        )),
    }
}

fn exchange_token(world: &mut World, call: &Call) -> Answer {
    if call.param("grant_type")? != "fb_exchange_token" {
        return Err(Failure::invalid("grant_type", "must be fb_exchange_token"));
    }
    let client_id = call.param("client_id")?;
    let client_secret = call.param("client_secret")?;
    let short = call.param("fb_exchange_token")?;
    if !world
        .apps
        .iter()
        .any(|a| a.id == client_id && a.secret == client_secret)
    {
        return Err(Failure::meta(
            400,
            1,
            None,
            "Error validating client secret.",
        ));
    }
    let Grant::User { user_id, .. } = grant(world, short)? else {
        return Err(Failure::meta(400, 190, None, "Invalid OAuth access token"));
    };
    let long = format!("EAAlong{}{}", user_id, world.next_serial());
    world.tokens.insert(
        long.clone(),
        Grant::User {
            user_id,
            long_lived: true,
        },
    );
    Ok(json!({ "access_token": long, "token_type": "bearer", "expires_in": 5_183_944 }))
}

fn accounts(world: &mut World, call: &Call, owner: &str) -> Answer {
    let token = call.token()?;
    let Grant::User {
        user_id,
        long_lived,
    } = grant(world, token)?
    else {
        return Err(Failure::meta(
            400,
            100,
            None,
            "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
        ));
    };
    if owner != "me" && owner != user_id {
        return Err(Failure::meta(
            400,
            100,
            Some(33),
            "Unsupported get request.",
        ));
    }
    let user = world
        .users
        .iter()
        .find(|u| u.id == user_id)
        .cloned()
        .expect("a user token belongs to a user");
    let fields = requested(call);
    let (start, end) = accounts_window(call, user.pages.len())?;
    let mut data = Vec::new();
    for (page_id, tasks) in &user.pages[start..end] {
        let Some(page) = world.pages.get(page_id).cloned() else {
            continue;
        };
        // A long-lived user token yields page tokens that do not expire; either way the
        // stand-in issues a fresh token per listing, as Meta does.
        let token = format!("EAApage{}x{}", page.id, world.next_serial());
        let _ = long_lived;
        world.tokens.insert(
            token.clone(),
            Grant::Page {
                page_id: page.id.clone(),
            },
        );
        let mut item = Map::new();
        item.insert("id".into(), json!(page.id));
        let wanted = |f: &str| fields.is_empty() || fields.iter().any(|x| x == f);
        if wanted("name") {
            item.insert("name".into(), json!(page.name));
        }
        if wanted("username")
            && let Some(username) = &page.username
        {
            item.insert("username".into(), json!(username));
        }
        if wanted("access_token") {
            item.insert("access_token".into(), json!(token));
        }
        if wanted("tasks") {
            item.insert("tasks".into(), json!(tasks));
        }
        if fields.iter().any(|f| f == "picture") {
            item.insert(
                "picture".into(),
                json!({ "data": { "height": 50, "width": 50, "is_silhouette": false,
                    "url": format!("https://scontent.example.fbcdn.net/{}.jpg", page.id) } }),
            );
        }
        data.push(Value::Object(item));
    }
    Ok(
        json!({ "data": data, "paging": accounts_paging(call, owner, start, end, user.pages.len()) }),
    )
}

/// Which of a person's pages one `/me/accounts` call answers: `limit` of them (25 unless
/// asked) after the `after` cursor. <https://developers.facebook.com/docs/graph-api/results>
fn accounts_window(call: &Call, total: usize) -> Result<(usize, usize), Failure> {
    let limit = match call.query.get("limit") {
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| Failure::invalid("limit", "must be a positive integer"))?,
        None => 25,
    };
    let start = match call.query.get("after") {
        Some(cursor) => cursor
            .strip_prefix("QVFIUk")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= total)
            .ok_or_else(|| Failure::invalid("after", "is not a valid cursor"))?,
        None => 0,
    };
    Ok((start, (start + limit.min(100)).min(total)))
}

/// Cursors around the answered window, and `next` only when more pages follow (Meta: the
/// absence of `next` marks the end).
fn accounts_paging(call: &Call, owner: &str, start: usize, end: usize, total: usize) -> Value {
    let mut paging = json!({ "cursors": { "before": format!("QVFIUk{start}"), "after": format!("QVFIUk{end}") } });
    if end < total {
        let limit = end - start;
        let fields = call.query.get("fields").cloned().unwrap_or_default();
        paging["next"] = json!(format!(
            "https://graph.facebook.com/v26.0/{owner}/accounts?fields={fields}&limit={limit}&after=QVFIUk{end}"
        ));
    }
    paging
}

/// The `fields` parameter, split; nested selections (`picture{url}`) are read by their name.
fn requested(call: &Call) -> Vec<String> {
    call.query
        .get("fields")
        .map(|f| {
            f.split(',')
                .map(|f| f.split(['{', '.']).next().unwrap_or("").trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn debug_token(world: &mut World, call: &Call) -> Answer {
    let input = call.param("input_token")?;
    let app_token = call.token()?;
    let Some(app) = world.app_of_token(app_token).cloned() else {
        return Err(Failure::meta(
            400,
            190,
            None,
            "Invalid OAuth access token signature.",
        ));
    };
    if let Some(subcode) = world.revoked.get(input) {
        return Ok(json!({ "data": {
            "app_id": app.id, "is_valid": false, "scopes": [],
            "error": { "code": 190, "subcode": subcode,
                "message": "Error validating access token: The session has been invalidated." }
        } }));
    }
    match world.tokens.get(input) {
        Some(Grant::Page { page_id }) => Ok(json!({ "data": {
            "app_id": app.id, "type": "PAGE", "application": "refhub test app",
            "expires_at": 0, "data_access_expires_at": 0, "is_valid": true,
            "profile_id": page_id,
            "scopes": ["pages_messaging", "pages_manage_metadata", "pages_show_list"],
        } })),
        Some(Grant::User {
            user_id,
            long_lived,
        }) => Ok(json!({ "data": {
            "app_id": app.id, "type": "USER", "application": "refhub test app",
            "expires_at": if *long_lived { 1_900_000_000 } else { 1_800_000_000 },
            "is_valid": true, "user_id": user_id,
            "scopes": ["pages_messaging", "pages_manage_metadata", "pages_show_list"],
        } })),
        None => Ok(json!({ "data": {
            "is_valid": false, "scopes": [],
            "error": { "code": 190, "message": "Invalid OAuth access token." }
        } })),
    }
}

fn node(world: &mut World, call: &Call, id: Option<&str>) -> Answer {
    let token = call.token()?;
    let grant = grant(world, token)?;
    let fields = requested(call);
    match (grant, id) {
        (Grant::Page { page_id }, None) => page_node(world, &page_id, &fields),
        (Grant::Page { page_id }, Some(id)) if id == page_id => page_node(world, &page_id, &fields),
        (Grant::Page { page_id }, Some(psid)) => {
            // The User Profile API: only documented fields, only people the page knows.
            if let Some(field) = fields
                .iter()
                .find(|f| !USER_PROFILE_FIELDS.contains(&f.as_str()))
            {
                return Err(Failure::invalid(field, "is not a User Profile API field"));
            }
            user_profile_refusal(world, &page_id, psid, &fields)?;
            let page = &world.pages[&page_id];
            let Some(person) = page.people.get(psid) else {
                return Err(Failure::meta(
                    400,
                    100,
                    Some(33),
                    &format!(
                        "Unsupported get request. Object with ID '{psid}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
                    ),
                ));
            };
            let mut answer = Map::new();
            answer.insert("id".into(), json!(psid));
            for field in &fields {
                if let Some(value) = person.get(field) {
                    answer.insert(field.clone(), value.clone());
                }
            }
            Ok(Value::Object(answer))
        }
        (Grant::User { user_id, .. }, None) => Ok(json!({ "id": user_id, "name": "Page Admin" })),
        (Grant::User { user_id, .. }, Some(id)) => {
            let user = world.users.iter().find(|u| u.id == user_id);
            if user.is_some_and(|u| u.pages.iter().any(|(p, _)| p == id)) {
                page_node(world, id, &fields)
            } else {
                Err(Failure::meta(
                    400,
                    100,
                    Some(33),
                    "Unsupported get request.",
                ))
            }
        }
    }
}

/// What Meta refuses on the User Profile API beyond unknown fields: a field the app has no
/// permission for fails the whole call (code 100, subcode 2018247, "(#100) Insufficient
/// permission to access user profile."), and a person whose account was made with a phone
/// number has no profile (2018218, "No profile available for this user.").
/// <https://developers.facebook.com/docs/messenger-platform/identity/user-profile/>
fn user_profile_refusal(
    world: &World,
    page_id: &str,
    psid: &str,
    fields: &[String],
) -> Result<(), Failure> {
    if let Some(allowed) = world.profile_fields_allowed.get(page_id)
        && fields
            .iter()
            .any(|f| f != "id" && !allowed.iter().any(|a| a == f))
    {
        return Err(Failure::meta(
            400,
            100,
            Some(2018247),
            "(#100) Insufficient permission to access user profile.",
        ));
    }
    if world.without_profile.contains(psid) {
        return Err(Failure::meta(
            400,
            100,
            Some(2018218),
            "No profile available for this user.",
        ));
    }
    Ok(())
}

fn page_node(world: &World, page_id: &str, fields: &[String]) -> Answer {
    let page = &world.pages[page_id];
    let mut answer = Map::new();
    answer.insert("id".into(), json!(page.id));
    let wanted = |f: &str| fields.is_empty() || fields.iter().any(|x| x == f);
    if wanted("name") {
        answer.insert("name".into(), json!(page.name));
    }
    if fields.iter().any(|f| f == "username")
        && let Some(username) = &page.username
    {
        answer.insert("username".into(), json!(username));
    }
    if fields.iter().any(|f| f == "picture") {
        answer.insert(
            "picture".into(),
            json!({ "data": { "url": format!("https://scontent.example.fbcdn.net/{}.jpg", page.id) } }),
        );
    }
    Ok(Value::Object(answer))
}

fn subscribed_apps(world: &mut World, call: &Call, page_id: &str) -> Answer {
    let page_id = page_token(world, call, Some(page_id))?.to_owned();
    let app_key = "app".to_owned();
    match call.method.as_str() {
        "GET" => {
            let page = &world.pages[&page_id];
            let data: Vec<Value> = page
                .subscriptions
                .values()
                .map(|fields| json!({ "name": "refhub test app", "id": "app", "subscribed_fields": fields }))
                .collect();
            Ok(json!({ "data": data }))
        }
        "POST" => {
            let raw = call.param("subscribed_fields")?;
            let fields: Vec<String> = raw.split(',').map(|f| f.trim().to_owned()).collect();
            if let Some(bad) = fields
                .iter()
                .find(|f| !PAGE_WEBHOOK_FIELDS.contains(&f.as_str()))
            {
                return Err(Failure::invalid(
                    "Param subscribed_fields",
                    &format!("must be one of the page webhook fields, not {bad}"),
                ));
            }
            let page = world.pages.get_mut(&page_id).expect("known page");
            page.subscriptions.insert(app_key, fields);
            Ok(json!({ "success": true }))
        }
        _ => {
            let page = world.pages.get_mut(&page_id).expect("known page");
            page.subscriptions.remove(&app_key);
            Ok(json!({ "success": true }))
        }
    }
}

fn messenger_profile(world: &mut World, call: &Call) -> Answer {
    let page_id = page_token(world, call, None)?.to_owned();
    match call.method.as_str() {
        "GET" => {
            let fields = requested(call);
            if fields.is_empty() {
                return Err(Failure::meta(
                    400,
                    100,
                    None,
                    "(#100) The parameter fields is required",
                ));
            }
            if let Some(bad) = fields
                .iter()
                .find(|f| !PROFILE_PROPERTIES.contains(&f.as_str()))
            {
                return Err(Failure::invalid(bad, "is not a Messenger Profile property"));
            }
            let page = &world.pages[&page_id];
            let mut set = Map::new();
            for field in &fields {
                if let Some(value) = page.messenger_profile.get(field) {
                    set.insert(field.clone(), value.clone());
                }
            }
            let data = if set.is_empty() {
                vec![]
            } else {
                vec![Value::Object(set)]
            };
            Ok(json!({ "data": data }))
        }
        "POST" => {
            let Some(properties) = call.body.as_object() else {
                return Err(Failure::invalid(
                    "body",
                    "must be a JSON object of properties",
                ));
            };
            check_profile(properties, &world.pages[&page_id].messenger_profile)?;
            check_profile_items(properties)?;
            let page = world.pages.get_mut(&page_id).expect("known page");
            for (key, value) in properties {
                page.messenger_profile.insert(key.clone(), value.clone());
            }
            Ok(json!({ "result": "success" }))
        }
        _ => {
            let Some(fields) = call.body["fields"].as_array() else {
                return Err(Failure::meta(
                    400,
                    100,
                    None,
                    "(#100) The parameter fields is required",
                ));
            };
            let page = world.pages.get_mut(&page_id).expect("known page");
            for field in fields {
                let Some(name) = field.as_str().filter(|f| PROFILE_PROPERTIES.contains(f)) else {
                    return Err(Failure::invalid("fields", "names an unknown property"));
                };
                if name == "get_started" && page.messenger_profile.contains_key("persistent_menu") {
                    return Err(Failure::meta(
                        400,
                        100,
                        Some(2018145),
                        "(#100) You must remove the persistent menu before deleting the get started button",
                    ));
                }
                page.messenger_profile.remove(name);
            }
            Ok(json!({ "result": "success" }))
        }
    }
}

/// Meta's documented limits on the properties refhub sets.
fn check_profile(
    properties: &Map<String, Value>,
    current: &Map<String, Value>,
) -> Result<(), Failure> {
    for (key, value) in properties {
        if !PROFILE_PROPERTIES.contains(&key.as_str()) {
            return Err(Failure::invalid(key, "is not a Messenger Profile property"));
        }
        match key.as_str() {
            "get_started" => {
                let payload = value["payload"].as_str().unwrap_or("");
                if payload.is_empty() || payload.chars().count() > 1000 {
                    return Err(Failure::invalid(
                        "get_started.payload",
                        "must be 1 to 1000 characters",
                    ));
                }
            }
            "greeting" => {
                let Some(items) = value.as_array().filter(|a| !a.is_empty()) else {
                    return Err(Failure::invalid("greeting", "must be a non-empty array"));
                };
                if !items.iter().any(|g| g["locale"] == "default") {
                    return Err(Failure::invalid(
                        "greeting",
                        "must include the default locale",
                    ));
                }
                if items.iter().any(|g| {
                    g["text"]
                        .as_str()
                        .is_none_or(|t| t.is_empty() || t.chars().count() > 160)
                }) {
                    return Err(Failure::invalid(
                        "greeting.text",
                        "must be 1 to 160 characters",
                    ));
                }
            }
            "ice_breakers" => {
                let ok = value.as_array().is_some_and(|locales| {
                    locales.iter().all(|l| {
                        l["call_to_actions"]
                            .as_array()
                            .is_some_and(|c| !c.is_empty() && c.len() <= 4)
                    })
                });
                if !ok {
                    return Err(Failure::invalid(
                        "ice_breakers",
                        "must list 1 to 4 call_to_actions per locale",
                    ));
                }
            }
            "persistent_menu" => {
                let has_get_started =
                    properties.contains_key("get_started") || current.contains_key("get_started");
                if !has_get_started {
                    return Err(Failure::meta(
                        400,
                        100,
                        Some(2018145),
                        "(#100) You must set a Get Started button if you also wish to use persistent menu.",
                    ));
                }
                let ok = value.as_array().is_some_and(|locales| {
                    locales.iter().any(|l| l["locale"] == "default")
                        && locales.iter().all(|l| {
                            l["call_to_actions"]
                                .as_array()
                                .is_some_and(|c| c.len() <= 20)
                        })
                });
                if !ok {
                    return Err(Failure::invalid(
                        "persistent_menu",
                        "must include the default locale and at most 20 call_to_actions",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Meta's rules on the items inside ice breakers and persistent menus, beyond `check_profile`:
/// ice breakers in the current (per-locale) format need the `default` locale and a question
/// and payload each
/// (<https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/ice-breakers>);
/// menu items are `web_url` (with a `url`) or `postback` (with a payload of at most 1,000
/// characters), titled in at most 30 characters
/// (<https://developers.facebook.com/docs/messenger-platform/send-messages/persistent-menu>).
fn check_profile_items(properties: &Map<String, Value>) -> Result<(), Failure> {
    if let Some(locales) = properties.get("ice_breakers").and_then(Value::as_array) {
        let per_locale = locales.iter().all(|l| l.get("call_to_actions").is_some());
        if per_locale && !locales.iter().any(|l| l["locale"] == "default") {
            return Err(Failure::invalid(
                "ice_breakers",
                "must include the default locale",
            ));
        }
        let questions = locales
            .iter()
            .flat_map(|l| l["call_to_actions"].as_array().cloned().unwrap_or_default());
        for question in questions {
            let text = |key: &str| question[key].as_str().is_some_and(|t| !t.is_empty());
            if !text("question") || !text("payload") {
                return Err(Failure::invalid(
                    "ice_breakers.call_to_actions",
                    "each needs a question and a payload",
                ));
            }
        }
    }
    if let Some(locales) = properties.get("persistent_menu").and_then(Value::as_array) {
        let items = locales
            .iter()
            .flat_map(|l| l["call_to_actions"].as_array().cloned().unwrap_or_default());
        for item in items {
            let title_ok = item["title"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t.chars().count() <= 30);
            let action_ok = match item["type"].as_str() {
                Some("web_url") => item["url"].as_str().is_some_and(|u| !u.is_empty()),
                Some("postback") => item["payload"]
                    .as_str()
                    .is_some_and(|p| !p.is_empty() && p.chars().count() <= 1000),
                _ => false,
            };
            if !title_ok || !action_ok {
                return Err(Failure::invalid(
                    "persistent_menu.call_to_actions",
                    "each needs a title of at most 30 characters and a url (web_url) or a payload of at most 1000 characters (postback)",
                ));
            }
        }
    }
    Ok(())
}

fn send(world: &mut World, call: &Call, page: &str) -> Answer {
    let page_id = page_token(world, call, (page != "me").then_some(page))?.to_owned();
    let recipient = &call.body["recipient"];
    if !recipient.is_object() {
        return Err(Failure::meta(
            400,
            100,
            None,
            "(#100) The parameter recipient is required",
        ));
    }
    if call.body.get("message").is_none() && call.body.get("sender_action").is_none() {
        return Err(Failure::meta(
            400,
            100,
            None,
            "(#100) The parameter message is required",
        ));
    }
    let n = world.next_serial();
    let recipient_id = recipient["id"].as_str().unwrap_or("").to_owned();
    Ok(json!({ "recipient_id": recipient_id, "message_id": format!("m_fake{page_id}x{n:04}") }))
}

fn ids_for_pages(world: &mut World, call: &Call, user: &str) -> Answer {
    let token = call.token()?;
    if world.app_of_token(token).is_none() {
        grant(world, token)?;
    }
    let wanted_page = call.query.get("page");
    let data: Vec<Value> = world
        .ids_for_pages
        .get(user)
        .map(|pairs| {
            pairs
                .iter()
                .filter(|(page, _)| wanted_page.is_none_or(|w| w == page))
                .map(|(page, psid)| {
                    let name = world
                        .pages
                        .get(page)
                        .map(|p| p.name.clone())
                        .unwrap_or_default();
                    json!({ "id": psid, "page": { "id": page, "name": name } })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({ "data": data, "paging": { "cursors": { "before": "MAZDZD", "after": "MAZDZD" } } }))
}
