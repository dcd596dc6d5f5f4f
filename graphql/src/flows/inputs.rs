//! Input objects of flows, trigger rules, runs and notifications.

use async_graphql::{Enum, ID, InputObject, OneofObject};
use refhub_domain::DomainError;
use refhub_domain::DomainResult;
use refhub_domain::flows::QuickReply;
use refhub_domain::flows::{Button, ButtonAction, FlowStep, KeywordMatch as DomainKeywordMatch};

use crate::ids::parse_id;

/// One step of a flow: exactly one of its fields.
#[derive(OneofObject)]
pub(crate) enum FlowStepInput {
    /// Send a text (at most 2,000 characters).
    SendText(SendTextInput),
    /// Send a text with 1 to 13 quick replies.
    SendQuickReplies(SendQuickRepliesInput),
    /// Send a text (at most 640 characters) with 1 to 3 buttons.
    SendButtons(SendButtonsInput),
    /// Set a custom field (the value is checked by the field's type).
    SetField(SetFieldStepInput),
    /// Add a tag.
    AddTag(TagStepInput),
    /// Remove a tag.
    RemoveTag(TagStepInput),
    /// Wait before the next step.
    Wait(WaitStepInput),
}

/// A text message.
#[derive(InputObject)]
pub(crate) struct SendTextInput {
    /// The text.
    pub text: String,
}

/// A text with quick replies.
#[derive(InputObject)]
pub(crate) struct SendQuickRepliesInput {
    /// The text.
    pub text: String,
    /// The replies offered (1 to 13).
    pub replies: Vec<QuickReplyInput>,
}

/// A quick reply.
#[derive(InputObject)]
pub(crate) struct QuickReplyInput {
    /// What it says (at most 20 characters).
    pub title: String,
    /// What comes back as the reply's payload (at most 1,000 characters).
    pub payload: String,
}

/// A text with buttons.
#[derive(InputObject)]
pub(crate) struct SendButtonsInput {
    /// The text (at most 640 characters).
    pub text: String,
    /// The buttons (1 to 3).
    pub buttons: Vec<ButtonInput>,
}

/// A button: a postback with a `payload`, or a link with a `url` (exactly one).
#[derive(InputObject)]
pub(crate) struct ButtonInput {
    /// What it says (at most 20 characters).
    pub title: String,
    /// Sent back as a postback when tapped.
    pub payload: Option<String>,
    /// Opened when tapped (http or https).
    pub url: Option<String>,
}

/// Sets a custom field.
#[derive(InputObject)]
pub(crate) struct SetFieldStepInput {
    /// The field.
    pub field_id: ID,
    /// The value, as text in the field's type.
    pub value: String,
}

/// Adds or removes a tag.
#[derive(InputObject)]
pub(crate) struct TagStepInput {
    /// The tag.
    pub tag_id: ID,
}

/// A pause.
#[derive(InputObject)]
pub(crate) struct WaitStepInput {
    /// How long, in seconds (1 to 2,592,000: 30 days).
    pub seconds: i32,
}

impl ButtonInput {
    pub(crate) fn into_button(self, at: &str) -> DomainResult<Button> {
        let action = match (self.payload, self.url) {
            (Some(payload), None) => ButtonAction::Postback(payload),
            (None, Some(url)) => ButtonAction::Url(url),
            _ => {
                return Err(DomainError::validation(
                    at,
                    "a button has either a payload or a url",
                ));
            }
        };
        Ok(Button {
            title: self.title,
            action,
        })
    }
}

impl FlowStepInput {
    /// The domain step; `index` names it in errors (`steps[index]`).
    pub(crate) fn into_step(self, index: usize) -> DomainResult<FlowStep> {
        let path = format!("steps[{index}]");
        Ok(match self {
            FlowStepInput::SendText(input) => FlowStep::SendText { text: input.text },
            FlowStepInput::SendQuickReplies(input) => FlowStep::SendQuickReplies {
                text: input.text,
                replies: input
                    .replies
                    .into_iter()
                    .map(|r| QuickReply {
                        title: r.title,
                        payload: r.payload,
                    })
                    .collect(),
            },
            FlowStepInput::SendButtons(input) => FlowStep::SendButtons {
                text: input.text,
                buttons: input
                    .buttons
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| b.into_button(&format!("{path}.sendButtons.buttons[{i}]")))
                    .collect::<DomainResult<_>>()?,
            },
            FlowStepInput::SetField(input) => FlowStep::SetField {
                field_id: parse_id(&input.field_id, &format!("{path}.setField.fieldId"))?,
                value: input.value,
            },
            FlowStepInput::AddTag(input) => FlowStep::AddTag {
                tag_id: parse_id(&input.tag_id, &format!("{path}.addTag.tagId"))?,
            },
            FlowStepInput::RemoveTag(input) => FlowStep::RemoveTag {
                tag_id: parse_id(&input.tag_id, &format!("{path}.removeTag.tagId"))?,
            },
            // A negative wait is out of range like any other.
            FlowStepInput::Wait(input) => FlowStep::Wait {
                seconds: u32::try_from(input.seconds).unwrap_or(0),
            },
        })
    }
}

