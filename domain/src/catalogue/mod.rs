//! What a tenant manages before a single subscriber arrives: the Messenger app connection,
//! pages, custom fields, tags, m.me ref links and recurring-notification topics.

mod custom_field;
mod custom_field_service;
mod facebook_login_service;
pub mod field_type;
mod links;
mod messenger_app;
mod messenger_app_service;
pub mod messenger_profile;
mod page;
mod page_connection;
mod page_service;
pub mod page_setup;
mod page_setup_ports;
mod page_setup_service;
mod ports;
mod qr_capacity;
mod ref_link;
mod ref_link_service;
pub mod ref_payload;
mod secrets;
mod tag;
mod tag_service;
mod token_health;
mod topic;
mod topic_service;
mod webhook_key_lookup;

pub use custom_field::{CustomField, CustomFieldChanges, NewCustomField};
pub use custom_field_service::CustomFieldService;
pub use facebook_login_service::{
    FacebookLoginService, FacebookPageChoice, MAX_PAGES_PER_CONNECTION,
};
pub use field_type::{FieldType, FieldValue, FieldValueError};
pub use links::{MAX_ENCODED_REF_CHARS, encode_query_value, mme_url, rn_url};
pub use messenger_app::{MessengerApp, WebhookKey};
pub use messenger_app_service::MessengerAppService;
pub use messenger_profile::MessengerProfileSettings;
pub use page::{Page, PageChanges, PageHandle, PageHealth, PageStatus};
pub use page_connection::{
    AppCredentials, MESSAGING_TASK, ManagedPage, PageConnectionGateway, TokenOwner, UserToken,
};
pub use page_service::{IfConnected, PageConnection, PageService, VerifiedPage};
pub use page_setup::{PageSetup, PageTeardown, SUBSCRIBED_FIELDS, SetupError, SetupStepState};
pub use page_setup_ports::{PageSetupGateway, PageSetupRepository, SetupRequest};
pub use page_setup_service::{PageSetupPorts, PageSetupService};
pub use ports::{
    CustomFieldRepository, GatewayError, INVALID_TOKEN_CODE, MessengerAppRepository,
    MessengerGateway, PageRepository, QrCodeRenderer, RefLinkRepository, SentMessage,
    TagRepository, TopicRegistrationRequest, TopicRepository,
};
pub use qr_capacity::QR_CODE_MAX_BYTES;
pub use ref_link::{RefLink, RefLinkChanges, RefLinkDraft};
pub use ref_link_service::{MAX_TAGS_PER_LINK, PayloadFieldValue, RefLinkService};
pub use ref_payload::{ParsedRef, PayloadPair, PayloadProblem, RefName, parse_ref, render_ref};
pub use secrets::{SealedSecret, SecretCipher, SecretPurpose};
pub use tag::{Tag, TagName};
pub use tag_service::TagService;
pub use token_health::{TokenCheck, TokenHealth, TokenInspector, TokenVerdict};
pub use topic::{Cadence, NotificationTopic, TopicChanges, TopicRegistration, TopicTitle};
pub use topic_service::TopicService;
pub use webhook_key_lookup::app_for_webhook_key;
pub(crate) use webhook_key_lookup::constant_time_eq;
