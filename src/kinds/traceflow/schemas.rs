//! The schemas of the traceflow's bodies in the API documents, written in `schemas.json`:
//! its config as NSX documents it (the fields [`super::config`] checks, with their bounds;
//! at most one of the packet's `ipHeader` and `ipv6Header`, said in words, as a `not` of
//! `required` makes schemathesis's generator fail now and then), its status and
//! observations, and the store's earlier runs and result scripts.

use serde_json::Value;

use crate::http::openapi::schemas::Schemas;

static SCHEMAS: Schemas = Schemas::new(include_str!("schemas.json"));

/// The schema of the traceflow's body named `name`; `None` for another name.
pub fn schema(name: &str) -> Option<Value> {
    SCHEMAS.get(name)
}
