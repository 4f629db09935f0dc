//! One DataLoader per relation, registered fresh for every request so that caches
//! never outlive the request (nor leak data between actors).
use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

mod account;
mod account_grants;
mod activity_participants;
mod activity_stations;
mod campaign;
mod category;
mod department;
mod deputy;
mod deputy_activities;
mod deputy_pairings;
mod deputy_stations;
mod grid;
mod grid_deputies;
mod petition_attachments;
mod petition_departments;
mod petition_events;
mod station;
mod station_grids;
mod station_liaisons;
mod station_residents;
mod step_attachments;
mod township;
mod township_stations;

pub use account::AccountLoader;
pub use account_grants::AccountGrantsLoader;
pub use activity_participants::ActivityParticipantsLoader;
pub use activity_stations::ActivityStationsLoader;
pub use campaign::CampaignLoader;
pub use category::CategoryLoader;
pub use department::DepartmentLoader;
pub use deputy::DeputyLoader;
pub use deputy_activities::DeputyActivitiesLoader;
pub use deputy_pairings::DeputyPairingsLoader;
pub use deputy_stations::DeputyStationsLoader;
pub use grid::GridLoader;
pub use grid_deputies::GridDeputiesLoader;
pub use petition_attachments::PetitionAttachmentsLoader;
pub use petition_departments::PetitionDepartmentsLoader;
pub use petition_events::PetitionEventsLoader;
pub use station::StationLoader;
pub use station_grids::StationGridsLoader;
pub use station_liaisons::StationLiaisonsLoader;
pub use station_residents::StationResidentsLoader;
pub use step_attachments::{
    ActivityPhotosLoader, PetitionEventAttachmentsLoader, StoryAttachmentsLoader,
};
pub use township::TownshipLoader;
pub use township_stations::TownshipStationsLoader;

