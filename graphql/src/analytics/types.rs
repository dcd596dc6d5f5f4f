//! Report output types: totals over a period and one entry per day.

use async_graphql::SimpleObject;
use chrono::NaiveDate;
use refhub_domain::analytics::{self as domain, Report};

fn count(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A funnel's counts over a period or on one day.
#[derive(SimpleObject)]
pub(crate) struct FunnelCounts {
    /// Clicks by people on the short URLs.
    pub clicks: i32,
    /// Clicks by robots, link previews and prefetchers (not in `clicks`).
    pub automated_clicks: i32,
    /// Entries into the conversation through the links (every `referral`, Get Started with a
    /// ref, and so on, matched to a link).
    pub entries: i32,
    /// Subscribers the entries brought in.
    pub new_subscribers: i32,
    /// Known subscribers who came back through the links (each counted once).
    pub returning_subscribers: i32,
    /// `entries / clicks`; null without clicks.
    pub conversion: Option<f64>,
}

impl From<domain::FunnelCounts> for FunnelCounts {
    fn from(c: domain::FunnelCounts) -> Self {
        Self {
            clicks: count(c.clicks),
            automated_clicks: count(c.automated_clicks),
            entries: count(c.entries),
            new_subscribers: count(c.new_subscribers),
            returning_subscribers: count(c.returning_subscribers),
            conversion: c.conversion(),
        }
    }
}

/// A funnel's counts on one day.
#[derive(SimpleObject)]
pub(crate) struct FunnelDay {
    /// The day, in the report's time zone.
    pub date: NaiveDate,
    /// Its counts.
    pub counts: FunnelCounts,
}

/// The funnel of a ref link or a page: clicks on short URLs, entries, new and returning
/// subscribers.
#[derive(SimpleObject)]
pub(crate) struct FunnelReport {
    /// The time zone the days are counted in.
    pub time_zone: String,
    /// The whole period.
    pub totals: FunnelCounts,
    /// Every day of the period, in order (days without activity included).
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::REPORT_DAYS, child_complexity)"
    )]
    pub days: Vec<FunnelDay>,
}

impl From<Report<domain::FunnelCounts>> for FunnelReport {
    fn from(report: Report<domain::FunnelCounts>) -> Self {
        Self {
            time_zone: report.time_zone.name().to_owned(),
            totals: report.totals.into(),
            days: report
                .days
                .into_iter()
                .map(|(date, counts)| FunnelDay {
                    date,
                    counts: counts.into(),
                })
                .collect(),
        }
    }
}

/// A topic's counts over a period or on one day.
#[derive(SimpleObject)]
pub(crate) struct TopicCounts {
    /// Opt-ins (renewals included).
    pub opt_ins: i32,
    /// Opt-outs.
    pub opt_outs: i32,
}

impl From<domain::TopicCounts> for TopicCounts {
    fn from(c: domain::TopicCounts) -> Self {
        Self {
            opt_ins: count(c.opt_ins),
            opt_outs: count(c.opt_outs),
        }
    }
}

/// A topic's counts on one day.
#[derive(SimpleObject)]
pub(crate) struct TopicDay {
    /// The day, in the report's time zone.
    pub date: NaiveDate,
    /// Its counts.
    pub counts: TopicCounts,
}

/// A notification topic's opt-ins and opt-outs, and its usable tokens now.
#[derive(SimpleObject)]
pub(crate) struct TopicReport {
    /// The time zone the days are counted in.
    pub time_zone: String,
    /// Opt-ins whose token may be used now (active and unexpired).
    pub active_tokens: i32,
    /// The whole period.
    pub totals: TopicCounts,
    /// Every day of the period, in order.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::REPORT_DAYS, child_complexity)"
    )]
    pub days: Vec<TopicDay>,
}

impl From<domain::TopicReport> for TopicReport {
    fn from(r: domain::TopicReport) -> Self {
        Self {
            time_zone: r.report.time_zone.name().to_owned(),
            active_tokens: count(r.active_tokens),
            totals: r.report.totals.into(),
            days: r
                .report
                .days
                .into_iter()
                .map(|(date, counts)| TopicDay {
                    date,
                    counts: counts.into(),
                })
                .collect(),
        }
    }
}

/// A flow's counts over a period or on one day.
#[derive(SimpleObject)]
pub(crate) struct FlowCounts {
    /// Runs started.
    pub runs_started: i32,
    /// Runs that completed.
    pub runs_completed: i32,
    /// Runs that failed.
    pub runs_failed: i32,
    /// Messages Meta accepted.
    pub messages_sent: i32,
    /// Messages not sent (refused, given up, or outside the 24-hour window).
    pub messages_failed: i32,
}

impl From<domain::FlowCounts> for FlowCounts {
    fn from(c: domain::FlowCounts) -> Self {
        Self {
            runs_started: count(c.runs_started),
            runs_completed: count(c.runs_completed),
            runs_failed: count(c.runs_failed),
            messages_sent: count(c.messages_sent),
            messages_failed: count(c.messages_failed),
        }
    }
}

/// A flow's counts on one day.
#[derive(SimpleObject)]
pub(crate) struct FlowDay {
    /// The day, in the report's time zone.
    pub date: NaiveDate,
    /// Its counts.
    pub counts: FlowCounts,
}

/// A flow's runs and messages.
#[derive(SimpleObject)]
pub(crate) struct FlowReport {
    /// The time zone the days are counted in.
    pub time_zone: String,
    /// The whole period.
    pub totals: FlowCounts,
    /// Every day of the period, in order.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::REPORT_DAYS, child_complexity)"
    )]
    pub days: Vec<FlowDay>,
}

impl From<Report<domain::FlowCounts>> for FlowReport {
    fn from(report: Report<domain::FlowCounts>) -> Self {
        Self {
            time_zone: report.time_zone.name().to_owned(),
            totals: report.totals.into(),
            days: report
                .days
                .into_iter()
                .map(|(date, counts)| FlowDay {
                    date,
                    counts: counts.into(),
                })
                .collect(),
        }
    }
}
