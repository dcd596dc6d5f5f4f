//! Relay connections over the domain's keyset pages, with `totalCount` and opaque cursors.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{OutputType, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use refhub_domain::pagination::{Page, PageRequest};
use refhub_domain::{DomainError, DomainResult};
use uuid::Uuid;

/// A cursor: the id of an item, opaque to clients.
pub(crate) struct IdCursor(Uuid);

impl CursorType for IdCursor {
    type Error = DomainError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let invalid = || DomainError::validation("after", "is not a cursor from this list");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| invalid())?;
        Uuid::from_slice(&bytes)
            .map(IdCursor)
            .map_err(|_| invalid())
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }
}

/// The fields every connection adds to Relay's.
#[derive(SimpleObject)]
pub(crate) struct ConnectionTotals {
    /// How many items the whole list holds (all pages).
    pub total_count: i64,
}

/// A connection of `N` nodes.
pub(crate) type ListConnection<N> = Connection<IdCursor, N, ConnectionTotals>;

/// What a list field costs against the complexity limit: what one node asks for, times the
/// nodes it may return (`first`, default 20, at most 100), plus one for the list itself.
pub(crate) fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let nodes = usize::try_from(first.unwrap_or(20).clamp(0, 100)).unwrap_or(0);
    nodes.saturating_mul(child_complexity).saturating_add(1)
}

/// Reads `first` and `after` into a page request.
pub(crate) fn page_request(first: Option<i32>, after: Option<String>) -> DomainResult<PageRequest> {
    let after = after
        .as_deref()
        .map(IdCursor::decode_cursor)
        .transpose()?
        .map(|cursor| cursor.0);
    PageRequest::new(first, after)
}

/// Builds a connection from a page, given each item's id and node.
pub(crate) fn from_page<T, N: OutputType>(
    page: Page<T>,
    had_cursor: bool,
    id_of: impl Fn(&T) -> Uuid,
    mut node_of: impl FnMut(T) -> N,
) -> ListConnection<N> {
    let mut connection = Connection::with_additional_fields(
        had_cursor,
        page.has_next_page,
        ConnectionTotals {
            total_count: i64::try_from(page.total_count).unwrap_or(i64::MAX),
        },
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(IdCursor(id_of(&item)), node_of(item))),
    );
    connection
}
