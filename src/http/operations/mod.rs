//! Every operation the service serves, in one table: the route that serves it and what its
//! API document says of it (the model is [`super::operation`]). [`super::routes`] registers
//! the table and [`super::openapi`] renders it, so a route cannot exist without its
//! documentation, nor the other way round. The core's operations are in `builtin.rs`, by
//! group; a kind's are in its folder, given through [`KindsApi`].

mod builtin;
pub mod params;

pub use super::operation::{Access, Content, Doc, Document, KindsApi, Operation, Param};

/// Every operation, the core's and the kinds', in the order their routes are matched.
pub fn operations(kinds: &KindsApi) -> Vec<Operation> {
    [
        builtin::session_and_node(),
        builtin::realization_and_search(),
        (kinds.operations)(),
        builtin::inspector(),
        builtin::streams_and_realization(),
        builtin::faults(),
        builtin::state(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
