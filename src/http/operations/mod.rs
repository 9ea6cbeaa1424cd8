//! Every operation the service serves, in tables: the route that serves it and what its API
//! document says of it (the model is [`super::operation`]). [`super::routes`] registers the
//! tables and [`super::openapi`] renders them, so a route cannot exist without its
//! documentation, nor the other way round. The core's table is `builtin.toml`, its handlers
//! bound in `builtin.rs`; a kind's are in its folder, given through [`KindsApi`].

mod builtin;

pub use super::operation::{Access, Content, Doc, Document, KindsApi, Operation, Param, Table};
pub use builtin::TABLE as CORE;

/// Every operation, the core's and then the kinds', in the order their routes are matched.
pub fn operations(kinds: &KindsApi) -> Vec<Operation> {
    let mut operations = CORE.operations(builtin::handler);
    operations.extend((kinds.operations)());
    operations
}
