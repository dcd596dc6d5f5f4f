//! `GET /graphql/ws`: GraphQL subscriptions over websocket (`graphql-transport-ws`, and the
//! older `graphql-ws`). The access token or API key comes in `connection_init`'s payload, as
//! `{"Authorization": "Bearer …"}`, `{"authorization": …}`, `{"token": …}` or under
//! `headers`; without a valid one the connection is refused, and the socket is closed once it
//! is no longer valid. Only subscriptions run here (see `AppSchema`): queries and mutations go
//! to `POST /graphql`, where every request is authenticated and rate-limited.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::Data;
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use futures::StreamExt;
use refhub_domain::DomainError;
use refhub_graphql::{AppSchema, Authentication, Services, subscription_data};
use serde_json::Value;

/// How often an open socket's credential is checked again: a revoked key, a session logged
/// out, a member removed or a workspace suspended closes the socket (code 4403) within this.
/// An access token that expires does too: clients reconnect with a fresh one.
const RECHECK_EVERY: Duration = Duration::from_secs(10);

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
) -> actix_web::Result<HttpResponse> {
    let protocol = request
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .map(str::trim)
                .find_map(|name| name.parse::<WebSocketProtocols>().ok())
        })
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    let (mut response, mut session, incoming) = actix_ws::handle(&request, body)?;
    if let Ok(value) = protocol.sec_websocket_protocol().parse() {
        response
            .headers_mut()
            .insert(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    // A frame over the limit (64 KiB) or a broken one ends the connection: the messages of
    // this protocol are small, and reading on would only buffer what an abuser sends.
    let incoming = incoming
        .take_while(|message| futures::future::ready(message.is_ok()))
        .filter_map(|message| async move {
            match message {
                Ok(actix_ws::Message::Text(text)) => Some(text.into_bytes()),
                Ok(actix_ws::Message::Binary(bytes)) => Some(bytes),
                _ => None,
            }
        })
        .boxed_local();
    let services = services.get_ref().clone();
    let schema = schema.get_ref().clone();
    let token: Arc<Mutex<Option<String>>> = Arc::default();
    actix_web::rt::spawn(async move {
        let accepted = token.clone();
        let init_services = services.clone();
        let mut outgoing = WebSocket::new(schema, incoming, protocol)
            .on_connection_init(move |payload| async move {
                let services = init_services;
                let Some(token) = credential(&payload) else {
                    return Err(refusal(DomainError::Unauthenticated(
                        "send a token in connection_init: {\"Authorization\": \"Bearer …\"}",
                    )));
                };
                let principal = services.auth.authenticate(&token).await.map_err(refusal)?;
                if let Ok(mut accepted) = accepted.lock() {
                    *accepted = Some(token);
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
        loop {
            let message = tokio::select! {
                message = outgoing.next() => message,
                _ = recheck.tick() => {
                    let current = token.lock().ok().and_then(|token| token.clone());
                    if let Some(current) = current
                        && let Err(err) = services.auth.authenticate(&current).await
                        && !matches!(err, DomainError::Internal(_) | DomainError::Unavailable(_))
                    {
                        let _ = session
                            .close(Some(actix_ws::CloseReason {
                                code: 4403.into(),
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
                    session.text(text).await
                }
                WsMessage::Close(code, reason) => {
                    // The protocol's code for a refused connection_init is 4403 (Forbidden);
                    // the library says 1002 (protocol error), which clients retry blindly.
                    let code = if !acknowledged && code == 1002 {
                        4403
                    } else {
                        code
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
        let _ = session.close(None).await;
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
