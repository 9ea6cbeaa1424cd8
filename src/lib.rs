//! nsx-policy-store: the NSX Policy API for Antrea traceflow configs, on SQLite.
//!
//! Layers, outside in: [`http`] (routes, extractors, the ApiError mapping), [`domain`] (the
//! AntreaTraceflowConfig and the contract's rules), [`storage`] (the repository trait and its
//! SQLite implementation), with [`auth`] (users, roles, sessions), [`configuration`],
//! [`telemetry`] and [`tls`] beside them, and [`startup`] putting them together.

pub mod auth;
pub mod cli;
pub mod commands;
pub mod configuration;
pub mod determinism;
pub mod domain;
pub mod http;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod tls;
