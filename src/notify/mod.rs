//! Notifications (issue 15): the notifier that turns committed domain events into
//! notices, exactly once, and sends those that leave the platform. One task per
//! replica; every replica runs it, and the database decides which one derives an
//! event ([`derive`]: compare-and-set on the position) and which one sends a message
//! ([`send`]: a claimed lease per delivery). Who is told what is
//! `domain::notice`; what is read and marked read is `service::notifications`.
pub mod derive;
pub mod facts;
pub mod send;
pub mod wechat_api;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::notice::Channels;
use crate::events::{EventBus, Live};

/// What the notifier runs with.
pub struct Notifier {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub live: Live,
    pub bus: EventBus,
}

/// Starts the notifier; abort the handle to stop it.
pub fn spawn(notifier: Notifier) -> JoinHandle<()> {
    tokio::spawn(async move { notifier.run().await })
}

impl Notifier {
    async fn run(self) {
        let api = self
            .settings
            .wechat_notices
            .clone()
            .and_then(|s| wechat_api(s, &self.bus));
        let channels = Channels {
            wechat: api.is_some(),
        };
        let poll = self.settings.notify.poll;
        loop {
            let mut busy = false;
            match derive::round(&self.db, channels, self.clock.now()).await {
                Ok(0) => {}
                Ok(_) => {
                    busy = true;
                    // The in-app notices' events are committed: publish them now.
                    self.live.wake_relay();
                }
                Err(e) => tracing::warn!(error = ?e, "notifier cannot derive notices; retrying"),
            }
            if let Some(api) = &api {
                let sent = send::round(
                    &self.db,
                    api,
                    &self.settings.public_base_url,
                    self.settings.notify.max_attempts,
                    self.clock.now(),
                )
                .await;
                match sent {
                    Ok(n) => busy |= n > 0,
                    Err(e) => tracing::warn!(error = ?e, "notifier cannot send notices; retrying"),
                }
            }
            if !busy {
                tokio::time::sleep(poll).await;
            }
        }
    }
}

/// The WeChat client, or `None` (logged) when it cannot be built.
fn wechat_api(
    settings: crate::config::WechatNotices,
    bus: &EventBus,
) -> Option<wechat_api::WechatApi> {
    match wechat_api::WechatApi::new(settings, bus) {
        Ok(api) => Some(api),
        Err(e) => {
            tracing::error!(error = %e, "template messages are off");
            None
        }
    }
}
