//! Cursor pagination rules (Relay connections): how a page is asked for, bounded and
//! described. Cursors are opaque to clients; inside they carry a row's sort key.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: u64 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `first` / `after`: ascending from the start or from a cursor.
    Forward,
    /// `last` / `before`: the page that ends at the end or just before a cursor.
    Backward,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub direction: Direction,
    pub size: u64,
    pub after: Option<i64>,
    pub before: Option<i64>,
    /// Whether the client asked for the rows (edges, nodes or page info). When only
    /// `totalCount` is selected no row is read.
    pub want_rows: bool,
    /// Whether the client asked for `totalCount`; when not, nothing is counted.
    pub want_count: bool,
}

impl PageRequest {
    /// Validates Relay arguments against the page-size cap.
    pub fn new(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
        max_page_size: u64,
    ) -> AppResult<Self> {
        if first.is_some() && last.is_some() {
            return Err(AppError::bad_input(
                "last",
                "first 与 last 不能同时使用 (use either first or last, not both)",
            ));
        }
        let check = |field: &str, n: i32| -> AppResult<u64> {
            if n < 0 {
                return Err(AppError::bad_input(
                    field,
                    format!("{field} 不能为负数 (must not be negative)"),
                ));
            }
            let n = n as u64;
            if n > max_page_size {
                return Err(AppError::bad_input(
                    field,
                    format!("每页最多 {max_page_size} 条 ({field} may be at most {max_page_size})"),
                ));
            }
            Ok(n)
        };
        let after = after.map(|c| decode_cursor("after", c)).transpose()?;
        let before = before.map(|c| decode_cursor("before", c)).transpose()?;
        let (direction, size) = match (first, last) {
            (_, Some(n)) => (Direction::Backward, check("last", n)?),
            (Some(n), None) => (Direction::Forward, check("first", n)?),
            (None, None) if before.is_some() && after.is_none() => {
                (Direction::Backward, DEFAULT_PAGE_SIZE.min(max_page_size))
            }
            (None, None) => (Direction::Forward, DEFAULT_PAGE_SIZE.min(max_page_size)),
        };
        Ok(PageRequest {
            direction,
            size,
            after,
            before,
            want_rows: true,
            want_count: true,
        })
    }

    /// The same page, reading only what the selection asks for.
    pub fn wanting(self, rows: bool, count: bool) -> Self {
        PageRequest {
            want_rows: rows,
            want_count: count,
            ..self
        }
    }

    pub fn first(size: u64) -> Self {
        PageRequest {
            direction: Direction::Forward,
            size,
            after: None,
            before: None,
            want_rows: true,
            want_count: true,
        }
    }
}

/// One page of rows, each with its sort key, plus what a Relay `PageInfo` needs.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(i64, T)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(k, t)| (k, f(t))).collect(),
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }

    /// Pages an in-memory list that is already sorted by key ascending (used for
    /// relations a DataLoader fetched in one batch).
    pub fn from_sorted(all: Vec<(i64, T)>, request: &PageRequest) -> Page<T> {
        let total_count = all.len() as u64;
        let in_window: Vec<(i64, T)> = all
            .into_iter()
            .filter(|(k, _)| request.after.is_none_or(|a| *k > a))
            .filter(|(k, _)| request.before.is_none_or(|b| *k < b))
            .collect();
        let size = request.size as usize;
        let more = in_window.len() > size;
        let items: Vec<(i64, T)> = match request.direction {
            Direction::Forward => in_window.into_iter().take(size).collect(),
            Direction::Backward => {
                let skip = in_window.len().saturating_sub(size);
                in_window.into_iter().skip(skip).collect()
            }
        };
        let (has_previous_page, has_next_page) = match request.direction {
            Direction::Forward => (request.after.is_some(), more),
            Direction::Backward => (more, request.before.is_some()),
        };
        Page {
            items,
            has_previous_page,
            has_next_page,
            total_count,
        }
    }
}

const CURSOR_PREFIX: &str = "k:";

pub fn encode_cursor(key: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

pub fn decode_cursor(field: &str, cursor: &str) -> AppResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix(CURSOR_PREFIX)
                .and_then(|k| k.parse().ok())
        })
        .ok_or_else(|| {
            AppError::bad_input(field, format!("无效的游标 (invalid cursor in {field})"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        assert_eq!(decode_cursor("after", &encode_cursor(42)), Ok(42));
        assert!(decode_cursor("after", "not a cursor").is_err());
        assert!(decode_cursor("after", &URL_SAFE_NO_PAD.encode("Station:1")).is_err());
    }

    #[test]
    fn page_size_is_capped_and_non_negative() {
        assert!(PageRequest::new(Some(101), None, None, None, 100).is_err());
        assert!(PageRequest::new(None, None, Some(101), None, 100).is_err());
        assert!(PageRequest::new(Some(-1), None, None, None, 100).is_err());
        assert!(PageRequest::new(Some(1), None, Some(1), None, 100).is_err());
        let ok = PageRequest::new(Some(100), None, None, None, 100).expect("at the cap");
        assert_eq!(ok.size, 100);
        let default = PageRequest::new(None, None, None, None, 100).expect("default");
        assert_eq!(
            (default.direction, default.size),
            (Direction::Forward, DEFAULT_PAGE_SIZE)
        );
    }

    #[test]
    fn in_memory_pages_walk_both_ways() {
        let all: Vec<(i64, i64)> = (1..=5).map(|k| (k, k * 10)).collect();
        let first = Page::from_sorted(all.clone(), &PageRequest::first(2));
        assert_eq!(
            first.items.iter().map(|i| i.0).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(first.has_next_page && !first.has_previous_page);
        let after =
            PageRequest::new(Some(2), Some(&encode_cursor(2)), None, None, 10).expect("req");
        let second = Page::from_sorted(all.clone(), &after);
        assert_eq!(
            second.items.iter().map(|i| i.0).collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert!(second.has_next_page && second.has_previous_page);
        let back = PageRequest::new(None, None, Some(2), Some(&encode_cursor(5)), 10).expect("req");
        let last = Page::from_sorted(all, &back);
        assert_eq!(
            last.items.iter().map(|i| i.0).collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert!(last.has_previous_page && last.has_next_page);
        assert_eq!(last.total_count, 5);
    }
}
