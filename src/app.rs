//! Wires the database, the event bus, the GraphQL schema and the HTTP routes together.
use std::sync::Arc;

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use sea_orm::DatabaseConnection;

use crate::auth::password::PasswordHasher;
use crate::auth::token::TokenKeys;
use crate::auth::AuthKit;
use crate::config::Settings;
use crate::events::{EventBus, Live, LiveSettings};
use crate::graphql::{build_schema, AppSchema};
use crate::http::HttpState;
use crate::limits::rate_limit::RateLimiter;
use crate::limits::redis_guard::RedisGuard;
use crate::service::statistics::live::{Coalescing, LiveStatistics};
use crate::state::AppState;

/// Accepts TCP connections with Nagle's algorithm off: a live event is one small
/// WebSocket frame, and it should leave at once rather than wait for the peer's
/// (possibly delayed) acknowledgement of the previous one.
pub struct NoDelayAcceptor(TcpAcceptor);

impl Acceptor for NoDelayAcceptor {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(
        Self::Io,
        poem::web::LocalAddr,
        poem::web::RemoteAddr,
        poem::http::uri::Scheme,
    )> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        if let Err(e) = io.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        Ok((io, local, remote, scheme))
    }
}

pub struct App {
    /// The shared state and the HTTP layer's own (it dereferences to [`AppState`]).
    pub state: HttpState,
    pub schema: AppSchema,
}

impl App {
    /// Connects to nothing by itself: the caller brings a migrated database. The
    /// live-update settings come from the environment (`LiveSettings::from_env`).
    pub fn new(db: DatabaseConnection, settings: Settings) -> Result<Self, String> {
        Self::with_live_settings(db, settings, LiveSettings::from_env()?)
    }

    pub fn with_live_settings(
        db: DatabaseConnection,
        settings: Settings,
        live_settings: LiveSettings,
    ) -> Result<Self, String> {
        Self::with_clock(db, settings, live_settings, crate::clock::Clock::system())
    }

    /// As [`App::with_live_settings`], on the given clock (tests advance theirs).
    pub fn with_clock(
        db: DatabaseConnection,
        settings: Settings,
        live_settings: LiveSettings,
        clock: crate::clock::Clock,
    ) -> Result<Self, String> {
        let bus = match &settings.redis_url {
            Some(url) => EventBus::redis(url, &settings.redis_prefix)?,
            None => EventBus::InProcess,
        };
        let keys = match &settings.token_secret {
            Some(secret) => TokenKeys::new(secret.as_bytes()),
            None => {
                tracing::warn!(
                    "TOKEN_SECRET unset: access tokens are signed with a per-process key"
                );
                TokenKeys::random()
            }
        };
        let redis_guard =
            RedisGuard::for_bus(&bus, settings.redis_timeout, settings.redis_cooldown);
        let auth = AuthKit {
            hasher: PasswordHasher::new(),
            keys,
            limiter: RateLimiter::new(redis_guard.clone(), &settings.redis_prefix),
            clock: clock.clone(),
        };
        let coalescing = Coalescing {
            quiet: live_settings.statistics_quiet,
            max_delay: live_settings.statistics_max_delay,
        };
        let live = Live::new(db.clone(), bus.clone(), live_settings);
        let live_statistics = LiveStatistics::new(db.clone(), live.clone(), coalescing);
        let storage = crate::storage::Storage::open(
            &settings.storage,
            crate::db::sqlite_file(&db).as_deref(),
        )?;
        let wechat_api = crate::notify::wechat_client(&settings, &bus);
        let state = AppState {
            storage,
            wechat_api,
            db,
            bus,
            live,
            live_statistics,
            redis_guard,
            settings: Arc::new(settings),
            auth,
            clock,
        };
        let schema = build_schema(state.clone());
        Ok(App {
            state: HttpState::new(state),
            schema,
        })
    }

    /// Binds the configured address (port 0 picks a free one) and returns the acceptor
    /// together with the address actually bound.
    pub async fn bind(&self) -> std::io::Result<(NoDelayAcceptor, std::net::SocketAddr)> {
        let acceptor = NoDelayAcceptor(
            TcpListener::bind(self.state.settings.bind_addr)
                .into_acceptor()
                .await?,
        );
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("listener has no socket address"))?;
        Ok((acceptor, addr))
    }

    /// Serves until `shutdown` resolves, then gives in-flight requests the grace period.
    pub async fn serve(
        self,
        acceptor: NoDelayAcceptor,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let grace = self.state.settings.shutdown_grace;
        // The relay (which first publishes anything a previous run left) and the
        // subscriber fan-out run for as long as the server does.
        let live_tasks = self.state.live.start().await;
        // 跟踪督办: overdue marking, escalation and auto-close on a timer.
        let live = self.state.live.clone();
        let supervision = crate::service::petitions::supervision::spawn(
            crate::service::petitions::supervision::Job {
                db: self.state.db.clone(),
                settings: self.state.settings.clone(),
                auth: self.state.auth.clone(),
                live: live.clone(),
                storage: self.state.storage.clone(),
            },
        );
        // Notices: after what the outbox already holds on a first start.
        if let Err(e) = crate::notify::derive::init_position(self.state.live.db()).await {
            tracing::warn!(error = ?e, "cannot set the notifier's start in the outbox");
        }
        let notifier = crate::notify::spawn(crate::notify::Notifier {
            db: self.state.live.db().clone(),
            settings: self.state.settings.clone(),
            clock: self.state.clock.clone(),
            live: live.clone(),
            wechat: self.state.wechat_api.clone(),
        });
        let stop_notices = notifier.stopper();
        let shutdown = async move {
            shutdown.await;
            // No new delivery once the shutdown begins: the notifier's stop runs
            // alongside the requests' grace, not after it (the two together must fit
            // in the orchestrator's stop period, or a send is cut before its record).
            stop_notices.signal();
            live.begin_shutdown();
        };
        let routes = crate::http::routes(self.state, self.schema);
        let served = poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(grace))
            .await;
        // The notifier (told to stop when the shutdown began) finishes and records
        // the delivery in hand (a send times out after 10 s), so a stopped replica
        // never leaves a sent message unrecorded.
        notifier.stop(std::time::Duration::from_secs(15)).await;
        drop(live_tasks);
        if let Some(job) = supervision {
            job.abort();
        }
        served
    }
}
