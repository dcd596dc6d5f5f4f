//! End-to-end tests of the dashboard API (issue #6): short links and click counting (people
//! apart from robots and prefetchers), funnel reports per ref link and per page checked against
//! the traffic generated and against direct counts of the raw rows, topic and flow reports,
//! the validation of report arguments and of the tenant's time zone, and the statement count
//! of a subscriber list (no N+1). One binary with a module per theme, so that the application
//! is linked once.

mod flow_report;
mod funnel;
mod n_plus_one;
mod short_links;
mod support;
mod topic_report;
mod validation;

/// The webhook suite's steps (connecting a tenant, signing deliveries, polling), shared as is.
#[allow(dead_code)]
#[path = "../webhooks/support.rs"]
mod hooks;

/// The flow suite's steps (a recording Graph API, flows, runs, outbound messages), shared as is.
#[allow(dead_code, unused_imports)]
#[path = "../flows/support.rs"]
mod flows;
