//! How a subscription resolver hands its items to the transport.
//!
//! A resolver builds its *source* — the stream of items (events, statistics) its
//! subscriber may see — and then [`serve`]s it in one of three ways, depending on what
//! the execution carries in its context data:
//!
//! * [`Plan`]: `/graphql/ws` runs each operation once to plan it. The resolver checks
//!   its arguments and the actor, opens the source and leaves it in the plan; the
//!   GraphQL stream itself ends at once. The transport then holds only the source per
//!   subscriber (a few hundred bytes while idle, instead of a whole executing
//!   operation).
//! * [`Injected`]: for each item of the source the transport runs the operation again
//!   with the item injected; the resolver returns just that item, resolved with the
//!   operation's selection set. Subscribers of the same operation (same document,
//!   variables and account) share that resolution (see `http::ws::operation`).
//! * neither: the ordinary stream, for callers that execute subscriptions directly.
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::Context;
use futures_util::future::ready;
use futures_util::stream::{self, BoxStream};
use futures_util::StreamExt;

use crate::error::{AppError, AppResult};
use crate::events::LiveEvent;
use crate::service::statistics::live::Snapshot;

/// One item a subscription delivers.
#[derive(Clone, Debug)]
pub enum LiveItem {
    Event(Arc<LiveEvent>),
    Statistics(Arc<Snapshot>),
}

impl LiveItem {
    /// Tells the items of one operation apart: equal keys, same item.
    pub fn key(&self) -> u64 {
        match self {
            LiveItem::Event(event) => event.seq as u64,
            LiveItem::Statistics(snapshot) => snapshot.version,
        }
    }
}

/// The items a subscription's subscriber may see, in order; an error ends it.
pub type Source = BoxStream<'static, AppResult<LiveItem>>;

/// Context data of a planning run: the resolver leaves its source here.
#[derive(Clone, Default)]
pub struct Plan(Arc<Mutex<Vec<Source>>>);

impl Plan {
    fn put(&self, source: Source) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(source);
    }

    /// The source the run left, if it left exactly one.
    pub fn take(&self) -> Option<Source> {
        let mut sources = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if sources.len() == 1 {
            sources.pop()
        } else {
            sources.clear();
            None
        }
    }
}

/// Context data of a delivery run: the item to resolve.
#[derive(Clone)]
pub struct Injected(pub LiveItem);

/// Serves `open()`'s items as `T`s (`wrap` picks the items of this subscription's kind).
pub fn serve<T: Send + 'static>(
    ctx: &Context<'_>,
    open: impl FnOnce() -> AppResult<Source>,
    wrap: impl Fn(LiveItem) -> Option<T> + Send + 'static,
) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<T>>> {
    if let Some(Injected(item)) = ctx.data_opt::<Injected>() {
        let item = wrap(item.clone())
            .ok_or_else(|| AppError::internal("live item of another subscription"))?;
        return Ok(stream::once(ready(Ok(item))).boxed());
    }
    let source = open()?;
    if let Some(plan) = ctx.data_opt::<Plan>() {
        plan.put(source);
        return Ok(stream::empty().boxed());
    }
    Ok(source
        .filter_map(move |item| {
            ready(match item {
                Ok(item) => wrap(item).map(Ok),
                Err(e) => Some(Err(e.into_graphql())),
            })
        })
        .boxed())
}
