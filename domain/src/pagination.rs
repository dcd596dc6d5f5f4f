//! Keyset pagination shared by every list: `first` items after an opaque cursor.

use uuid::Uuid;

use crate::error::{DomainError, DomainResult};

/// The page size used when a client does not ask for one.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Which slice of a list to return: items strictly after `after`, at most `first` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The id of the last item already seen.
    pub after: Option<Uuid>,
    /// How many items to return.
    pub first: u32,
}

impl PageRequest {
    /// Checks a client's `first`: 0 to 100, default 20.
    pub fn new(first: Option<i32>, after: Option<Uuid>) -> DomainResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => n as u32,
            Some(_) => {
                return Err(DomainError::validation(
                    "first",
                    format!("must be between 0 and {MAX_PAGE_SIZE}"),
                ));
            }
        };
        Ok(Self { after, first })
    }

    /// The first page of the default size.
    pub fn first_page() -> Self {
        Self {
            after: None,
            first: DEFAULT_PAGE_SIZE,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Whether more items follow the last one.
    pub has_next_page: bool,
    /// How many items the whole list holds.
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Converts the items, keeping the page's shape.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}
