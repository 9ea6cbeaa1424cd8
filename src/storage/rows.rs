//! Rows as the stores read them, whatever the engine: the columns of the tables every engine
//! has (the same names and types), and how a row becomes a domain value.

use std::str::FromStr;

use serde_json::value::RawValue;
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::history::{
    ChangeEvent, RevisionRecord, StoreEvent, WholeOperation, WholeStoreEvent,
};
use crate::domain::relations;
use crate::domain::{Config, Metadata, ObjectPath, Operation, PolicyObject};
use crate::storage::StoreError;

/// The columns of `policy_objects` an object is read from ([`ObjectRow`]).
pub(in crate::storage) const OBJECT_COLUMNS: &str =
    "path, resource_type, config, unique_id, revision, create_time, create_user,
     last_modified_time, last_modified_user";

#[derive(FromRow)]
pub(in crate::storage) struct ObjectRow {
    pub(in crate::storage) path: String,
    pub(in crate::storage) resource_type: String,
    pub(in crate::storage) config: String,
    pub(in crate::storage) unique_id: String,
    pub(in crate::storage) revision: i64,
    pub(in crate::storage) create_time: i64,
    pub(in crate::storage) create_user: String,
    pub(in crate::storage) last_modified_time: i64,
    pub(in crate::storage) last_modified_user: String,
}

impl ObjectRow {
    pub(in crate::storage) fn into_object(self) -> Result<PolicyObject, StoreError> {
        let corrupt =
            |what: String| StoreError::Internal(format!("stored object {:?}: {what}", self.path));
        let path = ObjectPath::from_stored(&self.path).map_err(|err| corrupt(err.to_string()))?;
        let config = Config::from_stored_json(&self.config, &self.resource_type)
            .map_err(|err| corrupt(err.to_string()))?;
        let unique_id = Uuid::from_str(&self.unique_id).map_err(|err| corrupt(err.to_string()))?;
        let meta = Metadata {
            unique_id,
            revision: self.revision,
            create_time: self.create_time,
            create_user: self.create_user,
            last_modified_time: self.last_modified_time,
            last_modified_user: self.last_modified_user,
            marked_for_delete: false,
        };
        Ok(PolicyObject::new(path, config, meta))
    }
}

/// What an export carries of the rows of every object: every object but the defaults still
/// as shipped (every store has those).
pub(in crate::storage) fn exported(rows: Vec<ObjectRow>) -> Result<Vec<PolicyObject>, StoreError> {
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows {
        let object = row.into_object()?;
        if !relations::is_as_shipped(&object) {
            objects.push(object);
        }
    }
    Ok(objects)
}

#[derive(FromRow)]
pub(in crate::storage) struct RevisionRow {
    seq: i64,
    path: String,
    revision: i64,
    operation: String,
    object: String,
    change_time: i64,
    change_user: String,
}

impl RevisionRow {
    pub(in crate::storage) fn into_record(self) -> Result<RevisionRecord, StoreError> {
        let seq = self.seq;
        let corrupt = |what: &str| StoreError::Internal(format!("history row {seq}: {what}"));
        let operation =
            Operation::parse(&self.operation).ok_or_else(|| corrupt("unknown operation"))?;
        let object = RawValue::from_string(self.object).map_err(|_| corrupt("invalid JSON"))?;
        Ok(RevisionRecord {
            path: self.path,
            revision: self.revision,
            operation,
            change_user: self.change_user,
            change_time: self.change_time,
            object,
            seq,
        })
    }
}

/// A row of the events stream (`queries::changes`): a history row, or a row of
/// `store_events` (no path or revision; the operation's answer in `detail`).
#[derive(FromRow)]
pub(in crate::storage) struct EventRow {
    position: i64,
    path: Option<String>,
    operation: String,
    revision: Option<i64>,
    change_user: String,
    change_time: i64,
    detail: Option<String>,
}

impl EventRow {
    pub(in crate::storage) fn into_event(self) -> Result<StoreEvent, StoreError> {
        let corrupt = |what: &str| StoreError::Internal(format!("event {}: {what}", self.position));
        if let (Some(path), Some(revision)) = (self.path, self.revision) {
            let operation =
                Operation::parse(&self.operation).ok_or_else(|| corrupt("unknown operation"))?;
            return Ok(StoreEvent::Change(ChangeEvent {
                position: self.position,
                path,
                operation,
                revision,
                user: self.change_user,
                time: self.change_time,
            }));
        }
        let operation =
            WholeOperation::parse(&self.operation).ok_or_else(|| corrupt("unknown operation"))?;
        let detail = serde_json::from_str(self.detail.as_deref().unwrap_or("{}"))
            .map_err(|_| corrupt("its detail is not a JSON object"))?;
        Ok(StoreEvent::Whole(WholeStoreEvent {
            position: self.position,
            operation,
            user: self.change_user,
            time: self.change_time,
            detail,
        }))
    }
}
