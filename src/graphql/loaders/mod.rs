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
mod petition_departments;
mod petition_events;
mod station;
mod station_grids;
mod station_liaisons;
mod station_residents;
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
pub use petition_departments::PetitionDepartmentsLoader;
pub use petition_events::PetitionEventsLoader;
pub use station::StationLoader;
pub use station_grids::StationGridsLoader;
pub use station_liaisons::StationLiaisonsLoader;
pub use station_residents::StationResidentsLoader;
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

/// How long a DataLoader batch stays open after its first key (after yielding, below).
pub const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(1);

/// The executor resolves the items of a long list in chunks, yielding between them
/// (cooperative scheduling), and each chunk may add keys to the open batch. A batch
/// therefore first yields to the scheduler a number of times, letting every chunk of
/// the current level run, and only then starts its timer: one level of a nested
/// query stays one statement however long the list (the SQL-count test checks it).
const BATCH_YIELDS: usize = 64;

fn spawn_batch(batch: futures_util::future::BoxFuture<'static, ()>) {
    tokio::spawn(async move {
        for _ in 0..BATCH_YIELDS {
            tokio::task::yield_now().await;
        }
        batch.await;
    });
}

/// Registers every loader in `data`. With `cache` off, loaders still batch the loads
/// of one execution but remember nothing (for long-lived WebSocket connections).
pub fn register_into(data: &mut async_graphql::Data, db: &DatabaseConnection, cache: bool) {
    fn add<T: async_graphql::dataloader::Loader<i64>>(
        data: &mut async_graphql::Data,
        loader: T,
        cache: bool,
    ) {
        let loader = DataLoader::new(loader, spawn_batch).delay(BATCH_WINDOW);
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
