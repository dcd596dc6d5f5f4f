//! Short links, clicks and the records reports count.

mod clicks;
mod reports;
mod short_links;
