//! The domain: the policy objects the store serves ([`catalog`], generated from VMware's
//! SDK), how a request body becomes one, and what a write does to the object that is already
//! stored. Nothing here knows about HTTP or SQL.
//!
//! One core serves every type: [`path`] (where an object lives), [`object`] (what is stored),
//! [`write`] (the `_revision` rules). A body becomes a document by its kind's module:
//! [`traceflow`] for AntreaTraceflowConfigs (typed, with their runs beside them in [`run`]),
//! [`generic`] for every other type, checked against the catalog by [`schema`]. Parse,
//! don't validate: a body either becomes a document or a [`field::FieldError`] naming the
//! offending field by its dotted path.

pub mod catalog;
pub mod exchange;
pub mod fault;
pub mod field;
pub mod generic;
pub mod hierarchy;
pub mod history;
pub mod id;
pub mod list;
pub mod object;
pub mod paging;
pub mod path;
pub mod realization;
pub mod relations;
pub mod results;
pub mod run;
pub mod schema;
pub mod search;
pub mod simulation;
pub mod snapshot;
pub mod traceflow;
pub mod values;
pub mod write;

pub use field::{json_object, BodyError, FieldError};
pub use id::ObjectId;
pub use object::{Config, Metadata, PolicyObject};
pub use path::ObjectPath;
pub use traceflow::{TraceflowConfig, TraceflowDocument, TraceflowFields};
pub use write::{Applied, Change, Document, Operation, WriteRejection};

/// What the domain's unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::write::{apply, Stamp};
    use super::{Change, ObjectId, ObjectPath, PolicyObject, TraceflowDocument};

    /// The traceflow `t14` as a first PUT of `body` creates it, at time 1, by `admin`.
    pub fn traceflow(body: serde_json::Value) -> PolicyObject {
        let id = ObjectId::parse("t14").unwrap();
        let document = TraceflowDocument::parse(body.to_string().as_bytes(), &id).unwrap();
        let id = ObjectPath::traceflow(&id);
        let stamp = Stamp {
            user: "admin",
            now: 1,
            unique_id: uuid::Uuid::nil(),
        };
        let applied = apply(None, id, Change::Put(document.into()), stamp)
            .unwrap()
            .unwrap();
        (*applied.object).clone()
    }

    /// The config of [`traceflow`]'s object.
    pub fn traceflow_config(body: serde_json::Value) -> super::TraceflowConfig {
        traceflow(body).traceflow().unwrap().clone()
    }
}
