//! `GET /graphql/ws`: GraphQL subscriptions over websocket (`graphql-transport-ws`, and the
//! older `graphql-ws`). The access token or API key comes in `connection_init`'s payload, as
//! `{"Authorization": "Bearer …"}`, `{"authorization": …}`, `{"token": …}` or under
//! `headers`; without a valid one the connection is refused, and the socket is closed once it
//! is no longer valid. Only subscriptions run here (see `AppSchema`): queries and mutations go
//! to `POST /graphql`, where every request is authenticated and rate-limited.
//!
//! A socket that sends no `connection_init` within [`INIT_TIMEOUT`] is closed (4408); a
//! workspace holds at most so many sockets (more are closed with 1013, "try again later") and
//! a socket at most so many subscriptions (one more is answered with an `error` message coded
//! `CONFLICT`; the socket and its other subscriptions go on); a subscription id already
//! running is a protocol error (4409). See `SocketLimits`.
//!
//! Browsers open a websocket from any page without asking the server first, sending the page's
//! `Origin`: a socket from an origin that `CORS_ALLOWED_ORIGINS` does not name (nor the
//! service's own) is refused with 403 before the upgrade, as a cross-origin request is on
//! `/graphql`. Clients other than browsers send no `Origin` and are not concerned.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::Data;
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use futures::StreamExt;
use refhub_domain::DomainError;
use refhub_domain::identity::{Actor, Principal};
use refhub_graphql::{AppSchema, Authentication, Services, subscription_data};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::cors::AllowedOrigins;
use super::socket_limits::{SocketLimits, SocketSlot};

/// How often an open socket's caller is checked again: a revoked key, a session logged out
/// (4401), a member removed or a workspace suspended (4403) closes the socket within this.
/// The access token's own expiry does not: it bounds opening new sockets, and a socket lives
/// as long as its session, so a dashboard's feed does not drop at every token renewal.
const RECHECK_EVERY: Duration = Duration::from_secs(10);

/// How long a socket may stay open without being acknowledged (no `connection_init`, or not
/// yet accepted): the protocol's reference server waits 3 seconds, then closes with 4408.
const INIT_TIMEOUT: Duration = Duration::from_secs(3);

/// `graphql-transport-ws`'s close code for a socket that never initialised.
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// `graphql-transport-ws`'s close code for a subscription id already running.
const CLOSE_SUBSCRIBER_EXISTS: u16 = 4409;
/// The protocol's code for a caller who may not (Forbidden): graphql-ws retries it.
const CLOSE_FORBIDDEN: u16 = 4403;
/// The protocol's code for a credential that is not (or no longer) good (Unauthorized):
/// graphql-ws treats it as fatal and does not retry, so a client with a dead token stops and
/// signs in again instead of looping on the same refusal.
const CLOSE_UNAUTHORIZED: u16 = 4401;
/// WebSocket's own "Try Again Later" (RFC 6455's registry): the workspace holds all its sockets.
/// Clients (graphql-ws among them) retry it with their back-off, as they should: a place is
/// free once another socket of the workspace closes.
const CLOSE_TRY_AGAIN_LATER: u16 = 1013;

/// WebSocket control frames the client sent, for the loop that owns the session to answer.
enum Control {
    /// A ping: answered with a pong carrying the same bytes (RFC 6455, 5.5.2).
    Ping(actix_web::web::Bytes),
    /// The client's close frame: answered with ours at once, echoing its code.
    Close(Option<actix_ws::CloseReason>),
}

/// The close code for a caller refused with `err`.
fn close_code(err: &DomainError) -> u16 {
    match err {
        DomainError::Unauthenticated(_) => CLOSE_UNAUTHORIZED,
        _ => CLOSE_FORBIDDEN,
    }
}

/// Who a socket counts against: its workspace, or the user when it names none.
fn socket_owner(principal: &Principal) -> Uuid {
    match (&principal.tenant, &principal.actor) {
        (Some(access), _) => access.tenant_id.0,
        (None, Actor::User { user_id, .. }) => user_id.0,
        (None, Actor::ApiKey { key_id }) => key_id.0,
    }
}

