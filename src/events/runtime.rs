//! The fan-out runtime: requests before deliveries.
//!
//! Live deliveries (every WebSocket connection's task: its subscriptions' queues,
//! shared payloads and frame writes), the outbox relay, the Redis subscription and the
//! reconciliation run on a tokio runtime of their own, with a bounded number of worker
//! threads (`LIVE_FANOUT_THREADS`) whose OS priority is lowered (`LIVE_FANOUT_NICE`).
//! Queries and mutations stay on the runtime that serves HTTP. When fan-out has more
//! work than the CPU it may take, the kernel runs the request threads first: requests
//! keep their latency and deliveries lag. A lagging subscriber loses nothing: its queue
//! is bounded, and once it overflows the subscriber re-reads what it missed from the
//! outbox (see `hub.rs` and `stream.rs`).
//!
//! The rule that keeps the priorities from inverting: nothing a request waits for may
//! live on the fan-out runtime. A socket belongs to the reactor of the runtime that
//! opened it, and a request whose database connection had been opened by a fan-out
//! task would wait for a low-priority thread to notice its reply. So the work of a
//! WebSocket connection that touches the request pool — session checks, running a
//! query or mutation, resolving a subscription's item — is sent to the request runtime
//! ([`FanoutRuntime::requests`]); fan-out tasks use only the live machinery's own pool
//! and their own Redis connections.
use std::future::Future;

use tokio::runtime::{Handle, Runtime};

/// The fan-out runtime, and the handle of the request runtime beside it. Shut down
/// (without waiting) when dropped.
pub struct FanoutRuntime {
    runtime: Option<Runtime>,
    requests: Handle,
    threads: usize,
}

impl FanoutRuntime {
    /// `threads` 0 is half the cores (at least 1); `nice` is added to the threads'
    /// nice value (Linux; elsewhere ignored). `requests` is the runtime that serves
    /// queries and mutations.
    pub fn new(threads: usize, nice: i32, requests: Handle) -> std::io::Result<Self> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            n => n,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("live-fanout")
            .enable_all()
            .on_thread_start(move || lower_priority(nice))
            .build()?;
        Ok(FanoutRuntime {
            runtime: Some(runtime),
            requests,
            threads,
        })
    }

    /// Where fan-out tasks are spawned.
    pub fn handle(&self) -> &Handle {
        match &self.runtime {
            Some(runtime) => runtime.handle(),
            None => &self.requests,
        }
    }

    /// The runtime that serves queries and mutations.
    pub fn requests(&self) -> &Handle {
        &self.requests
    }

    /// Worker threads of the fan-out runtime.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on the request runtime and waits for it; `None` if it was cancelled
    /// (the request runtime is shutting down) or panicked.
    pub async fn on_requests<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        self.requests.spawn(work).await.ok()
    }
}

impl Drop for FanoutRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // May run on one of its own threads (the last task holding the live
            // runtime ended): never block here.
            runtime.shutdown_background();
        }
    }
}

/// Lowers the calling thread's priority by `nice` (Linux: setpriority on the thread id,
/// which needs no privilege when it only lowers).
fn lower_priority(nice: i32) {
    if nice <= 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        let current = rustix::process::getpriority_process(Some(thread)).unwrap_or(0);
        if let Err(e) = rustix::process::setpriority_process(Some(thread), current + nice) {
            tracing::warn!(error = %e, "cannot lower the fan-out thread's priority");
        }
    }
}

/// The nice value of the calling thread (Linux), for tests and diagnostics.
pub fn current_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fanout_threads_run_at_lower_priority_and_requests_do_not() {
        let requests_nice = current_nice();
        let runtime = FanoutRuntime::new(1, 5, Handle::current()).expect("runtime");
        let (name, nice) = runtime
            .handle()
            .spawn(async {
                let name = std::thread::current().name().map(str::to_owned);
                (name, current_nice())
            })
            .await
            .expect("ran");
        assert_eq!(name.as_deref(), Some("live-fanout"));
        if let (Some(base), Some(nice)) = (requests_nice, nice) {
            assert_eq!(nice, (base + 5).min(19), "fan-out thread's nice value");
        }
        let back = runtime
            .on_requests(async { std::thread::current().name().map(str::to_owned) })
            .await
            .expect("ran");
        assert_ne!(back.as_deref(), Some("live-fanout"));
        assert_eq!(
            current_nice(),
            requests_nice,
            "the request thread is unchanged"
        );
    }
}
