//! Which of a WebSocket connection's sources woke its task.
//!
//! A connection's one task waits on its socket, on its operations and on a few rare
//! signals (timers, shutdown, a change of the account's access). Polled all together on
//! every wake-up, as `tokio::select!` does, each delivery to a subscription also polled
//! the socket (locks and a readiness check down poem's I/O stack), re-registered the
//! shutdown signal on its notifier shared by every connection, and polled the timers:
//! with 40,000 subscribers that was some 6 % of the machine (`perf record -a`, see
//! BENCHMARKS.md). Here each source is polled with a waker of its own that marks it,
//! and a wait polls only the sources marked since the last one.
//!
//! Hand-written because the sources are borrowed parts of the connection (its socket,
//! its map of operations, its timers), which futures' `FuturesUnordered` or
//! `SelectAll` (the same idea, a waker per future) would have to own.
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use futures_util::task::AtomicWaker;

/// A source of a connection's wake-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The client's messages.
    Socket = 0,
    /// The connection's operations: subscription items, answers.
    Operations = 1,
    /// The init deadline or the token's expiry, the keep-alive tick, shutdown, a change
    /// of the account's access.
    Signals = 2,
}

const SOURCES: usize = 3;

impl Source {
    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of sources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks(u8);

impl Marks {
    pub const ALL: Marks = Marks((1 << SOURCES) - 1);

    pub fn has(self, source: Source) -> bool {
        self.0 & source.bit() != 0
    }

    pub fn with(self, source: Source) -> Marks {
        Marks(self.0 | source.bit())
    }

    pub fn without(self, source: Source) -> Marks {
        Marks(self.0 & !source.bit())
    }
}

struct Shared {
    marks: AtomicU8,
    task: AtomicWaker,
}

/// The waker a source is polled with: it marks the source, then wakes the task.
struct Marker {
    shared: Arc<Shared>,
    bit: u8,
}

impl Wake for Marker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.marks.fetch_or(self.bit, Ordering::AcqRel);
        self.shared.task.wake();
    }
}

/// One connection's wakers, one per [`Source`].
pub struct Wakes {
    shared: Arc<Shared>,
    wakers: [Waker; SOURCES],
}

impl Default for Wakes {
    fn default() -> Self {
        Self::new()
    }
}

impl Wakes {
    /// Every source marked: the first wait polls them all.
    pub fn new() -> Self {
        let shared = Arc::new(Shared {
            marks: AtomicU8::new(Marks::ALL.0),
            task: AtomicWaker::new(),
        });
        let waker = |source: Source| {
            Waker::from(Arc::new(Marker {
                shared: shared.clone(),
                bit: source.bit(),
            }))
        };
        let wakers = [
            waker(Source::Socket),
            waker(Source::Operations),
            waker(Source::Signals),
        ];
        Wakes { shared, wakers }
    }

    /// Starts a wait of `cx`'s task, which any source's waker wakes from now on: returns
    /// the sources marked since the last wait (to poll now), unmarked.
    pub fn begin(&self, cx: &Context<'_>) -> Marks {
        // Registered before the marks are taken: a source that wakes in between is
        // either in the marks taken or wakes the task again.
        self.shared.task.register(cx.waker());
        Marks(self.shared.marks.swap(0, Ordering::AcqRel))
    }

    /// The waker to poll `source` with.
    pub fn waker(&self, source: Source) -> &Waker {
        &self.wakers[source as usize]
    }

    /// Marks `marks` for the next wait, without waking the task: a source that just
    /// gave something (it may have more), or one the wait did not get to.
    pub fn mark(&self, marks: Marks) {
        self.shared.marks.fetch_or(marks.0, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wait_polls_the_sources_that_woke_and_only_those() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(count.clone());
        let cx = Context::from_waker(&task);
        let wakes = Wakes::new();
        assert_eq!(
            wakes.begin(&cx),
            Marks::ALL,
            "the first wait polls everything"
        );
        assert_eq!(wakes.begin(&cx), Marks::default(), "nothing woke since");

        wakes.waker(Source::Operations).wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task is woken");
        assert_eq!(wakes.begin(&cx), Marks::default().with(Source::Operations));

        // A source may keep a clone of its waker and wake by value.
        let kept = wakes.waker(Source::Signals).clone();
        kept.wake();
        wakes.waker(Source::Socket).wake_by_ref();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            2,
            "woken once: the task is due to run, and the second source is marked"
        );
        let marks = wakes.begin(&cx);
        assert!(marks.has(Source::Signals) && marks.has(Source::Socket));
        assert!(!marks.has(Source::Operations));

        wakes.mark(Marks::default().with(Source::Socket));
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "marking wakes nobody");
        assert_eq!(wakes.begin(&cx), Marks::default().with(Source::Socket));
    }

    #[test]
    fn marks_add_and_remove_sources() {
        let marks = Marks::default().with(Source::Socket).with(Source::Signals);
        assert!(marks.has(Source::Socket) && marks.has(Source::Signals));
        assert!(!marks.without(Source::Socket).has(Source::Socket));
        assert_eq!(Marks::ALL.without(Source::Operations), marks);
    }
}