/// What becomes of a client message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// It goes on to the engine.
    Pass,
    /// It was answered here.
    Answered,
    /// It broke the protocol: the socket closes.
    Broken,
}

/// The subscriptions running on one socket, as the client's messages start and stop them and
/// the server's `complete` messages end them.
struct RunningSubscriptions {
    ids: HashSet<String>,
    most: usize,
    /// Set when the client broke the protocol: the close code and reason; the socket ends.
    broken: Option<(u16, String)>,
    /// Answers to send for subscriptions refused here.
    refusals: mpsc::UnboundedSender<String>,
}

impl RunningSubscriptions {
    /// What becomes of a client message: a subscription past the socket's allowance is
    /// answered here, and a repeated id breaks the socket.
    fn admit(&mut self, message: &[u8]) -> Verdict {
        let Ok(message) = serde_json::from_slice::<Value>(message) else {
            // The engine explains what is wrong with it.
            return Verdict::Pass;
        };
        let id = message.get("id").and_then(Value::as_str);
        match (message.get("type").and_then(Value::as_str), id) {
            (Some("subscribe" | "start"), Some(id)) => {
                if self.ids.contains(id) {
                    self.broken = Some((
                        CLOSE_SUBSCRIBER_EXISTS,
                        close_reason(format!("Subscriber for {id} already exists")),
                    ));
                    return Verdict::Broken;
                }
                if self.ids.len() >= self.most {
                    let _ = self.refusals.send(
                        json!({
                            "type": "error",
                            "id": id,
                            "payload": [{
                                "message": format!(
                                    "a socket runs at most {} subscriptions at once; complete \
                                     one first",
                                    self.most
                                ),
                                "extensions": { "code": "CONFLICT" },
                            }],
                        })
                        .to_string(),
                    );
                    return Verdict::Answered;
                }
                self.ids.insert(id.to_owned());
            }
            (Some("complete" | "stop"), Some(id)) => {
                self.ids.remove(id);
            }
            _ => {}
        }
        Verdict::Pass
    }

    /// Notes a server message: a `complete` ends its subscription.
    fn sent(&mut self, text: &str) {
        if let Ok(message) = serde_json::from_str::<Value>(text)
            && message.get("type").and_then(Value::as_str) == Some("complete")
            && let Some(id) = message.get("id").and_then(Value::as_str)
        {
            self.ids.remove(id);
        }
    }
}

/// The credential in a `connection_init` payload, in the shapes clients send it.
fn credential(payload: &Value) -> Option<String> {
    let from = |object: &Value| {
        ["Authorization", "authorization", "token", "accessToken"]
            .iter()
            .find_map(|key| object.get(*key)?.as_str())
            .map(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
                    .unwrap_or(value)
                    .trim()
                    .to_owned()
            })
    };
    from(payload).or_else(|| payload.get("headers").and_then(from))
}

