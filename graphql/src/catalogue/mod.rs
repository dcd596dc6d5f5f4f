//! The Messenger catalogue: app connection, pages, custom fields, tags, ref links and
//! notification topics.

mod inputs;
mod mutation;
mod query;
pub(crate) mod types;

pub(crate) use mutation::CatalogueMutation;
pub(crate) use query::CatalogueQuery;
