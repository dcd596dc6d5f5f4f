//! Reports for dashboards and the workspace's time zone.

mod mutation;
mod query;
mod types;

pub(crate) use mutation::AnalyticsMutation;
pub(crate) use query::AnalyticsQuery;
