//! What a write does to the object already stored (the `_revision` rules of the README's
//! "Use it"), in one place.
//!
//! [`apply`] is pure: the store calls it inside its transaction with the current object and
//! persists whatever it returns (once the object's kind has found it whole), so the rules
//! are the same for every storage backend.

use std::sync::Arc;

use super::change::{Applied, Change, Operation, Stamp, WriteRejection};
use super::config::Config;
use super::kind::Kinds;
use super::path::ObjectPath;
use super::{FieldError, Metadata, PolicyObject};

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
    use crate::domain::Document;
    use serde_json::json;
    use uuid::Uuid;

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
