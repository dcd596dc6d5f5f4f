//! People's privacy rights as Meta delivers them: the data-deletion and deauthorize callbacks
//! (`signed_request`), the requests they record, and the erasure they lead to.

mod data_deletion_service;
mod deletion_request;
mod ports;
mod signed_request;

pub use data_deletion_service::{DataDeletionPorts, DataDeletionService, MAX_MATCHING_ATTEMPTS};
pub use deletion_request::{
    DeletionKind, DeletionReceipt, DeletionRequest, DeletionStatus, DeletionStatusView,
};
pub use ports::{DeletionRequestRepository, PageScopedId, PageScopedIds, SubscriberIdentities};
pub use signed_request::{SIGNED_REQUEST_FIELD, SignedRequest, SignedRequestMac};
