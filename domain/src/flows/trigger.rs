//! Rules that start a flow when a webhook event matches them, and the choice of the one rule
//! (at most) an event starts a run for.

use chrono::{DateTime, Utc};

use crate::error::DomainResult;
use crate::ids::{FlowId, FlowTriggerId, PageId, TenantId, TopicId};

/// How a keyword is compared with a message's text (always case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordMatch {
    /// The whole trimmed text is the keyword.
    Exact,
    /// The text contains the keyword.
    Contains,
}

impl KeywordMatch {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeywordMatch::Exact => "exact",
            KeywordMatch::Contains => "contains",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "exact" => Some(KeywordMatch::Exact),
            "contains" => Some(KeywordMatch::Contains),
            _ => None,
        }
    }
}

/// What a trigger reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerRule {
    /// A postback or quick reply with exactly this payload.
    Postback {
        /// The payload.
        payload: String,
    },
    /// A message whose text matches this keyword.
    Keyword {
        /// The keyword, as entered.
        keyword: String,
        /// How it is compared.
        matching: KeywordMatch,
    },
    /// An opt-in to this topic.
    TopicOptIn {
        /// The topic.
        topic_id: TopicId,
    },
}

impl TriggerRule {
    /// Stored spelling of the rule's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            TriggerRule::Postback { .. } => "postback",
            TriggerRule::Keyword { .. } => "keyword",
            TriggerRule::TopicOptIn { .. } => "topic_opt_in",
        }
    }

    /// What the rule compares against, normalised: two rules with the same kind, page and
    /// pattern are the same rule.
    pub fn pattern(&self) -> String {
        match self {
            TriggerRule::Postback { payload } => payload.clone(),
            TriggerRule::Keyword { keyword, matching } => {
                format!("{}:{}", matching.as_str(), keyword.to_lowercase())
            }
            TriggerRule::TopicOptIn { topic_id } => topic_id.to_string(),
        }
    }

    /// Checks a rule as a client entered it (ids are checked by the service).
    pub fn checked(self) -> DomainResult<TriggerRule> {
        Ok(match self {
            TriggerRule::Postback { payload } => TriggerRule::Postback {
                payload: crate::text::single_line(
                    &payload,
                    "rule.postback.payload",
                    crate::flows::step::MAX_PAYLOAD_CHARS,
                )?,
            },
            TriggerRule::Keyword { keyword, matching } => TriggerRule::Keyword {
                keyword: crate::text::single_line(&keyword, "rule.keyword.keyword", 100)?,
                matching,
            },
            rule @ TriggerRule::TopicOptIn { .. } => rule,
        })
    }
}

/// A rule starting a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowTrigger {
    /// Its id.
    pub id: FlowTriggerId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The flow it starts.
    pub flow_id: FlowId,
    /// Only events of this page, or of every page.
    pub page_id: Option<PageId>,
    /// What it reacts to.
    pub rule: TriggerRule,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What a webhook event offers the trigger rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerSignal {
    /// A postback's or quick reply's payload.
    pub payload: Option<String>,
    /// A message's text.
    pub text: Option<String>,
    /// The topic of an opt-in.
    pub opted_in_topic: Option<TopicId>,
}

/// The rule an event starts a run for: postback rules, then keyword rules, then topic
/// opt-in rules; among rules of one kind, the oldest. `triggers` must be oldest first.
pub fn matching_trigger<'a>(
    triggers: &'a [FlowTrigger],
    page_id: PageId,
    signal: &TriggerSignal,
) -> Option<&'a FlowTrigger> {
    let on_page = |t: &&FlowTrigger| t.page_id.is_none_or(|p| p == page_id);
    let text = signal.text.as_deref().map(|t| t.trim().to_lowercase());
    let by_payload = signal.payload.as_deref().and_then(|payload| {
        triggers
            .iter()
            .filter(on_page)
            .find(|t| matches!(&t.rule, TriggerRule::Postback { payload: p } if p == payload))
    });
    let by_keyword = || {
        let text = text.as_deref()?;
        triggers.iter().filter(on_page).find(|t| match &t.rule {
            TriggerRule::Keyword { keyword, matching } => {
                let keyword = keyword.to_lowercase();
                match matching {
                    KeywordMatch::Exact => text == keyword,
                    KeywordMatch::Contains => text.contains(&keyword),
                }
            }
            _ => false,
        })
    };
    let by_topic = || {
        let topic = signal.opted_in_topic?;
        triggers
            .iter()
            .filter(on_page)
            .find(|t| matches!(&t.rule, TriggerRule::TopicOptIn { topic_id } if *topic_id == topic))
    };
    by_payload.or_else(by_keyword).or_else(by_topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(page_id: Option<PageId>, rule: TriggerRule) -> FlowTrigger {
        FlowTrigger {
            id: FlowTriggerId::generate(),
            tenant_id: TenantId::generate(),
            flow_id: FlowId::generate(),
            page_id,
            rule,
            created_at: Utc::now(),
        }
    }

    fn keyword(word: &str, matching: KeywordMatch) -> TriggerRule {
        TriggerRule::Keyword {
            keyword: word.into(),
            matching,
        }
    }

    #[test]
    fn keywords_match_exactly_or_by_containment_ignoring_case() {
        let page = PageId::generate();
        let exact = [trigger(None, keyword("Price", KeywordMatch::Exact))];
        let said = |text: &str| TriggerSignal {
            text: Some(text.into()),
            ..TriggerSignal::default()
        };
        assert!(matching_trigger(&exact, page, &said("  PRICE ")).is_some());
        assert!(matching_trigger(&exact, page, &said("price please")).is_none());
        let contains = [trigger(None, keyword("price", KeywordMatch::Contains))];
        assert!(matching_trigger(&contains, page, &said("What's the PRICE?")).is_some());
        assert!(matching_trigger(&contains, page, &said("cost")).is_none());
    }

    #[test]
    fn postbacks_win_over_keywords_and_the_oldest_rule_wins() {
        let page = PageId::generate();
        let rules = [
            trigger(None, keyword("go", KeywordMatch::Exact)),
            trigger(
                None,
                TriggerRule::Postback {
                    payload: "go".into(),
                },
            ),
            trigger(
                None,
                TriggerRule::Postback {
                    payload: "go".into(),
                },
            ),
        ];
        let signal = TriggerSignal {
            payload: Some("go".into()),
            text: Some("go".into()),
            opted_in_topic: None,
        };
        assert_eq!(
            matching_trigger(&rules, page, &signal).map(|t| t.id),
            Some(rules[1].id)
        );
    }

    #[test]
    fn payloads_match_exactly_and_rules_keep_to_their_page() {
        let page = PageId::generate();
        let other = PageId::generate();
        let rules = [trigger(
            Some(other),
            TriggerRule::Postback {
                payload: "GET_STARTED".into(),
            },
        )];
        let signal = TriggerSignal {
            payload: Some("GET_STARTED".into()),
            ..TriggerSignal::default()
        };
        assert!(matching_trigger(&rules, page, &signal).is_none());
        assert!(matching_trigger(&rules, other, &signal).is_some());
        let lower = TriggerSignal {
            payload: Some("get_started".into()),
            ..TriggerSignal::default()
        };
        assert!(matching_trigger(&rules, other, &lower).is_none());
    }
}
