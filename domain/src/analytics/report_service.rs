//! Reports for dashboards, by day in the tenant's time zone: the funnel of a link or page
//! (clicks, entries, new and returning subscribers), a topic's opt-ins, a flow's runs and
//! messages. Every figure is a count of stored records, so the numbers agree with the rows.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::analytics::period::{Period, time_zone};
use crate::analytics::ports::{AnalyticsRepository, FlowActivity, FunnelScope, TopicActivity};
use crate::catalogue::{PageRepository, RefLinkRepository, TopicRepository};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::flows::FlowRepository;
use crate::identity::{Principal, Role, TenantRepository};
use crate::ids::{FlowId, TenantId, TopicId};

/// A link's or page's funnel on one day, or over the whole period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FunnelCounts {
    /// Clicks by people on the short links.
    pub clicks: u64,
    /// Clicks by robots and prefetchers.
    pub automated_clicks: u64,
    /// Entries into the conversation through the links.
    pub entries: u64,
    /// Subscribers the entries brought in.
    pub new_subscribers: u64,
    /// Known subscribers who came back through the links (each counted once).
    pub returning_subscribers: u64,
}

impl FunnelCounts {
    /// Entries per click by a person; none without clicks.
    pub fn conversion(&self) -> Option<f64> {
        (self.clicks > 0).then(|| self.entries as f64 / self.clicks as f64)
    }
}

/// A topic's opt-ins on one day, or over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TopicCounts {
    /// Opt-ins (renewals included).
    pub opt_ins: u64,
    /// Opt-outs.
    pub opt_outs: u64,
}

/// A flow's runs and messages on one day, or over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowCounts {
    /// Runs started.
    pub runs_started: u64,
    /// Runs completed.
    pub runs_completed: u64,
    /// Runs failed.
    pub runs_failed: u64,
    /// Messages sent.
    pub messages_sent: u64,
    /// Messages not sent.
    pub messages_failed: u64,
}

/// Counts over a period and for each of its days.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<C> {
    /// The time zone the days are in.
    pub time_zone: Tz,
    /// The whole period.
    pub totals: C,
    /// Each day, in order (days without activity included).
    pub days: Vec<(NaiveDate, C)>,
}

/// A topic's report, with how many tokens may be used now.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicReport {
    /// Opt-ins and opt-outs.
    pub report: Report<TopicCounts>,
    /// Active, unexpired opt-ins now.
    pub active_tokens: u64,
}

/// What a report asks for.
#[derive(Debug, Clone, Copy)]
pub struct ReportRequest<'a> {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// A time zone other than the tenant's.
    pub time_zone: Option<&'a str>,
}

/// Everything reports read.
pub struct ReportPorts {
    /// The records counted.
    pub analytics: Arc<dyn AnalyticsRepository>,
    /// Tenants (their time zone).
    pub tenants: Arc<dyn TenantRepository>,
    /// Links.
    pub links: Arc<dyn RefLinkRepository>,
    /// Pages.
    pub pages: Arc<dyn PageRepository>,
    /// Topics.
    pub topics: Arc<dyn TopicRepository>,
    /// Flows.
    pub flows: Arc<dyn FlowRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The report use cases (every member may read them).
pub struct ReportService {
    ports: ReportPorts,
}

fn empty_days<C: Default>(period: &Period) -> Vec<(NaiveDate, C)> {
    period
        .days()
        .into_iter()
        .map(|d| (d, C::default()))
        .collect()
}

impl ReportService {
    /// Builds the service.
    pub fn new(ports: ReportPorts) -> Self {
        Self { ports }
    }

