//! What a write does to the object already stored (the `_revision` rules of the README's
//! "Use it"), in one place.
//!
//! [`apply`] is pure: the store calls it inside its transaction with the current object and
//! persists whatever it returns (once the object's kind has found it whole), so the rules
//! are the same for every storage backend.

use std::sync::Arc;

use uuid::Uuid;

use super::config::Config;
use super::document::Document;
use super::kind::Kinds;
use super::path::ObjectPath;
use super::{FieldError, Metadata, PolicyObject};

/// A write a client asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Put(Document),
    Patch(Document),
    Delete,
}

impl Change {
    /// Whether the change can only create the object: a PUT without `_revision` creates it
    /// where nothing is stored, and is refused where something is ([`apply`]); it never
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

/// Applies `change` to `current`, the object stored at `path` (if any).
///
/// `Ok(None)` means nothing changes: a DELETE of an absent object, which still succeeds.
pub fn apply(
    current: Option<&PolicyObject>,
    path: ObjectPath,
    change: Change,
    stamp: Stamp<'_>,
) -> Result<Option<Applied>, WriteRejection> {
    let (operation, object) = match (current, change) {
        (None, Change::Delete) => return Ok(None),
        (None, Change::Put(doc) | Change::Patch(doc)) => {
            let config = Config::create(doc, path.id());
            (Operation::Create, created(path, config, stamp))
        }
        (Some(stored), Change::Put(doc)) => {
            let Some(requested) = doc.revision else {
                return Err(WriteRejection::AlreadyExists {
                    path: path.to_string(),
                });
            };
            check_revision(stored, requested)?;
            let config = Config::create(doc, path.id());
            (Operation::Replace, changed(stored, config, stamp)?)
        }
        (Some(stored), Change::Patch(doc)) => {
            if let Some(requested) = doc.revision {
                check_revision(stored, requested)?;
            }
            let config = stored.config.clone().overlaid_with(doc, path.id())?;
            (Operation::Patch, changed(stored, config, stamp)?)
        }
        (Some(stored), Change::Delete) => {
            let mut object = changed(stored, stored.config.clone(), stamp)?;
            object.meta.marked_for_delete = true;
            (Operation::Delete, object)
        }
    };
    Ok(Some(Applied {
        operation,
        object: Arc::new(object),
    }))
}

/// `applied`, once its object's kind finds it whole (a create's, a replace's, what a PATCH
/// left): a write that would leave an incomplete object is refused.
pub fn complete(
    applied: Option<Applied>,
    kinds: &dyn Kinds,
) -> Result<Option<Applied>, WriteRejection> {
    if let Some(applied) = &applied {
        if applied.operation != Operation::Delete {
            let object = &applied.object;
            kinds.at(&object.path).complete(object.config.members())?;
        }
    }
    Ok(applied)
}

fn check_revision(stored: &PolicyObject, requested: i64) -> Result<(), WriteRejection> {
    if stored.meta.revision == requested {
        Ok(())
    } else {
        Err(WriteRejection::RevisionMismatch {
            current: stored.meta.revision,
            requested,
        })
    }
}

fn created(path: ObjectPath, config: Config, stamp: Stamp<'_>) -> PolicyObject {
    PolicyObject::new(
        path,
        config,
        Metadata {
            unique_id: stamp.unique_id,
            revision: 0,
            create_time: stamp.now,
            create_user: stamp.user.to_owned(),
            last_modified_time: stamp.now,
            last_modified_user: stamp.user.to_owned(),
            marked_for_delete: false,
        },
    )
}

/// The next revision of `stored`: `unique_id` and `_create_*` kept, `_revision` + 1, and a
/// modification time that never goes backwards even if the clock does.
///
/// An object imported at the largest `_revision` there is cannot change again.
fn changed(
    stored: &PolicyObject,
    config: Config,
    stamp: Stamp<'_>,
) -> Result<PolicyObject, WriteRejection> {
    let revision = stored.meta.revision.checked_add(1).ok_or_else(|| {
        FieldError::new(
            "_revision",
            "is at its largest; the object cannot change again",
        )
    })?;
    let meta = Metadata {
        revision,
        last_modified_time: stamp.now.max(stored.meta.last_modified_time),
        last_modified_user: stamp.user.to_owned(),
        ..stored.meta.clone()
    };
    Ok(PolicyObject::new(stored.path.clone(), config, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kind::{CatalogOnly, Kinds};
    use serde_json::json;

    const T0: Stamp<'static> = Stamp {
        user: "admin",
        now: 1_000,
        unique_id: uuid::Uuid::nil(),
    };

    fn path() -> ObjectPath {
        ObjectPath::from_stored("/infra/segments/web").unwrap()
    }

    fn doc(body: serde_json::Value) -> Document {
        CatalogOnly
            .document(body.as_object().unwrap().clone(), &path())
            .unwrap()
    }

    fn minimal() -> serde_json::Value {
        json!({"description": "d"})
    }

    fn create() -> PolicyObject {
        let applied = apply(None, path(), Change::Put(doc(minimal())), T0).unwrap();
        Arc::unwrap_or_clone(applied.unwrap().object)
    }

    #[test]
    fn only_a_put_without_revision_only_creates() {
        let stored = create();
        let put = Change::Put(doc(minimal()));
        assert!(put.only_creates());
        assert!(matches!(
            apply(Some(&stored), path(), put, T0),
            Err(WriteRejection::AlreadyExists { .. })
        ));
        let mut body = minimal();
        body["_revision"] = json!(0);
        for change in [
            Change::Put(doc(body)),
            Change::Patch(doc(minimal())),
            Change::Delete,
        ] {
            assert!(!change.only_creates(), "{change:?}");
            let applied = apply(Some(&stored), path(), change, T0).unwrap();
            assert_ne!(applied.unwrap().operation, Operation::Create);
        }
    }

    #[test]
    fn replace_keeps_identity_and_bumps_revision() {
        let stored = create();
        let mut body = minimal();
        body["_revision"] = json!(0);
        let later = Stamp {
            user: "bob",
            now: 500, // the clock went backwards
            unique_id: Uuid::nil(),
        };
        let next = apply(Some(&stored), path(), Change::Put(doc(body)), later)
            .unwrap()
            .unwrap();
        assert_eq!(next.operation, Operation::Replace);
        assert_eq!(next.object.meta.unique_id, stored.meta.unique_id);
        assert_eq!(next.object.meta.revision, 1);
        assert_eq!(next.object.meta.create_user, "admin");
        assert_eq!(next.object.meta.last_modified_user, "bob");
        assert_eq!(next.object.meta.last_modified_time, 1_000);
    }

    #[test]
    fn section_three_rejections() {
        let stored = create();
        let err = apply(Some(&stored), path(), Change::Put(doc(minimal())), T0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cannot create an object with path=[/infra/segments/web] as it already exists."
        );
        let err = apply(
            Some(&stored),
            path(),
            Change::Patch(doc(json!({"_revision": 4}))),
            T0,
        )
        .unwrap_err();
        assert_eq!(
            err,
            WriteRejection::RevisionMismatch {
                current: 0,
                requested: 4
            }
        );
        assert_eq!(apply(None, path(), Change::Delete, T0), Ok(None));
    }

    #[test]
    fn the_largest_revision_cannot_grow() {
        let mut stored = create();
        stored.meta.revision = i64::MAX;
        let err = apply(Some(&stored), path(), Change::Delete, T0).unwrap_err();
        assert!(matches!(err, WriteRejection::Invalid(ref field) if field.field == "_revision"));
    }
}
