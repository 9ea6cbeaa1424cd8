//! The domain: what an AntreaTraceflowConfig is, how a request body becomes one, and what a
//! write does to the object that is already stored. Nothing here knows about HTTP or SQL.
//!
//! Parse, don't validate: a body either becomes a typed [`traceflow::TraceflowDocument`]
//! or a [`field::FieldError`] naming the offending field by its dotted path; the rest of
//! the service only ever sees the typed values.

pub mod catalog;
pub mod exchange;
pub mod fault;
pub mod field;
pub mod history;
pub mod id;
pub mod list;
pub mod object;
pub mod paging;
pub mod results;
pub mod run;
pub mod schema;
pub mod simulation;
pub mod snapshot;
pub mod traceflow;
pub mod values;
pub mod write;

pub use field::{json_object, BodyError, FieldError};
pub use id::ObjectId;
pub use object::{Metadata, Traceflow};
pub use traceflow::{TraceflowConfig, TraceflowDocument, TraceflowFields};
pub use write::{Applied, Change, Operation, WriteRejection};

/// What the domain's unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::write::{apply, Stamp};
    use super::{Change, ObjectId, Traceflow, TraceflowDocument};

    /// The traceflow `t14` as a first PUT of `body` creates it, at time 1, by `admin`.
    pub fn traceflow(body: serde_json::Value) -> Traceflow {
        let id = ObjectId::parse("t14").unwrap();
        let document = TraceflowDocument::parse(body.to_string().as_bytes(), &id).unwrap();
        let stamp = Stamp {
            user: "admin",
            now: 1,
            unique_id: uuid::Uuid::nil(),
        };
        let applied = apply(None, id, Change::Put(document), stamp)
            .unwrap()
            .unwrap();
        (*applied.object).clone()
    }
}
