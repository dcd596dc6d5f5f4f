use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use refhub_domain::analytics::{FunnelScope, ReportRequest};

use super::types::{FlowReport, FunnelReport, TopicReport};
use crate::auth_context::{principal, services};
use crate::error::IntoGraphql;
use crate::ids::parse_id;

/// Dashboard reports.
#[derive(Default)]
pub(crate) struct AnalyticsQuery;

fn request(from: NaiveDate, to: NaiveDate, time_zone: Option<&str>) -> ReportRequest<'_> {
    ReportRequest {
        from,
        to,
        time_zone,
    }
}

/// Dashboard reports.
#[Object]
impl AnalyticsQuery {
    /// A ref link's funnel from `from` to `to` (both included, at most 366 days), by day in the
    /// workspace's time zone (or `timeZone`).
    async fn ref_link_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ref link.")] ref_link_id: ID,
        #[graphql(desc = "The first day, included.")] from: NaiveDate,
        #[graphql(desc = "The last day, included (at most 366 days after `from`).")] to: NaiveDate,
        #[graphql(desc = "An IANA time zone other than the workspace's.")] time_zone: Option<
            String,
        >,
    ) -> Result<FunnelReport> {
        let principal = principal(ctx).gql()?;
        let id = parse_id(&ref_link_id, "refLinkId").gql()?;
        services(ctx)
            .reports
            .funnel(
                principal,
                FunnelScope::RefLink(id),
                request(from, to, time_zone.as_deref()),
            )
            .await
            .map(FunnelReport::from)
            .gql()
    }

    /// The funnel of every ref link of a page together.
    async fn page_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The page.")] page_id: ID,
        #[graphql(desc = "The first day, included.")] from: NaiveDate,
        #[graphql(desc = "The last day, included (at most 366 days after `from`).")] to: NaiveDate,
        #[graphql(desc = "An IANA time zone other than the workspace's.")] time_zone: Option<
            String,
        >,
    ) -> Result<FunnelReport> {
        let principal = principal(ctx).gql()?;
        let id = parse_id(&page_id, "pageId").gql()?;
        services(ctx)
            .reports
            .funnel(
                principal,
                FunnelScope::Page(id),
                request(from, to, time_zone.as_deref()),
            )
            .await
            .map(FunnelReport::from)
            .gql()
    }

    /// A notification topic's opt-ins and opt-outs by day, and its usable tokens now.
    async fn topic_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic.")] topic_id: ID,
        #[graphql(desc = "The first day, included.")] from: NaiveDate,
        #[graphql(desc = "The last day, included (at most 366 days after `from`).")] to: NaiveDate,
        #[graphql(desc = "An IANA time zone other than the workspace's.")] time_zone: Option<
            String,
        >,
    ) -> Result<TopicReport> {
        let principal = principal(ctx).gql()?;
        let id = parse_id(&topic_id, "topicId").gql()?;
        services(ctx)
            .reports
            .topic(principal, id, request(from, to, time_zone.as_deref()))
            .await
            .map(TopicReport::from)
            .gql()
    }

    /// A flow's runs started, completed and failed, and its messages sent and not sent, by day.
    async fn flow_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The flow.")] flow_id: ID,
        #[graphql(desc = "The first day, included.")] from: NaiveDate,
        #[graphql(desc = "The last day, included (at most 366 days after `from`).")] to: NaiveDate,
        #[graphql(desc = "An IANA time zone other than the workspace's.")] time_zone: Option<
            String,
        >,
    ) -> Result<FlowReport> {
        let principal = principal(ctx).gql()?;
        let id = parse_id(&flow_id, "flowId").gql()?;
        services(ctx)
            .reports
            .flow(principal, id, request(from, to, time_zone.as_deref()))
            .await
            .map(FlowReport::from)
            .gql()
    }
}
