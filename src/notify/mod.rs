//! Notifications (issue 15): the notifier that turns committed domain events into
//! notices, exactly once, and sends those that leave the platform. One task per
//! replica; every replica runs it, and the database decides which one derives an
//! event ([`derive`]: compare-and-set on the position) and which one sends a message
//! ([`send`]: a claimed lease per delivery). Who is told what is
//! `domain::notice`; what is read and marked read is `service::notifications`.
pub mod derive;
pub mod facts;
pub mod send;
pub mod sms;
pub mod wechat_api;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::notice::Channels;
use crate::events::{EventBus, Live};

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth another try later (network, the provider busy, a token problem that
    /// persisted).
    Transient(String),
    /// Never worth retrying (the follower unsubscribed, a wrong number, ...).
    Permanent(String),
}

/// Reads at most `limit` bytes of a provider's answer: a larger one is refused (a
/// provider's answers are small; a broken or hostile one cannot fill our memory).
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    who: &str,
) -> Result<Vec<u8>, SendError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(SendError::Transient(format!(
            "{who} answered more than {limit} bytes"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SendError::Transient(format!("{who} answered in part: {}", e.without_url())))?
    {
        if body.len() + chunk.len() > limit {
            return Err(SendError::Transient(format!(
                "{who} answered more than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What the notifier runs with.
pub struct Notifier {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub live: Live,
    /// The official account's API (template messages), shared with the WeChat
    /// callback's photo fetches so both use one token cache; `None` when off.
    pub wechat: Option<wechat_api::WechatApi>,
}

/// The running notifier: [`Running::stop`] lets the delivery in hand finish and be
/// recorded before the task ends (a stop never cuts a send between the provider's
/// answer and its record).
pub struct Running {
    stop: Stop,
    task: JoinHandle<()>,
}

/// Tells a running notifier to take no further delivery (see [`Running::stopper`]).
#[derive(Clone)]
pub struct Stop(Arc<watch::Sender<bool>>);

impl Stop {
    /// The notifier finishes and records the delivery in hand, and takes no other.
    pub fn signal(&self) {
        let _ = self.0.send(true);
    }
}

impl Running {
    /// A handle that signals the stop without waiting: given at the start of a
    /// shutdown, so that the notifier winds down while requests get their grace
    /// instead of sending on through it.
    pub fn stopper(&self) -> Stop {
        self.stop.clone()
    }

    /// Stops after the delivery in hand; waits at most `grace`, then aborts.
    pub async fn stop(mut self, grace: std::time::Duration) {
        self.stop.signal();
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

/// Starts the notifier.
pub fn spawn(notifier: Notifier) -> Running {
    let (stop, stopped) = watch::channel(false);
    Running {
        stop: Stop(Arc::new(stop)),
        task: tokio::spawn(async move { notifier.run(stopped).await }),
    }
}

impl Notifier {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let senders = send::Senders {
            wechat: self.wechat.clone(),
            sms: sms_provider(&self.settings),
            stop: stopped.clone(),
        };
        let channels = Channels {
            wechat: senders.wechat.is_some(),
            sms: senders.sms.is_some(),
        };
        let poll = self.settings.notify.poll;
        while !*stopped.borrow() {
            let mut busy = false;
            match derive::round(&self.db, channels, &self.settings.notify, self.clock.now()).await {
                Ok(0) => {}
                Ok(_) => {
                    busy = true;
                    // The in-app notices' events are committed: publish them now.
                    self.live.wake_relay();
                }
                Err(e) => tracing::warn!(error = ?e, "notifier cannot derive notices; retrying"),
            }
            let sent = send::round(&self.db, &senders, &self.settings, &self.clock).await;
            match sent {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = ?e, "notifier cannot send notices; retrying"),
            }
            if !busy {
                tokio::select! {
                    () = tokio::time::sleep(poll) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
    }
}

/// The WeChat API client of this process (`WECHAT_APP_SECRET` set), or `None`
/// (logged when it cannot be built).
pub fn wechat_client(settings: &Settings, bus: &EventBus) -> Option<wechat_api::WechatApi> {
    let settings = settings.wechat_notices.clone()?;
    match wechat_api::WechatApi::new(settings, bus) {
        Ok(api) => Some(api),
        Err(e) => {
            tracing::error!(error = %e, "template messages are off");
            None
        }
    }
}

/// The SMS provider, or `None` when SMS is off (or, logged, cannot be built).
fn sms_provider(settings: &Settings) -> Option<Box<dyn sms::Provider>> {
    match sms::provider(&settings.notify.sms) {
        Ok(provider) => provider,
        Err(e) => {
            tracing::error!(error = %e, "text messages are off");
            None
        }
    }
}