/// Reads a list of step inputs.
pub(crate) fn steps(inputs: Vec<FlowStepInput>) -> DomainResult<Vec<FlowStep>> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(index, step)| step.into_step(index))
        .collect()
}

/// Creates a flow.
#[derive(InputObject)]
pub(crate) struct CreateFlowInput {
    /// Its name (1 to 100 characters).
    pub name: String,
    /// Its steps, in order (1 to 50).
    pub steps: Vec<FlowStepInput>,
}

/// Changes a flow; omitted fields keep their value. Runs under way keep the steps they
/// started with.
#[derive(InputObject)]
pub(crate) struct UpdateFlowInput {
    /// The flow.
    pub id: ID,
    /// A new name.
    pub name: Option<String>,
    /// New steps, replacing all of them.
    pub steps: Option<Vec<FlowStepInput>>,
}

/// Deletes a flow.
#[derive(InputObject)]
pub(crate) struct DeleteFlowInput {
    /// The flow.
    pub id: ID,
}

/// How a keyword is compared with a message (always ignoring case).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum KeywordMatch {
    /// The whole message (trimmed) is the keyword.
    Exact,
    /// The message contains the keyword.
    Contains,
}

impl From<KeywordMatch> for DomainKeywordMatch {
    fn from(value: KeywordMatch) -> Self {
        match value {
            KeywordMatch::Exact => DomainKeywordMatch::Exact,
            KeywordMatch::Contains => DomainKeywordMatch::Contains,
        }
    }
}

impl From<DomainKeywordMatch> for KeywordMatch {
    fn from(value: DomainKeywordMatch) -> Self {
        match value {
            DomainKeywordMatch::Exact => KeywordMatch::Exact,
            DomainKeywordMatch::Contains => KeywordMatch::Contains,
        }
    }
}

/// What a rule reacts to: exactly one of its fields.
#[derive(OneofObject)]
pub(crate) enum FlowTriggerRuleInput {
    /// A postback or quick reply with exactly this payload.
    Postback(PostbackRuleInput),
    /// A message matching a keyword.
    Keyword(KeywordRuleInput),
    /// An opt-in to a notification topic.
    TopicOptIn(TopicOptInRuleInput),
}

/// A postback rule.
#[derive(InputObject)]
pub(crate) struct PostbackRuleInput {
    /// The payload (compared exactly).
    pub payload: String,
}

/// A keyword rule.
#[derive(InputObject)]
pub(crate) struct KeywordRuleInput {
    /// The keyword.
    pub keyword: String,
    /// How it is compared (default: the whole message).
    #[graphql(name = "match", default_with = "KeywordMatch::Exact")]
    pub matching: KeywordMatch,
}

/// A topic opt-in rule.
#[derive(InputObject)]
pub(crate) struct TopicOptInRuleInput {
    /// The topic.
    pub topic_id: ID,
}

/// Adds a rule starting a flow.
#[derive(InputObject)]
pub(crate) struct CreateFlowTriggerInput {
    /// The flow to start.
    pub flow_id: ID,
    /// Only events of this page (default: every page).
    pub page_id: Option<ID>,
    /// What starts it.
    pub rule: FlowTriggerRuleInput,
}

/// Deletes a rule.
#[derive(InputObject)]
pub(crate) struct DeleteFlowTriggerInput {
    /// The rule.
    pub id: ID,
}

/// Starts a flow for some subscribers by hand.
#[derive(InputObject)]
pub(crate) struct StartFlowInput {
    /// The flow.
    pub flow_id: ID,
    /// The subscribers (1 to 100).
    pub subscriber_ids: Vec<ID>,
}

/// Cancels a run.
#[derive(InputObject)]
pub(crate) struct CancelFlowRunInput {
    /// The run.
    pub id: ID,
}

/// A notification's message.
#[derive(InputObject)]
pub(crate) struct NotificationMessageInput {
    /// The text (at most 2,000 characters; 640 with buttons).
    pub text: String,
    /// Up to 3 buttons.
    #[graphql(default)]
    pub buttons: Vec<ButtonInput>,
}

/// Sends a notification to everyone opted in to a topic.
#[derive(InputObject)]
pub(crate) struct SendTopicNotificationInput {
    /// The topic.
    pub topic_id: ID,
    /// What to send.
    pub message: NotificationMessageInput,
}
