//! Rows as the stores read them, whatever the engine: the columns of the tables every engine
//! has (the same names and types), and how a row becomes a domain value.

use std::str::FromStr;

use serde_json::value::RawValue;
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::generic::CatalogConfig;
use crate::domain::history::{ChangeEvent, RevisionRecord};
use crate::domain::object::RESOURCE_TYPE;
use crate::domain::results::{Observation, RunResult, Script, TraceflowStatus};
use crate::domain::run::Run;
use crate::domain::{Config, Metadata, ObjectPath, Operation, PolicyObject, TraceflowConfig};
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
        let config = if self.resource_type == RESOURCE_TYPE {
            TraceflowConfig::from_stored_json(&self.config, path.id())
                .map(|config| Config::Traceflow(Box::new(config)))
        } else {
            CatalogConfig::from_stored_json(&self.config, &self.resource_type).map(Config::Catalog)
        }
        .map_err(|err| corrupt(err.to_string()))?;
        let unique_id = Uuid::from_str(&self.unique_id).map_err(|err| corrupt(err.to_string()))?;
        Ok(PolicyObject {
            path,
            config,
            meta: Metadata {
                unique_id,
                revision: self.revision,
                create_time: self.create_time,
                create_user: self.create_user,
                last_modified_time: self.last_modified_time,
                last_modified_user: self.last_modified_user,
                marked_for_delete: false,
            },
        })
    }
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

/// The current run of one traceflow, as `antrea_traceflow_runs` keeps it.
#[derive(FromRow)]
pub(in crate::storage) struct RunRow {
    path: String,
    run: i64,
    started_at: i64,
    ready_at: i64,
    status: String,
    observations: String,
}

impl RunRow {
    pub(in crate::storage) fn into_run(self) -> Result<Run, StoreError> {
        let corrupt = |what: String| StoreError::Internal(format!("run of {}: {what}", self.path));
        let status: TraceflowStatus =
            serde_json::from_str(&self.status).map_err(|err| corrupt(err.to_string()))?;
        let observations: Vec<Observation> =
            serde_json::from_str(&self.observations).map_err(|err| corrupt(err.to_string()))?;
        Ok(Run {
            number: self.run,
            started: self.started_at,
            ready_at: self.ready_at,
            result: RunResult {
                status,
                observations,
            },
        })
    }
}

/// A stored script, read back.
pub(in crate::storage) fn script_from_row(id: &str, json: &str) -> Result<Script, StoreError> {
    Script::from_stored_json(json)
        .map_err(|err| StoreError::Internal(format!("stored script of {id:?}: {err}")))
}

/// A history row as the events stream reads it (`queries::changes`).
#[derive(FromRow)]
pub(in crate::storage) struct ChangeRow {
    seq: i64,
    path: String,
    operation: String,
    revision: i64,
    change_user: String,
    change_time: i64,
}

impl ChangeRow {
    pub(in crate::storage) fn into_event(self) -> Result<ChangeEvent, StoreError> {
        let operation = Operation::parse(&self.operation).ok_or_else(|| {
            StoreError::Internal(format!("history row {}: unknown operation", self.seq))
        })?;
        Ok(ChangeEvent {
            position: self.seq,
            path: self.path,
            operation,
            revision: self.revision,
            user: self.change_user,
            time: self.change_time,
        })
    }
}
