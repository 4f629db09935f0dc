use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// SeaORM's migration CLI (`status`, `up`, `down`, `fresh`, ...), which panics with a
/// backtrace when `DATABASE_URL` is missing or the database cannot be opened: say it in
/// one line instead.
#[tokio::main]
async fn main() {
    if database_url_missing() {
        fail("set DATABASE_URL (or pass -u URL), e.g. DATABASE_URL='sqlite://smart-npc.db?mode=rwc' or postgres://user:pass@host:5432/db");
    }
    cli::run_cli_with_connection(migration::Migrator, connect).await;
}

fn database_url_missing() -> bool {
    let given = std::env::var("DATABASE_URL").is_ok_and(|url| !url.trim().is_empty());
    // Arguments that need no database, or carry the URL themselves; and a `.env` file,
    // which the CLI reads.
    let answered_by_args = std::env::args().skip(1).any(|arg| {
        matches!(
            arg.as_str(),
            "-h" | "--help" | "-V" | "--version" | "help" | "-u"
        ) || arg.starts_with("--database-url")
    });
    let dot_env = std::fs::read_to_string(".env").is_ok_and(|env| env.contains("DATABASE_URL"));
    !(given || answered_by_args || dot_env)
}

async fn connect(mut options: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    // A server that refuses connections is reported in seconds, not after sqlx's 30.
    options.acquire_timeout(std::time::Duration::from_secs(5));
    match Database::connect(options).await {
        Ok(database) => Ok(database),
        Err(error) => fail(&format!("cannot open the database: {error}")),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("migration: {message}");
    std::process::exit(1)
}
