//! The steps a flow is made of, checked against Meta's limits, and the Send API `message`
//! each sending step becomes.
//!
//! Steps are stored as JSON (serde's shape of [`FlowStep`]); a run keeps its own copy, so it
//! finishes the flow as it was when it started.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{DomainError, DomainResult};
use crate::ids::{CustomFieldId, TagId};
use crate::text::without_nul;

/// Meta's limit on a message's text.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Meta's limit on a button template's text.
pub const MAX_BUTTON_TEXT_CHARS: usize = 640;
/// Meta's limit on quick replies per message.
pub const MAX_QUICK_REPLIES: usize = 13;
/// Meta's limit on buttons per button template.
pub const MAX_BUTTONS: usize = 3;
/// Meta's limit on a quick reply's or a button's title.
pub const MAX_TITLE_CHARS: usize = 20;
/// Meta's limit on a postback or quick-reply payload.
pub const MAX_PAYLOAD_CHARS: usize = 1000;
/// The longest wait a step may ask for (30 days).
pub const MAX_WAIT_SECONDS: u32 = 30 * 24 * 3600;
/// The most steps a flow may have.
pub const MAX_STEPS: usize = 50;

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FlowStep {
    /// Send a text.
    SendText {
        /// The text.
        text: String,
    },
    /// Send a text with quick replies.
    SendQuickReplies {
        /// The text.
        text: String,
        /// The replies offered.
        replies: Vec<QuickReply>,
    },
    /// Send a text with buttons (a button template).
    SendButtons {
        /// The text.
        text: String,
        /// The buttons.
        buttons: Vec<Button>,
    },
    /// Set a custom field (the value is kept in its canonical text).
    #[serde(rename_all = "camelCase")]
    SetField {
        /// The field.
        field_id: CustomFieldId,
        /// The value.
        value: String,
    },
    /// Add a tag.
    #[serde(rename_all = "camelCase")]
    AddTag {
        /// The tag.
        tag_id: TagId,
    },
    /// Remove a tag.
    #[serde(rename_all = "camelCase")]
    RemoveTag {
        /// The tag.
        tag_id: TagId,
    },
    /// Wait before the next step.
    Wait {
        /// How long.
        seconds: u32,
    },
}

/// A quick reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    /// What the button says.
    pub title: String,
    /// What comes back when it is tapped.
    pub payload: String,
}

/// A button of a button template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// What the button says.
    pub title: String,
    /// What it does.
    pub action: ButtonAction,
}

/// What a button does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ButtonAction {
    /// Sends this payload back as a postback.
    Postback(String),
    /// Opens this URL.
    Url(String),
}

impl FlowStep {
    /// The step's name, as the API spells it (`sendText`, `wait`, …).
    pub fn action(&self) -> &'static str {
        match self {
            FlowStep::SendText { .. } => "sendText",
            FlowStep::SendQuickReplies { .. } => "sendQuickReplies",
            FlowStep::SendButtons { .. } => "sendButtons",
            FlowStep::SetField { .. } => "setField",
            FlowStep::AddTag { .. } => "addTag",
            FlowStep::RemoveTag { .. } => "removeTag",
            FlowStep::Wait { .. } => "wait",
        }
    }

    /// The Send API `message` of a sending step, or `None` for the others.
    pub fn message(&self) -> Option<Value> {
        match self {
            FlowStep::SendText { text } => Some(json!({ "text": text })),
            FlowStep::SendQuickReplies { text, replies } => Some(json!({
                "text": text,
                "quick_replies": replies
                    .iter()
                    .map(|r| json!({ "content_type": "text", "title": r.title, "payload": r.payload }))
                    .collect::<Vec<_>>(),
            })),
            FlowStep::SendButtons { text, buttons } => Some(button_template(text, buttons)),
            _ => None,
        }
    }

    /// Checks the step's own shape against Meta's limits (ids are checked by the service), and
    /// returns it with its texts trimmed. `path` names the step in errors (`steps[2]`).
    pub fn checked(self, path: &str) -> DomainResult<FlowStep> {
        let action = self.action();
        let at = |field: &str| format!("{path}.{action}.{field}");
        Ok(match self {
            FlowStep::SendText { text } => FlowStep::SendText {
                text: message_text(&text, &at("text"), MAX_TEXT_CHARS)?,
            },
            FlowStep::SendQuickReplies { text, replies } => {
                let text = message_text(&text, &at("text"), MAX_TEXT_CHARS)?;
                count_between(replies.len(), 1, MAX_QUICK_REPLIES, &at("replies"))?;
                let replies = replies
                    .into_iter()
                    .enumerate()
                    .map(|(i, reply)| {
                        let at = format!("{}[{i}]", at("replies"));
                        Ok(QuickReply {
                            title: title(&reply.title, &format!("{at}.title"))?,
                            payload: payload(&reply.payload, &format!("{at}.payload"))?,
                        })
                    })
                    .collect::<DomainResult<_>>()?;
                FlowStep::SendQuickReplies { text, replies }
            }
            FlowStep::SendButtons { text, buttons } => {
                let text = message_text(&text, &at("text"), MAX_BUTTON_TEXT_CHARS)?;
                count_between(buttons.len(), 1, MAX_BUTTONS, &at("buttons"))?;
                let buttons = buttons
                    .into_iter()
                    .enumerate()
                    .map(|(i, button)| checked_button(button, &format!("{}[{i}]", at("buttons"))))
                    .collect::<DomainResult<_>>()?;
                FlowStep::SendButtons { text, buttons }
            }
            FlowStep::Wait { seconds } => {
                if !(1..=MAX_WAIT_SECONDS).contains(&seconds) {
                    return Err(DomainError::validation(
                        at("seconds"),
                        format!("must be between 1 and {MAX_WAIT_SECONDS} (30 days)"),
                    ));
                }
                FlowStep::Wait { seconds }
            }
            other => other,
        })
    }
}

