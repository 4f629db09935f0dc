//! Relay connections built from service pages.
use async_graphql::connection::EmptyFields;
use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{OutputType, SimpleObject};

use crate::domain::page::{decode_cursor, encode_cursor, Page, DEFAULT_PAGE_SIZE};

/// The most one field can add to a request's complexity. Anything above
/// [`super::MAX_COMPLEXITY`] is refused anyway; the ceiling keeps the arithmetic far
/// from `usize::MAX` so that async-graphql's own sums over siblings cannot overflow
/// either (an overflow panics in a debug build and wraps around in a release build).
pub const COMPLEXITY_CEILING: usize = u32::MAX as usize;
const _: () = assert!(COMPLEXITY_CEILING > super::MAX_COMPLEXITY);

/// The complexity of a list of `items` elements each costing `child_complexity`.
pub fn list_complexity(items: usize, child_complexity: usize) -> usize {
    items
        .saturating_mul(child_complexity)
        .min(COMPLEXITY_CEILING)
}

/// The complexity of a connection field: the page size asked for (`first` or `last`,
/// else the default page; at least 1) times its children's complexity. Out-of-range
/// sizes are refused by the resolver; here they only have to be counted safely.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .map_or(DEFAULT_PAGE_SIZE, |n| u64::try_from(n).unwrap_or(0))
        .max(1);
    list_complexity(
        usize::try_from(size).unwrap_or(usize::MAX),
        child_complexity,
    )
}

/// An opaque cursor holding a row's sort key.
pub struct KeyCursor(pub i64);

impl CursorType for KeyCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_cursor("cursor", s)
            .map(KeyCursor)
            .map_err(|e| e.public_message().to_owned())
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(self.0)
    }
}

#[derive(SimpleObject)]
pub struct ConnectionTotals {
    /// How many items match, across all pages.
    pub total_count: u64,
}

pub type Conn<T> = Connection<KeyCursor, T, ConnectionTotals, EmptyFields>;

pub fn to_connection<T, U: OutputType>(page: Page<T>, mut map: impl FnMut(T) -> U) -> Conn<U> {
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionTotals {
            total_count: page.total_count,
        },
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|(key, item)| Edge::new(KeyCursor(key), map(item))),
    );
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_complexity_counts_the_page_asked_for() {
        assert_eq!(page_complexity(Some(5), None, 3), 15);
        assert_eq!(page_complexity(None, Some(7), 2), 14);
        assert_eq!(page_complexity(None, None, 2), 40);
        // Negative or zero sizes (refused by the resolver) count as one item.
        assert_eq!(page_complexity(Some(-4777), None, 9), 9);
        assert_eq!(page_complexity(Some(0), None, 9), 9);
    }

    #[test]
    fn complexity_saturates_at_the_ceiling_instead_of_overflowing() {
        let mut complexity = 1;
        for _ in 0..8 {
            complexity = page_complexity(Some(i32::MAX), None, complexity);
        }
        assert_eq!(complexity, COMPLEXITY_CEILING);
        assert_eq!(list_complexity(usize::MAX, usize::MAX), COMPLEXITY_CEILING);
    }
}
