//! Segments: NSX derives each subnet's `network` from its gateway address ([`subnets`]),
//! and serves a segment's configuration state ([`state`]) and its ports' ([`ports`]).

pub mod ports;
pub mod state;
pub mod subnets;

use crate::domain::catalog::{catalog, TypeId};
use crate::domain::kind::{Kind, Members};
use crate::domain::schema::check_members;
use crate::domain::FieldError;

pub use state::{operations, schema};

/// The type of this kind.
pub const RESOURCE_TYPE: &str = "Segment";

/// The segment kind.
pub struct Segments;

impl Kind for Segments {
    /// The catalog's checks, then each subnet's network, derived as NSX derives it.
    fn check(&self, resource_type: TypeId, members: Members) -> Result<Members, FieldError> {
        let mut members = check_members(catalog(), resource_type, members, "")?;
        subnets::derive_networks(&mut members)?;
        Ok(members)
    }
}
