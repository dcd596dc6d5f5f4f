//! Subscribers: the people who talk to a tenant's pages, with their field values, tags and
//! notification opt-ins, as webhook events and people in the dashboard shape them.

mod details;
mod effects;
mod erasure;
mod ports;
mod profiles;
mod subscriber;
mod subscriber_service;
mod transfer;

pub use details::{DetailSelection, SubscriberDetails};
pub use effects::{
    AppliedEvent, Entry, EventEffects, Findings, Interaction, OptInChange, PluginLink,
    StatusChangeFound,
};
pub use erasure::{
    ErasureCounts, ErasureTarget, SubscriberEraser, SubscriberErasureService, is_redacted,
    redacted_item,
};
pub use ports::{AudienceStore, SubscriberFilter, SubscriberRepository};
pub use profiles::{
    FetchedProfile, MAX_PROFILE_ATTEMPTS, ProfileFetch, ProfileGateway, ProfilePorts, ProfileQueue,
    ProfileService,
};
pub use subscriber::{
    FieldValueRecord, InteractionRecord, MESSAGING_WINDOW_HOURS, OptIn, OptInStatus, ProfileStatus,
    Subscriber, SubscriberProfile,
};
pub use subscriber_service::SubscriberService;
pub use transfer::{
    CellProblem, ExportLayout, FIXED_COLUMNS, Import, ImportApplied, ImportLine, ImportReport,
    ImportRow, MAX_IMPORT_ROW_BYTES, MAX_IMPORT_ROWS, MAX_PROBLEMS_PER_ROW, RejectedRow,
    SubscriberTransferService, TAG_SEPARATOR, formula_guarded, strip_formula_guard,
};
