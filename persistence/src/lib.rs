//! sea-orm adapters for the domain's repository ports, on SQLite and PostgreSQL alike.
//!
//! Tenant scoping lives here twice over: every tenant-owned query filters by the tenant it is
//! given, and on PostgreSQL each such query runs in a transaction that declares its tenant to
//! the database's row-level security (see [`scope`]).

mod analytics;
mod audience;
pub(crate) mod catalogue;
mod claims;
mod entities;
mod error;
mod flows;
mod id_list;
mod identity;
mod loopback_tls;
mod pagination;
mod pg_transaction;
mod privacy;
mod read_session;
mod scope;
mod store;
mod webhooks;

pub use read_session::ReadSession;
pub use store::{Backend, ConnectSettings, Store};
