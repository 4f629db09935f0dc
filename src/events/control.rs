//! Control messages between replicas: not events (they are not in the outbox, nobody
//! subscribes to them, nothing replays them) but prompts to act now.
//!
//! The one kind today: an account's access changed (a session revoked, the account
//! disabled, a role revoked). Open WebSocket connections of that account, on every
//! replica, then re-read their session through the same service function HTTP uses
//! and close (4403) if it may no longer act, so that a revocation does not live on in
//! a socket opened before it. The message is a prompt, not the truth: the database is
//! read again, so a duplicate or a late message closes nothing that is still valid.
//!
//! Delivery: at once to this process's connections; with Redis, also on the pub/sub
//! channel `{prefix}:control` (the replica's one subscription listens to it beside the
//! event channel). A failed PUBLISH is retried in the background; a replica whose
//! subscription was lost re-checks all its connections once it is back (see `feed`),
//! as messages sent meanwhile are gone. Every operation a connection runs re-checks
//! its session as well, so a lost prompt can at most let a subscription deliver until
//! the next operation or the access token's expiry.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// What changed about an account's access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessChange {
    /// One sign-in ended (`signOut`).
    SignedOut,
    /// A refresh token was presented twice: its sign-in was revoked.
    RefreshReused,
    /// Every other sign-in of the account was revoked.
    PasswordChanged,
    /// The account and all its sessions.
    AccountDisabled,
    /// The account keeps its sessions but lost a role.
    RoleRevoked,
}

/// A control message, as it travels between replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    /// The sessions or rights of `account_id` changed: its connections re-check theirs.
    AccessChanged {
        account_id: i64,
        change: AccessChange,
    },
}

/// A control message with the process that sent it (which delivered it locally
/// already and ignores its own copy coming back from Redis).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub origin: u64,
    pub control: Control,
}

/// Why a connection is asked to re-check its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recheck {
    Changed(AccessChange),
    /// Prompts may have been missed (the Redis subscription was lost).
    MayHaveMissed,
}

/// The signed-in connections of this process, by account. Cheap to clone.
#[derive(Clone, Default)]
pub struct AccessWatchers {
    inner: Arc<Mutex<Registry>>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    by_account: HashMap<i64, HashMap<u64, Arc<Slot>>>,
}

/// One connection's mailbox: the latest prompt, and a wake-up.
#[derive(Default)]
struct Slot {
    pending: Mutex<Option<Recheck>>,
    notify: Notify,
}

impl Slot {
    fn post(&self, recheck: Recheck) {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = Some(recheck);
        self.notify.notify_one();
    }
}

/// One connection's registration; unregisters itself when dropped.
pub struct AccessWatch {
    id: u64,
    account_id: i64,
    slot: Arc<Slot>,
    registry: Weak<Mutex<Registry>>,
}

impl AccessWatch {
    /// Waits for the next prompt to re-check (prompts posted meanwhile coalesce).
    pub async fn changed(&self) -> Recheck {
        loop {
            if let Some(recheck) = self.try_changed() {
                return recheck;
            }
            self.slot.notify.notified().await;
        }
    }

    /// A prompt posted and not yet taken, without waiting.
    pub fn try_changed(&self) -> Option<Recheck> {
        self.slot
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Drop for AccessWatch {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            let mut registry = registry.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(slots) = registry.by_account.get_mut(&self.account_id) {
                slots.remove(&self.id);
                if slots.is_empty() {
                    registry.by_account.remove(&self.account_id);
                }
            }
        }
    }
}

impl AccessWatchers {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection of `account_id`.
    pub fn watch(&self, account_id: i64) -> AccessWatch {
        let slot = Arc::new(Slot::default());
        let mut registry = self.lock();
        registry.next_id += 1;
        let id = registry.next_id;
        registry
            .by_account
            .entry(account_id)
            .or_default()
            .insert(id, slot.clone());
        AccessWatch {
            id,
            account_id,
            slot,
            registry: Arc::downgrade(&self.inner),
        }
    }

    /// Prompts this process's connections that `control` concerns.
    pub fn deliver(&self, control: &Control) {
        match control {
            Control::AccessChanged { account_id, change } => {
                let registry = self.lock();
                for slot in registry
                    .by_account
                    .get(account_id)
                    .into_iter()
                    .flat_map(HashMap::values)
                {
                    slot.post(Recheck::Changed(*change));
                }
            }
        }
    }

    /// Prompts every signed-in connection of this process.
    pub fn recheck_all(&self) {
        let registry = self.lock();
        for slot in registry.by_account.values().flat_map(HashMap::values) {
            slot.post(Recheck::MayHaveMissed);
        }
    }

    /// Signed-in connections registered now.
    pub fn len(&self) -> usize {
        self.lock().by_account.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn changed(account_id: i64, change: AccessChange) -> Control {
        Control::AccessChanged { account_id, change }
    }

    #[test]
    fn messages_round_trip_as_tagged_json() {
        let envelope = Envelope {
            origin: 7,
            control: changed(3, AccessChange::AccountDisabled),
        };
        let wire = serde_json::to_value(&envelope).expect("serialises");
        assert_eq!(
            wire,
            serde_json::json!({
                "origin": 7,
                "control": { "type": "access_changed", "account_id": 3, "change": "account_disabled" }
            })
        );
        assert_eq!(
            serde_json::from_value::<Envelope>(wire).expect("parses"),
            envelope
        );
    }

    #[test]
    fn only_the_accounts_connections_are_prompted() {
        let watchers = AccessWatchers::default();
        let a1 = watchers.watch(1);
        let a2 = watchers.watch(1);
        let b = watchers.watch(2);
        watchers.deliver(&changed(1, AccessChange::RoleRevoked));
        for watch in [&a1, &a2] {
            assert_eq!(
                watch.changed().now_or_never(),
                Some(Recheck::Changed(AccessChange::RoleRevoked))
            );
        }
        assert_eq!(b.changed().now_or_never(), None);
        watchers.recheck_all();
        assert_eq!(b.changed().now_or_never(), Some(Recheck::MayHaveMissed));
    }

    #[test]
    fn prompts_coalesce_and_watches_unregister_when_dropped() {
        let watchers = AccessWatchers::default();
        let watch = watchers.watch(1);
        watchers.deliver(&changed(1, AccessChange::SignedOut));
        watchers.deliver(&changed(1, AccessChange::PasswordChanged));
        assert_eq!(
            watch.changed().now_or_never(),
            Some(Recheck::Changed(AccessChange::PasswordChanged))
        );
        assert_eq!(watch.changed().now_or_never(), None);
        assert_eq!(watchers.len(), 1);
        drop(watch);
        assert!(watchers.is_empty());
    }
}
