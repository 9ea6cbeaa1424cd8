//! nsx-policy-store: a local stand-in for the VMware NSX Policy API, for every Policy type,
//! on SQLite or PostgreSQL.
//!
//! Layers, outside in: [`http`] (routes, extractors, the ApiError mapping), [`kinds`] (what
//! a type does beyond the catalog: traceflows and their runs, projects and their domain),
//! [`storage`] (the store's traits, the steps every write takes, and one implementation per
//! engine), [`domain`] (the catalog, objects, documents and the contract's rules, knowing no
//! type by its name), with [`auth`] (users, roles, sessions), [`configuration`],
//! [`telemetry`] and [`tls`] beside them, and [`startup`] putting them together.

pub mod auth;
pub mod cli;
pub mod commands;
pub mod configuration;
pub mod determinism;
pub mod domain;
pub mod http;
pub mod kinds;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod tls;
