//! Background work: committing inbox writes in groups, and processing stored webhook events.

mod inbox_batcher;
mod webhook_worker;

pub use inbox_batcher::BatchingInbox;
pub use webhook_worker::{WorkerPool, WorkerSettings};
