//! One subscriber's stream: replay from the outbox, then live, with no gap and no
//! duplicate.
//!
//! The subscriber registers with the hub *before* reading the backlog and learns the
//! hub's watermark at that instant: everything at or below it is in the outbox,
//! everything above it reaches the subscriber's queue. So it replays
//! `(after, watermark]` from the database, then takes live events, dropping any with a
//! sequence it has already passed. When its queue overflowed (a slow client), it
//! re-reads from the last sequence it passed up to the current watermark.
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use sea_orm::DatabaseConnection;

use super::event::LiveEvent;
use super::filter::Interest;
use super::hub::Hub;
use super::store;
use crate::error::{AppError, AppResult};

/// Attempts at one database read before the stream gives up with an error (the client
/// then resumes from its last cursor).
const READ_ATTEMPTS: u32 = 4;

async fn read_page(
    db: &DatabaseConnection,
    interest: &Interest,
    after: i64,
    upto: i64,
) -> AppResult<Vec<LiveEvent>> {
    let mut attempt = 0;
    loop {
        match store::range(db, after, upto, Some(&interest.filter), store::PAGE).await {
            Ok(rows) => return Ok(rows),
            Err(e) if attempt + 1 < READ_ATTEMPTS => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "live replay read failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 << (2 * attempt))).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "live replay read failed");
                return Err(AppError::internal(format!("live replay: {e}")));
            }
        }
    }
}

/// The events `interest` wants, from just after `after` (or from now when `None`).
pub fn subscribe(
    hub: Hub,
    db: DatabaseConnection,
    interest: Interest,
    after: Option<i64>,
) -> impl Stream<Item = AppResult<Arc<LiveEvent>>> + Send + 'static {
    async_stream::stream! {
        let interest = Arc::new(interest);
        let (mut subscription, watermark) = hub.register(interest.clone());
        // `passed`: every event at or below it has been delivered or was not wanted.
        let mut passed = after.unwrap_or(watermark);
        let mut upto = watermark;
        loop {
            // Replay `(passed, upto]` from the outbox, page by page.
            while passed < upto {
                // Boxed: the read's future is large and the stream idles far more
                // often than it replays.
                let rows = match Box::pin(read_page(&db, &interest, passed, upto)).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        yield Err(e);
                        return;
                    }
                };
                let last_page = (rows.len() as u64) < store::PAGE;
                for event in rows {
                    passed = event.seq;
                    if interest.wants(&event) {
                        yield Ok(Arc::new(event));
                    }
                }
                if last_page {
                    passed = upto;
                }
            }
            // Live, until the queue overflows (then replay what was dropped).
            loop {
                if subscription.take_lagged() {
                    upto = hub.watermark();
                    break;
                }
                match subscription.recv().await {
                    Some(event) if event.seq > passed => {
                        passed = event.seq;
                        yield Ok(event);
                    }
                    Some(_) => {}
                    None => return,
                }
            }
        }
    }
}
