//! Background work: committing inbox writes in groups, processing stored webhook events,
//! moving flow runs forward, sending the outbox, and setting pages up with Meta.

mod click_batcher;
mod deletion_worker;
mod deliveries;
mod flow_workers;
mod host_cpu;
mod inbox_batcher;
mod page_setup_worker;
mod profile_fetcher;
mod step_aside;
mod token_check;
mod webhook_worker;

pub use click_batcher::ClickBatcher;
pub use deletion_worker::DeletionWorker;
pub use deliveries::Deliveries;
pub use flow_workers::{FlowWorkerSettings, FlowWorkers};
pub use inbox_batcher::BatchingInbox;
pub use page_setup_worker::PageSetupWorker;
pub use profile_fetcher::ProfileWorker;
pub use token_check::TokenCheckWorker;
pub use webhook_worker::{WorkerPool, WorkerSettings};
