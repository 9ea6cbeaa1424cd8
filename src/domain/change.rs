//! A write as the domain speaks of it: the change a client asked for ([`Change`]), what a
//! committed one did ([`Applied`], [`Operation`]), why one is refused ([`WriteRejection`]),
//! and who made it when ([`Stamp`], [`Moment`]). What a write does is [`super::write`].

use std::sync::Arc;

use uuid::Uuid;

use super::document::Document;
use super::path::ObjectPath;
use super::{FieldError, PolicyObject};

/// A write a client asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Put(Document),
    Patch(Document),
    Delete,
}

impl Change {
    /// Whether the change can only create the object: a PUT without `_revision` creates it
    /// where nothing is stored, and is refused where something is ([`super::write::apply`]); it never
    /// changes a stored object.
    pub fn only_creates(&self) -> bool {
        matches!(self, Change::Put(doc) if doc.revision.is_none())
    }
}

/// What a committed change did; recorded with every history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Replace,
    Patch,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Replace => "replace",
            Operation::Patch => "patch",
            Operation::Delete => "delete",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Create, Self::Replace, Self::Patch, Self::Delete]
            .into_iter()
            .find(|op| op.as_str() == text)
    }
}

/// A write the contract refuses; nothing changes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteRejection {
    #[error("Cannot create an object with path=[{path}] as it already exists.")]
    AlreadyExists { path: String },
    #[error(
        "Object _revision mismatch! (current: {current}, requested: {requested}). \
         Fetch the latest copy of the object and retry!"
    )]
    RevisionMismatch { current: i64, requested: i64 },
    /// A create under a parent that is not stored, or a write that refers to an object that
    /// is not ([`super::relations`]).
    #[error(
        "The requested object : {path} could not be found. Object identifiers are case sensitive."
    )]
    Missing { path: String },
    /// A delete of an object something is stored below, or that another object refers to
    /// ([`super::relations`]).
    #[error(
        "The object path=[{path}] cannot be deleted as either it has children or it is being \
         referenced by other objects path=[{by}]."
    )]
    InUse { path: String, by: String },
    /// A client's delete of an object the system created ([`super::relations::check_deletable`]):
    /// NSX's refusal of a change to an object another principal owns.
    #[error(
        "Principal '{user}' with role '[enterprise_admin]' attempts to delete or modify an \
         object of type {resource_type} it doesn't own. (createUser={owner}, allowOverwrite=null)"
    )]
    NotOwned {
        user: String,
        resource_type: String,
        owner: String,
    },
    /// A PATCH that creates, or a merge that leaves, an incomplete object.
    #[error(transparent)]
    Invalid(#[from] FieldError),
}

impl WriteRejection {
    /// This refusal of a companion's write ([`super::relations::companions`]) as the client
    /// sees it: of the object the client wrote (a project whose domain has children cannot
    /// be deleted).
    pub fn of_owner(self, owner: &ObjectPath) -> Self {
        match self {
            WriteRejection::InUse { by, .. } => WriteRejection::InUse {
                path: owner.to_string(),
                by,
            },
            other => other,
        }
    }
}

/// The new revision a write produces. For a delete, `object` is the final state, marked for
/// delete, with the revision after the last one: that is what history records. The object is
/// shared: the request's answer and the store's cache of committed objects hold the same one.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub operation: Operation,
    pub object: Arc<PolicyObject>,
}

/// When a write happens: the store's clock (what it records, epoch milliseconds) and the
/// real one (what delays count from: they are real time in every mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub stamp: i64,
    pub real: i64,
}

/// Who writes, when (epoch milliseconds), and the `unique_id` the object gets if the write
/// creates it: the store's source of time and chance decides both.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub user: &'a str,
    pub now: i64,
    pub unique_id: Uuid,
}