/// Meta's button template.
pub fn button_template(text: &str, buttons: &[Button]) -> Value {
    let buttons: Vec<Value> = buttons
        .iter()
        .map(|b| match &b.action {
            ButtonAction::Postback(payload) => {
                json!({ "type": "postback", "title": b.title, "payload": payload })
            }
            ButtonAction::Url(url) => json!({ "type": "web_url", "title": b.title, "url": url }),
        })
        .collect();
    json!({
        "attachment": {
            "type": "template",
            "payload": { "template_type": "button", "text": text, "buttons": buttons }
        }
    })
}

/// Checks a button (title, and its payload or URL).
pub fn checked_button(button: Button, at: &str) -> DomainResult<Button> {
    let title = title(&button.title, &format!("{at}.title"))?;
    let action = match button.action {
        ButtonAction::Postback(p) => ButtonAction::Postback(payload(&p, &format!("{at}.payload"))?),
        ButtonAction::Url(u) => ButtonAction::Url(web_url(&u, &format!("{at}.url"))?),
    };
    Ok(Button { title, action })
}

/// A message text: not blank, within `max` characters, no NUL, trimmed.
pub fn message_text(raw: &str, field: &str, max: usize) -> DomainResult<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    without_nul(text, field)?;
    if text.chars().count() > max {
        return Err(DomainError::validation(
            field,
            format!("must be at most {max} characters (Meta's limit)"),
        ));
    }
    Ok(text.to_owned())
}

fn title(raw: &str, field: &str) -> DomainResult<String> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    without_nul(title, field)?;
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(DomainError::validation(
            field,
            format!("must be at most {MAX_TITLE_CHARS} characters (Meta's limit)"),
        ));
    }
    Ok(title.to_owned())
}

fn payload(raw: &str, field: &str) -> DomainResult<String> {
    if raw.trim().is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    without_nul(raw, field)?;
    if raw.chars().count() > MAX_PAYLOAD_CHARS {
        return Err(DomainError::validation(
            field,
            format!("must be at most {MAX_PAYLOAD_CHARS} characters (Meta's limit)"),
        ));
    }
    Ok(raw.to_owned())
}

fn web_url(raw: &str, field: &str) -> DomainResult<String> {
    let raw = raw.trim();
    match url::Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(DomainError::validation(
            field,
            "must be an absolute http or https URL",
        )),
    }
}

