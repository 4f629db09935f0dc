//! What every area's use cases share: the audit log, idempotent creation, and the
//! scope checks of permissions. Not use cases of their own (but for the audit log's
//! reading, which admins reach through the accounts area).
pub mod audit;
pub mod idempotency;
pub mod scope;

use std::collections::HashMap;

/// Rows grouped by a key (a DataLoader batch answering many parents at once), in the
/// order they came.
pub fn group<T>(rows: impl IntoIterator<Item = (i64, T)>) -> HashMap<i64, Vec<T>> {
    let mut grouped: HashMap<i64, Vec<T>> = HashMap::new();
    for (key, row) in rows {
        grouped.entry(key).or_default().push(row);
    }
    grouped
}