    /// The funnel of one link or of every link of a page.
    pub async fn funnel(
        &self,
        principal: &Principal,
        scope: FunnelScope,
        request: ReportRequest<'_>,
    ) -> DomainResult<Report<FunnelCounts>> {
        let access = principal.require_role(Role::Viewer)?;
        let tenant_id = access.tenant_id;
        match scope {
            FunnelScope::RefLink(id) => {
                self.ports
                    .links
                    .find(tenant_id, id)
                    .await?
                    .ok_or_else(|| DomainError::not_found_in("ref link", "refLinkId"))?;
            }
            FunnelScope::Page(id) => {
                self.ports
                    .pages
                    .find(tenant_id, id)
                    .await?
                    .ok_or_else(|| DomainError::not_found_in("page", "pageId"))?;
            }
        }
        let period = self.period(tenant_id, request).await?;
        let (start, end) = (period.start(), period.end());
        let clicks = self
            .ports
            .analytics
            .clicks(tenant_id, scope, start, end)
            .await?;
        let entries = self
            .ports
            .analytics
            .entries(tenant_id, scope, start, end)
            .await?;

        let mut totals = FunnelCounts::default();
        let mut days: Vec<(NaiveDate, FunnelCounts)> = empty_days(&period);
        for (at, automated) in clicks {
            let Some(day) = period.day_index(at) else {
                continue;
            };
            let counts = &mut days[day].1;
            if automated {
                counts.automated_clicks += 1;
                totals.automated_clicks += 1;
            } else {
                counts.clicks += 1;
                totals.clicks += 1;
            }
        }
        let mut returning_in_period = HashSet::new();
        let mut returning_by_day: Vec<BTreeSet<_>> = vec![BTreeSet::new(); days.len()];
        for entry in entries {
            let Some(day) = period.day_index(entry.at) else {
                continue;
            };
            days[day].1.entries += 1;
            totals.entries += 1;
            if entry.new_subscriber {
                days[day].1.new_subscribers += 1;
                totals.new_subscribers += 1;
            } else {
                returning_by_day[day].insert(entry.subscriber_id);
                returning_in_period.insert(entry.subscriber_id);
            }
        }
        for (day, returning) in days.iter_mut().zip(returning_by_day) {
            day.1.returning_subscribers = returning.len() as u64;
        }
        totals.returning_subscribers = returning_in_period.len() as u64;
        Ok(Report {
            time_zone: period.zone,
            totals,
            days,
        })
    }

    /// A topic's opt-ins and opt-outs, and its usable tokens now.
    pub async fn topic(
        &self,
        principal: &Principal,
        topic_id: TopicId,
        request: ReportRequest<'_>,
    ) -> DomainResult<TopicReport> {
        let access = principal.require_role(Role::Viewer)?;
        let tenant_id = access.tenant_id;
        self.ports
            .topics
            .find(tenant_id, topic_id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("notification topic", "topicId"))?;
        let period = self.period(tenant_id, request).await?;
        let activity = self
            .ports
            .analytics
            .topic_activity(tenant_id, topic_id, period.start(), period.end())
            .await?;
        let mut totals = TopicCounts::default();
        let mut days: Vec<(NaiveDate, TopicCounts)> = empty_days(&period);
        for (at, what) in activity {
            let Some(day) = period.day_index(at) else {
                continue;
            };
            for counts in [&mut days[day].1, &mut totals] {
                match what {
                    TopicActivity::OptIn => counts.opt_ins += 1,
                    TopicActivity::OptOut => counts.opt_outs += 1,
                }
            }
        }
        let active_tokens = self
            .ports
            .analytics
            .active_tokens(tenant_id, topic_id, self.ports.clock.now())
            .await?;
        Ok(TopicReport {
            report: Report {
                time_zone: period.zone,
                totals,
                days,
            },
            active_tokens,
        })
    }

    /// A flow's runs and messages.
    pub async fn flow(
        &self,
        principal: &Principal,
        flow_id: FlowId,
        request: ReportRequest<'_>,
    ) -> DomainResult<Report<FlowCounts>> {
        let access = principal.require_role(Role::Viewer)?;
        let tenant_id = access.tenant_id;
        self.ports
            .flows
            .find(tenant_id, flow_id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("flow", "flowId"))?;
        let period = self.period(tenant_id, request).await?;
        let activity = self
            .ports
            .analytics
            .flow_activity(tenant_id, flow_id, period.start(), period.end())
            .await?;
        let mut totals = FlowCounts::default();
        let mut days: Vec<(NaiveDate, FlowCounts)> = empty_days(&period);
        for (at, what) in activity {
            let Some(day) = period.day_index(at) else {
                continue;
            };
            for counts in [&mut days[day].1, &mut totals] {
                match what {
                    FlowActivity::RunStarted => counts.runs_started += 1,
                    FlowActivity::RunCompleted => counts.runs_completed += 1,
                    FlowActivity::RunFailed => counts.runs_failed += 1,
                    FlowActivity::MessageSent => counts.messages_sent += 1,
                    FlowActivity::MessageFailed => counts.messages_failed += 1,
                }
            }
        }
        Ok(Report {
            time_zone: period.zone,
            totals,
            days,
        })
    }

    async fn period(
        &self,
        tenant_id: TenantId,
        request: ReportRequest<'_>,
    ) -> DomainResult<Period> {
        let zone = match request.time_zone {
            Some(name) => time_zone(name, "timeZone")?,
            None => {
                let tenant = self
                    .ports
                    .tenants
                    .find(tenant_id)
                    .await?
                    .ok_or_else(|| DomainError::not_found("tenant"))?;
                time_zone(&tenant.time_zone, "timeZone")?
            }
        };
        Period::new(request.from, request.to, zone)
    }
}
