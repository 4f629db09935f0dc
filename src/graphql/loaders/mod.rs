//! One DataLoader per relation, registered fresh for every request so that caches
//! never outlive the request (nor leak data between actors).
use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

mod department;
mod deputy;
mod deputy_stations;
mod grid;
mod station;
mod station_grids;
mod station_residents;
mod township;
mod township_stations;

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

pub fn register(
    request: async_graphql::Request,
    db: &DatabaseConnection,
) -> async_graphql::Request {
    fn loader<T: async_graphql::dataloader::Loader<i64>>(t: T) -> DataLoader<T> {
        DataLoader::new(t, tokio::spawn)
    }
    request
        .data(loader(TownshipLoader(db.clone())))
        .data(loader(StationLoader(db.clone())))
        .data(loader(GridLoader(db.clone())))
        .data(loader(DeputyLoader(db.clone())))
        .data(loader(DepartmentLoader(db.clone())))
        .data(loader(TownshipStationsLoader(db.clone())))
        .data(loader(StationGridsLoader(db.clone())))
        .data(loader(StationResidentsLoader(db.clone())))
        .data(loader(DeputyStationsLoader(db.clone())))
}
