//! smart-npc: the GraphQL gateway of the Heshun County "Smart NPC" (智慧人大) platform.
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod seed;
pub mod service;
pub mod wechat;