/// Upgrades to a websocket and serves subscriptions on it.
pub async fn subscriptions(
    request: HttpRequest,
    body: web::Payload,
    schema: web::Data<AppSchema>,
    services: web::Data<Services>,
    limits: web::Data<SocketLimits>,
    origins: web::Data<AllowedOrigins>,
) -> actix_web::Result<HttpResponse> {
    if let Some(origin) = request.headers().get(actix_web::http::header::ORIGIN)
        && !origins.allows_request(origin, request.head())
    {
        return Ok(HttpResponse::Forbidden().json(json!({
            "code": "FORBIDDEN",
            "field": "Origin",
            "message": "this origin may not open subscriptions from a browser: it is not in \
                        CORS_ALLOWED_ORIGINS",
        })));
    }
    // The first subprotocol the client offers that we speak. One it did not offer is never
    // named back (a browser fails such a handshake); a client offering none gets the older
    // `graphql-ws` dialect, unnamed.
    let offered = request
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .map(str::trim)
                .find_map(|name| name.parse::<WebSocketProtocols>().ok())
        });
    let protocol = offered.unwrap_or(WebSocketProtocols::GraphQLWS);
    let (mut response, mut session, incoming) = actix_ws::handle(&request, body)?;
    if let Some(offered) = offered
        && let Ok(value) = offered.sec_websocket_protocol().parse()
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    let (refusals, mut refused) = mpsc::unbounded_channel();
    let running = Arc::new(Mutex::new(RunningSubscriptions {
        ids: HashSet::new(),
        most: limits.subscriptions_per_socket,
        broken: None,
        refusals,
    }));
    let admitting = running.clone();
    // A frame over the limit (64 KiB) or a broken one ends the connection: the messages of
    // this protocol are small, and reading on would only buffer what an abuser sends. The
    // client's close frame ends it too (answered with ours), and gives back its place.
    let (controls, mut control) = mpsc::unbounded_channel();
    let closing = controls.clone();
    let incoming = incoming
        .take_while(move |message| {
            let open = match message {
                Ok(actix_ws::Message::Close(reason)) => {
                    let _ = closing.send(Control::Close(reason.clone()));
                    false
                }
                Ok(_) => true,
                Err(_) => false,
            };
            futures::future::ready(open)
        })
        .filter_map(move |message| {
            let message = match message {
                Ok(actix_ws::Message::Text(text)) => Some(text.into_bytes()),
                Ok(actix_ws::Message::Binary(bytes)) => Some(bytes),
                Ok(actix_ws::Message::Ping(bytes)) => {
                    let _ = controls.send(Control::Ping(bytes));
                    None
                }
                _ => None,
            };
            futures::future::ready(message)
        })
        .map(move |message| {
            let verdict = admitting
                .lock()
                .map_or(Verdict::Broken, |mut running| running.admit(&message));
            (verdict, message)
        })
        // A socket that broke the protocol reads no further.
        .take_while(|(verdict, _)| futures::future::ready(*verdict != Verdict::Broken))
        .filter_map(|(verdict, message)| {
            futures::future::ready((verdict == Verdict::Pass).then_some(message))
        })
        .boxed_local();
    let services = services.get_ref().clone();
    let schema = schema.get_ref().clone();
    let limits = limits.into_inner();
    // The accepted credential and the caller it stood for, checked again every so often.
    let token: Arc<Mutex<Option<(String, Principal)>>> = Arc::default();
    // Why `connection_init` was refused, as a close code.
    let init_refusal: Arc<Mutex<Option<u16>>> = Arc::default();
    // The socket's place in its workspace's allowance, taken when it is acknowledged; and
    // whether it was refused for want of one.
    let slot: Arc<Mutex<Option<SocketSlot>>> = Arc::default();
    let over_allowance: Arc<Mutex<bool>> = Arc::default();
    actix_web::rt::spawn(async move {
        let accepted = token.clone();
        let init_services = services.clone();
        let (init_slot, init_over) = (slot.clone(), over_allowance.clone());
        let refused_with = init_refusal.clone();
        let mut outgoing = WebSocket::new(schema, incoming, protocol)
            .on_connection_init(move |payload| async move {
                let services = init_services;
                let refuse = |err: DomainError| {
                    if let Ok(mut code) = refused_with.lock() {
                        *code = Some(close_code(&err));
                    }
                    refusal(err)
                };
                let Some(token) = credential(&payload) else {
                    return Err(refuse(DomainError::Unauthenticated(
                        "send a token in connection_init: {\"Authorization\": \"Bearer …\"}",
                    )));
                };
                let principal = services.auth.authenticate(&token).await.map_err(refuse)?;
                let Some(place) = limits.admit(socket_owner(&principal)) else {
                    if let Ok(mut over) = init_over.lock() {
                        *over = true;
                    }
                    return Err(async_graphql::Error::new(format!(
                        "this workspace has {} subscription sockets open already; try again \
                         once one closes",
                        limits.connections_per_tenant
                    )));
                };
                if let Ok(mut slot) = init_slot.lock() {
                    *slot = Some(place);
                }
                if let Ok(mut accepted) = accepted.lock() {
                    *accepted = Some((token, principal));
                }
                Ok::<Data, async_graphql::Error>(subscription_data(
                    &services,
                    Authentication::Authenticated(principal),
                ))
            })
            .boxed_local();
        let mut acknowledged = false;
        let mut recheck = tokio::time::interval(RECHECK_EVERY);
        recheck.tick().await;
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(init_deadline);
        loop {
            let message = tokio::select! {
                message = outgoing.next() => message,
                Some(refusal) = refused.recv() => {
                    if session.text(refusal).await.is_err() {
                        return;
                    }
                    continue;
                }
                Some(frame) = control.recv() => {
                    match frame {
                        Control::Ping(bytes) => {
                            if session.pong(&bytes).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        // The client is leaving: answer its close at once (echoing its code,
                        // as RFC 6455 asks) and stop its subscriptions.
                        Control::Close(reason) => {
                            let _ = session.close(reason).await;
                            return;
                        }
                    }
                }
                () = &mut init_deadline, if !acknowledged => {
                    let _ = session
                        .close(Some(actix_ws::CloseReason {
                            code: CLOSE_INIT_TIMEOUT.into(),
                            description: Some("Connection initialisation timeout".to_owned()),
                        }))
                        .await;
                    return;
                }
                _ = recheck.tick() => {
                    let current = token.lock().ok().and_then(|token| token.clone());
                    if let Some((bearer, principal)) = current
                        && let Err(err) = services.auth.recheck(&principal, &bearer).await
                        && !matches!(err, DomainError::Internal(_) | DomainError::Unavailable(_))
                    {
                        let _ = session
                            .close(Some(actix_ws::CloseReason {
                                code: close_code(&err).into(),
                                description: Some(close_reason(err.to_string())),
                            }))
                            .await;
                        return;
                    }
                    continue;
                }
            };
            let Some(message) = message else { break };
            let sent = match message {
                WsMessage::Text(text) => {
                    acknowledged |= text.contains("\"connection_ack\"");
                    if let Ok(mut running) = running.lock() {
                        running.sent(&text);
                    }
                    session.text(text).await
                }
                WsMessage::Close(code, reason) => {
                    // The protocol's code for a refused connection_init is 4403 (Forbidden);
                    // the library says 1002 (protocol error), which clients retry blindly.
                    let over = over_allowance.lock().is_ok_and(|over| *over);
                    let refused_as = init_refusal.lock().ok().and_then(|code| *code);
                    let code = match (acknowledged, code) {
                        (false, 1002) if over => CLOSE_TRY_AGAIN_LATER,
                        (false, 1002) => refused_as.unwrap_or(CLOSE_FORBIDDEN),
                        (_, code) => code,
                    };
                    let _ = session
                        .close(Some(actix_ws::CloseReason {
                            code: code.into(),
                            description: Some(close_reason(reason)),
                        }))
                        .await;
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
        let broken = running
            .lock()
            .ok()
            .and_then(|mut running| running.broken.take());
        // The client's own close, when that is what ended the stream, is echoed.
        let echoed = std::iter::from_fn(|| control.try_recv().ok()).find_map(|frame| match frame {
            Control::Close(reason) => reason,
            Control::Ping(_) => None,
        });
        let reason = broken
            .map(|(code, reason)| actix_ws::CloseReason {
                code: code.into(),
                description: Some(reason),
            })
            .or(echoed);
        let _ = session.close(reason).await;
        // The socket's place is given back as `slot` is dropped with this task.
        drop(slot);
    });
    Ok(response)
}

/// A close frame carries at most 123 bytes of reason; a longer one breaks the frame.
fn close_reason(mut reason: String) -> String {
    const MAX: usize = 123;
    if reason.len() > MAX {
        let mut end = MAX;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

fn refusal(err: DomainError) -> async_graphql::Error {
    async_graphql::Error::new(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_found_in_the_usual_shapes() {
        let shapes = [
            serde_json::json!({"Authorization": "Bearer abc"}),
            serde_json::json!({"authorization": "bearer abc"}),
            serde_json::json!({"token": "abc"}),
            serde_json::json!({"headers": {"Authorization": "Bearer abc"}}),
        ];
        for shape in shapes {
            assert_eq!(credential(&shape).as_deref(), Some("abc"), "{shape}");
        }
        assert_eq!(credential(&serde_json::json!({})), None);
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let long = "é".repeat(100);
        let reason = close_reason(long);
        assert!(reason.len() <= 123 && reason.chars().all(|c| c == 'é'));
    }
}
