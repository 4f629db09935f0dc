//! One DataLoader per relation, registered fresh for every request so that caches
//! never outlive the request (nor leak data between actors).
use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

mod account;
mod station_liaisons;
mod grid_deputies;
mod deputy_pairings;
mod deputy_activities;
mod campaign;
mod activity_stations;
mod activity_participants;
mod account_grants;
mod department;
mod deputy;
mod deputy_stations;
mod grid;
mod station;
mod station_grids;
mod station_residents;
mod township;
mod township_stations;

pub use account::AccountLoader;
pub use station_liaisons::StationLiaisonsLoader;
pub use grid_deputies::GridDeputiesLoader;
pub use deputy_pairings::DeputyPairingsLoader;
pub use deputy_activities::DeputyActivitiesLoader;
pub use campaign::CampaignLoader;
pub use activity_stations::ActivityStationsLoader;
pub use activity_participants::ActivityParticipantsLoader;
pub use account_grants::AccountGrantsLoader;
pub use department::DepartmentLoader;
pub use deputy::DeputyLoader;
pub use deputy_stations::DeputyStationsLoader;
pub use grid::GridLoader;
pub use station::StationLoader;
pub use station_grids::StationGridsLoader;
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

/// Registers every loader in `data`. With `cache` off, loaders still batch the loads
/// of one execution but remember nothing (for long-lived WebSocket connections).
pub fn register_into(data: &mut async_graphql::Data, db: &DatabaseConnection, cache: bool) {
    fn add<T: async_graphql::dataloader::Loader<i64>>(
        data: &mut async_graphql::Data,
        loader: T,
        cache: bool,
    ) {
        let loader = DataLoader::new(loader, tokio::spawn);
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
