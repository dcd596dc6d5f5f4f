//! What makes the API pleasant to build a dashboard on: short links that count clicks, and
//! reports by day in the tenant's time zone.

mod clicks;
mod period;
mod ports;
mod report_service;
mod short_code;
mod short_link_service;

pub use clicks::{Click, Requester};
pub use period::{MAX_REPORT_DAYS, Period, time_zone};
pub use ports::{
    AnalyticsRepository, ClickRecorder, ClickRepository, EntryRecord, FlowActivity, FunnelScope,
    ShortLinkRepository, ShortLinkTarget, TopicActivity,
};
pub use report_service::{
    FlowCounts, FunnelCounts, Report, ReportPorts, ReportRequest, ReportService, TopicCounts,
    TopicReport,
};
pub use short_code::{MAX_SHORT_CODE_CHARS, is_plausible_short_code, short_code_for, short_url};
pub use short_link_service::ShortLinkService;
