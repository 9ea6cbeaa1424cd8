//! The integration tests: the real binary on an ephemeral port, a real database in a temp
//! folder, real clients. One crate, one module per concern, so the harness is compiled and
//! linked once.

mod postgres_cluster;
mod support;

mod browser;
mod catalog;
mod cli;
mod concurrency;
mod defaults;
mod durability;
mod embedded;
mod errors;
mod events;
mod faults;
mod hierarchy;
mod history;
mod hostile;
mod inventory;
mod journal;
mod kinds;
mod list;
mod nat;
mod nsxlib;
mod objects;
mod openapi;
mod operability;
mod put;
mod python;
mod realization;
mod relations;
mod reliability;
mod resource;
mod results;
mod sdk;
mod search;
mod security;
mod sqlite;
mod startup;
mod state;
mod subtypes;
mod tolerance;
mod validation;
