//! The contract's integration tests again, on PostgreSQL: the same modules as `tests/api/`
//! (the harness picks the engine by this crate's name), on databases of a throwaway cluster
//! the harness starts from the machine's PostgreSQL binaries; what only several instances
//! on one database can show (`instances.rs`); and the schema's migrations (`schema.rs`).
//! SQLite's own tests (`tests/api/sqlite/`) are not here.

#[path = "../api/postgres_cluster.rs"]
mod postgres_cluster;
#[path = "../api/python.rs"]
mod python;
#[path = "../api/support.rs"]
mod support;

#[path = "../api/cli.rs"]
mod cli;
#[path = "../api/concurrency.rs"]
mod concurrency;
#[path = "../api/defaults.rs"]
mod defaults;
#[path = "../api/durability.rs"]
mod durability;
#[path = "../api/embedded.rs"]
mod embedded;
#[path = "../api/errors.rs"]
mod errors;
#[path = "../api/events.rs"]
mod events;
#[path = "../api/faults.rs"]
mod faults;
#[path = "../api/hierarchy.rs"]
mod hierarchy;
#[path = "../api/history.rs"]
mod history;
#[path = "../api/hostile.rs"]
mod hostile;
#[path = "../api/inventory.rs"]
mod inventory;
#[path = "../api/kinds.rs"]
mod kinds;
#[path = "../api/list.rs"]
mod list;
#[path = "../api/nat.rs"]
mod nat;
#[path = "../api/nsxlib.rs"]
mod nsxlib;
#[path = "../api/objects.rs"]
mod objects;
#[path = "../api/openapi.rs"]
mod openapi;
#[path = "../api/operability.rs"]
mod operability;
#[path = "../api/put.rs"]
mod put;
#[path = "../api/realization.rs"]
mod realization;
#[path = "../api/relations.rs"]
mod relations;
#[path = "../api/reliability.rs"]
mod reliability;
#[path = "../api/resource.rs"]
mod resource;
#[path = "../api/results.rs"]
mod results;
#[path = "../api/sdk.rs"]
mod sdk;
#[path = "../api/search.rs"]
mod search;
#[path = "../api/security.rs"]
mod security;
#[path = "../api/startup.rs"]
mod startup;
#[path = "../api/state.rs"]
mod state;
#[path = "../api/subtypes.rs"]
mod subtypes;
#[path = "../api/tolerance.rs"]
mod tolerance;
#[path = "../api/validation.rs"]
mod validation;

mod instances;
mod schema;