/// Declares a loader whose batch is answered by one service function
/// `fn(&DatabaseConnection, &[i64]) -> AppResult<HashMap<i64, V>>`.
macro_rules! batch_loader {
    ($(#[$meta:meta])* $name:ident, $value:ty, $batch:path) => {
        $(#[$meta])*
        pub struct $name(pub sea_orm::DatabaseConnection);

        impl async_graphql::dataloader::Loader<i64> for $name {
            type Value = $value;
            type Error = crate::error::AppError;

            async fn load(
                &self,
                keys: &[i64],
            ) -> Result<std::collections::HashMap<i64, Self::Value>, Self::Error> {
                $batch(&self.0, keys).await
            }
        }
    };
}
pub(crate) use batch_loader;

/// Declares a loader of one page of a to-many relation per parent, keyed by
/// [`PageKey`](crate::db::paging::PageKey): the parents asking for the same page and
/// filter (all of one level, normally) are answered by one service function
/// `fn(&DatabaseConnection, &[i64], &F, &PageRequest) -> AppResult<HashMap<i64, Page<M>>>`,
/// which pages them in SQL.
macro_rules! page_loader {
    ($(#[$meta:meta])* $name:ident, $filter:ty, $model:ty, $fetch:path) => {
        $(#[$meta])*
        pub struct $name(pub sea_orm::DatabaseConnection);

        impl async_graphql::dataloader::Loader<crate::db::paging::PageKey<$filter>> for $name {
            type Value = crate::domain::page::Page<$model>;
            type Error = crate::error::AppError;

            async fn load(
                &self,
                keys: &[crate::db::paging::PageKey<$filter>],
            ) -> Result<
                std::collections::HashMap<crate::db::paging::PageKey<$filter>, Self::Value>,
                Self::Error,
            > {
                let mut groups: std::collections::HashMap<
                    (crate::domain::page::PageRequest, $filter),
                    Vec<i64>,
                > = std::collections::HashMap::new();
                for key in keys {
                    groups
                        .entry((key.page, key.filter.clone()))
                        .or_default()
                        .push(key.parent);
                }
                let mut loaded = std::collections::HashMap::new();
                for ((page, filter), parents) in groups {
                    let mut pages = $fetch(&self.0, &parents, &filter, &page).await?;
                    for parent in parents {
                        if let Some(found) = pages.remove(&parent) {
                            let key = crate::db::paging::PageKey {
                                parent,
                                page,
                                filter: filter.clone(),
                            };
                            loaded.insert(key, found);
                        }
                    }
                }
                Ok(loaded)
            }
        }
    };
}
pub(crate) use page_loader;

/// How long a batch stays open when no request drives it (below): subscription
/// events resolved over WebSocket, outside an operation's execution.
pub const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(1);

/// The executor resolves the items of a long list in chunks, yielding between them
/// (cooperative scheduling), and each chunk may add keys to the open batch. An
/// undriven batch therefore first yields to the scheduler a number of times, then
/// waits [`BATCH_WINDOW`].
const BATCH_YIELDS: usize = 64;

type Batch = futures_util::future::BoxFuture<'static, ()>;

tokio::task_local! {
    /// The batches submitted while a driven execution is being polled.
    static HELD: std::cell::RefCell<Vec<Batch>>;
}

/// When a DataLoader batch runs: as soon as the execution that asked for it has
/// nothing else to do, not after a timer.
///
/// A DataLoader collects the keys of one level of a query into a batch and hands the
/// batch to its spawner. A timer (the DataLoader's own `delay`, or yielding to the
/// scheduler) guesses how long the level's resolvers need to add their keys; under
/// CPU pressure the guess is wrong and the level splits into several statements. So
/// a batch submitted while [`drive`] polls an execution is held, and released when
/// that poll ends with the execution pending *without having woken itself* (a
/// cooperative yield would have): every resolver is then waiting on a loader or on
/// the database, so no more keys can come before a batch answers. Batching then
/// depends only on the query's shape. Batches submitted outside a driven execution
/// (subscription events resolved over WebSocket) keep the timing window.
fn submit(batch: Batch) {
    let mut batch = Some(batch);
    let held = HELD
        .try_with(|held| {
            if let Some(batch) = batch.take() {
                held.borrow_mut().push(batch);
            }
        })
        .is_ok();
    if let (false, Some(batch)) = (held, batch) {
        tokio::spawn(async move {
            for _ in 0..BATCH_YIELDS {
                tokio::task::yield_now().await;
            }
            tokio::time::sleep(BATCH_WINDOW).await;
            batch.await;
        });
    }
}

/// Runs held batches (never dropped: another execution sharing a WebSocket
/// connection's loaders may wait on keys that joined one of them).
struct Release(Vec<Batch>);

impl Release {
    fn all(&mut self) {
        for batch in self.0.drain(..) {
            tokio::spawn(batch);
        }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        self.all();
    }
}

/// Polls `execution`, releasing the batches it submits whenever it is idle (above).
pub async fn drive<F: std::future::Future>(execution: F) -> F::Output {
    let mut execution = std::pin::pin!(execution);
    let mut pending = Release(Vec::new());
    std::future::poll_fn(|cx| {
        let flag = std::sync::Arc::new(WakeFlag {
            woken: std::sync::atomic::AtomicBool::new(false),
            outer: cx.waker().clone(),
        });
        let waker = std::task::Waker::from(flag.clone());
        let mut inner = std::task::Context::from_waker(&waker);
        let (poll, submitted) = HELD.sync_scope(Default::default(), || {
            let poll = execution.as_mut().poll(&mut inner);
            (
                poll,
                HELD.with(|held| std::mem::take(&mut *held.borrow_mut())),
            )
        });
        pending.0.extend(submitted);
        if poll.is_ready() || !flag.woken.load(std::sync::atomic::Ordering::SeqCst) {
            pending.all();
        }
        poll
    })
    .await
}

/// The schema extension that drives each execution's DataLoader batches ([`drive`]).
pub struct DriveBatches;

impl async_graphql::extensions::ExtensionFactory for DriveBatches {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(DriveBatches)
    }
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for DriveBatches {
    async fn execute(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: async_graphql::extensions::NextExecute<'_>,
    ) -> async_graphql::Response {
        drive(next.run(ctx, operation_name)).await
    }
}

/// Notes whether the execution woke itself during a poll (a cooperative yield: it
/// still has work), and passes every wake on.
struct WakeFlag {
    woken: std::sync::atomic::AtomicBool,
    outer: std::task::Waker,
}

impl std::task::Wake for WakeFlag {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, std::sync::atomic::Ordering::SeqCst);
        self.outer.wake_by_ref();
    }
}

/// Registers every loader in `data`. With `cache` off, loaders still batch the loads
/// of one execution but remember nothing (for long-lived WebSocket connections).
pub fn register_into(data: &mut async_graphql::Data, db: &DatabaseConnection, cache: bool) {
    fn add<T: Send + Sync + 'static>(data: &mut async_graphql::Data, loader: T, cache: bool) {
        let loader = DataLoader::new(loader, submit).delay(std::time::Duration::ZERO);
        loader.enable_all_cache(cache);
        data.insert(loader);
    }
    add(data, TownshipLoader(db.clone()), cache);
    add(data, StationLoader(db.clone()), cache);
    add(data, GridLoader(db.clone()), cache);
    add(data, DeputyLoader(db.clone()), cache);
    add(data, DepartmentLoader(db.clone()), cache);
    add(data, TownshipStationsLoader(db.clone()), cache);
    add(data, StationGridsLoader(db.clone()), cache);
    add(data, StationResidentsLoader(db.clone()), cache);
    add(data, DeputyStationsLoader(db.clone()), cache);
    add(data, AccountLoader(db.clone()), cache);
    add(data, AccountGrantsLoader(db.clone()), cache);
    add(data, CategoryLoader(db.clone()), cache);
    add(data, PetitionDepartmentsLoader(db.clone()), cache);
    add(data, PetitionEventsLoader(db.clone()), cache);
    add(data, PetitionAttachmentsLoader(db.clone()), cache);
    add(data, PetitionEventAttachmentsLoader(db.clone()), cache);
    add(data, StoryAttachmentsLoader(db.clone()), cache);
    add(data, ActivityPhotosLoader(db.clone()), cache);
    add(data, StationLiaisonsLoader(db.clone()), cache);
    add(data, GridDeputiesLoader(db.clone()), cache);
    add(data, DeputyPairingsLoader(db.clone()), cache);
    add(data, DeputyActivitiesLoader(db.clone()), cache);
    add(data, CampaignLoader(db.clone()), cache);
    add(data, ActivityStationsLoader(db.clone()), cache);
    add(data, ActivityParticipantsLoader(db.clone()), cache);
}

/// Fresh, caching loaders for one HTTP request.
pub fn register(
    mut request: async_graphql::Request,
    db: &DatabaseConnection,
) -> async_graphql::Request {
    register_into(&mut request.data, db, true);
    request
}
