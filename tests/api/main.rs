//! Integration tests: the real app over HTTP and WebSocket, on SQLite by default and on
//! PostgreSQL + Redis with TEST_DATABASE_URL and TEST_REDIS_URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod architecture;
mod auth;
mod browser;
mod cli;
mod complexity;
mod cors;
mod duty;
mod fixtures;
mod graphiql;
mod graphql_http;
mod health;
mod helpers;
mod hostile;
mod idempotency;
mod live;
mod live_statistics;
mod logs;
mod management;
mod metrics;
mod mobile;
mod node;
mod org;
mod pagination;
mod permissions;
mod petitions;
mod readme;
mod redis_faults;
mod response_order;
mod restarts;
mod resume;
mod schema;
mod scope;
mod skips;
mod sql_count;
mod statistics_rollup;
mod test_databases;
mod websocket;
mod wechat;
#[path = "../support/ws_client.rs"]
mod ws_client;
