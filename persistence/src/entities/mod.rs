//! sea-orm entities, one per table, mirroring what `refhub-migration` creates. Kept apart from
//! the adapters so that the mapping to domain types is written once, in the adapters.

pub mod api_keys;
pub mod custom_fields;
pub mod data_deletion_requests;
pub mod flow_runs;
pub mod flow_triggers;
pub mod flows;
pub mod invitations;
pub mod link_clicks;
pub mod memberships;
pub mod messenger_apps;
pub mod notification_opt_ins;
pub mod notification_topics;
pub mod outbound_messages;
pub mod page_setups;
pub mod page_teardowns;
pub mod pages;
pub mod ref_link_tags;
pub mod ref_links;
pub mod refresh_tokens;
pub mod sessions;
pub mod subscriber_field_values;
pub mod subscriber_interactions;
pub mod subscriber_tags;
pub mod subscribers;
pub mod tags;
pub mod tenants;
pub mod users;
pub mod webhook_events;