fn count_between(count: usize, min: usize, max: usize, field: &str) -> DomainResult<()> {
    if count < min || count > max {
        return Err(DomainError::validation(
            field,
            format!("must have between {min} and {max} entries (Meta's limit)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: DomainError) -> String {
        err.field().unwrap_or_default().to_owned()
    }

    #[test]
    fn texts_follow_metas_limits() {
        let long = "é".repeat(MAX_TEXT_CHARS + 1);
        let err = FlowStep::SendText { text: long }
            .checked("steps[3]")
            .unwrap_err();
        assert_eq!(field_of(err), "steps[3].sendText.text");
        let exact = "é".repeat(MAX_TEXT_CHARS);
        assert!(
            FlowStep::SendText { text: exact }
                .checked("steps[0]")
                .is_ok()
        );
        let err = FlowStep::SendButtons {
            text: "x".repeat(MAX_BUTTON_TEXT_CHARS + 1),
            buttons: vec![],
        }
        .checked("steps[0]")
        .unwrap_err();
        assert_eq!(field_of(err), "steps[0].sendButtons.text");
        let err = FlowStep::SendText {
            text: "a\0b".into(),
        }
        .checked("steps[1]")
        .unwrap_err();
        assert_eq!(field_of(err), "steps[1].sendText.text");
    }

    #[test]
    fn quick_replies_and_buttons_are_counted_and_titled() {
        let reply = QuickReply {
            title: "Yes".into(),
            payload: "YES".into(),
        };
        let too_many = FlowStep::SendQuickReplies {
            text: "Pick".into(),
            replies: vec![reply.clone(); 14],
        };
        assert_eq!(
            field_of(too_many.checked("steps[1]").unwrap_err()),
            "steps[1].sendQuickReplies.replies"
        );
        let long_title = FlowStep::SendQuickReplies {
            text: "Pick".into(),
            replies: vec![
                reply,
                QuickReply {
                    title: "t".repeat(21),
                    payload: "P".into(),
                },
            ],
        };
        assert_eq!(
            field_of(long_title.checked("steps[1]").unwrap_err()),
            "steps[1].sendQuickReplies.replies[1].title"
        );
        let bad_url = FlowStep::SendButtons {
            text: "Go".into(),
            buttons: vec![Button {
                title: "Site".into(),
                action: ButtonAction::Url("javascript:alert(1)".into()),
            }],
        };
        assert_eq!(
            field_of(bad_url.checked("steps[0]").unwrap_err()),
            "steps[0].sendButtons.buttons[0].url"
        );
    }

    #[test]
    fn waits_are_bounded() {
        assert!(FlowStep::Wait { seconds: 0 }.checked("steps[0]").is_err());
        assert!(
            FlowStep::Wait {
                seconds: MAX_WAIT_SECONDS + 1
            }
            .checked("steps[0]")
            .is_err()
        );
        assert!(FlowStep::Wait { seconds: 60 }.checked("steps[0]").is_ok());
    }

    #[test]
    fn sending_steps_render_metas_message_shapes() {
        let buttons = FlowStep::SendButtons {
            text: "Choose".into(),
            buttons: vec![
                Button {
                    title: "More".into(),
                    action: ButtonAction::Postback("MORE".into()),
                },
                Button {
                    title: "Site".into(),
                    action: ButtonAction::Url("https://example.com/".into()),
                },
            ],
        };
        assert_eq!(
            buttons.message().unwrap(),
            json!({"attachment": {"type": "template", "payload": {
            "template_type": "button", "text": "Choose",
            "buttons": [
                {"type": "postback", "title": "More", "payload": "MORE"},
                {"type": "web_url", "title": "Site", "url": "https://example.com/"}
            ]}}})
        );
        let replies = FlowStep::SendQuickReplies {
            text: "Size?".into(),
            replies: vec![QuickReply {
                title: "S".into(),
                payload: "SIZE_S".into(),
            }],
        };
        assert_eq!(
            replies.message().unwrap(),
            json!({"text": "Size?", "quick_replies": [
                {"content_type": "text", "title": "S", "payload": "SIZE_S"}]})
        );
        assert_eq!(FlowStep::Wait { seconds: 5 }.message(), None);
    }

    #[test]
    fn steps_survive_storage() {
        let step = FlowStep::SetField {
            field_id: CustomFieldId::generate(),
            value: "42".into(),
        };
        let stored = serde_json::to_string(&step).unwrap();
        assert_eq!(serde_json::from_str::<FlowStep>(&stored).unwrap(), step);
    }
}
