//! The refhub schema, as an ordered list of migrations. This crate is the only place the schema
//! is defined; `refhub migrate` and `refhub serve` apply it.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261121_000001_identity;
mod m20261121_000002_catalogue;
mod m20261121_000003_webhooks_and_audience;
mod m20261121_000004_flows;
mod m20261121_000005_inbox_claims;
mod m20261121_000006_dashboard;
mod m20261121_000007_write_path_foreign_keys;
mod m20261121_000008_plugin_identities;
mod m20261207_000010_invitations;
mod m20261207_000012_page_setup;
mod m20261207_000013_page_token_health;
mod m20261207_000014_subscriber_profiles;
mod m20261207_000016_data_deletion_requests;
mod schema_helpers;
mod tenant_isolation;

pub use tenant_isolation::APP_ROLE;

/// Applies the schema in order.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_identity::Migration),
            Box::new(m20261121_000002_catalogue::Migration),
            Box::new(m20261121_000003_webhooks_and_audience::Migration),
            Box::new(m20261121_000004_flows::Migration),
            Box::new(m20261121_000005_inbox_claims::Migration),
            Box::new(m20261121_000006_dashboard::Migration),
            Box::new(m20261121_000007_write_path_foreign_keys::Migration),
            Box::new(m20261121_000008_plugin_identities::Migration),
            Box::new(m20261207_000010_invitations::Migration),
            Box::new(m20261207_000012_page_setup::Migration),
            Box::new(m20261207_000016_data_deletion_requests::Migration),
            Box::new(m20261207_000013_page_token_health::Migration),
            Box::new(m20261207_000014_subscriber_profiles::Migration),
        ]
    }
}
