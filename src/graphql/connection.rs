//! Relay connections built from service pages.
use async_graphql::connection::EmptyFields;
use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{OutputType, SimpleObject};

use crate::domain::page::{decode_cursor, encode_cursor, Page};

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
