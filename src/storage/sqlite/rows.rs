//! Rows as both drivers (sqlx for readers, rusqlite for the writer) read them.

use std::str::FromStr;
use std::sync::LazyLock;

use serde_json::value::RawValue;
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::history::RevisionRecord;
use crate::domain::results::{Observation, RunResult, Script, TraceflowStatus};
use crate::domain::run::Run;
use crate::domain::{Metadata, ObjectId, Operation, Traceflow, TraceflowConfig};
use crate::storage::StoreError;

/// The columns of `policy_objects` an object is read from ([`ObjectRow`]).
pub(super) const OBJECT_COLUMNS: &str = "id, config, unique_id, revision, create_time, create_user,
     last_modified_time, last_modified_user";

/// One object by its path, as an [`ObjectRow`]: the writer's lookup and the readers' GET.
pub(super) static OBJECT_BY_PATH: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE path = ?1"));

#[derive(FromRow)]
pub(super) struct ObjectRow {
    id: String,
    config: String,
    unique_id: String,
    revision: i64,
    create_time: i64,
    create_user: String,
    last_modified_time: i64,
    last_modified_user: String,
}

impl ObjectRow {
    /// The row of a rusqlite query selecting [`OBJECT_COLUMNS`].
    pub(super) fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            config: row.get(1)?,
            unique_id: row.get(2)?,
            revision: row.get(3)?,
            create_time: row.get(4)?,
            create_user: row.get(5)?,
            last_modified_time: row.get(6)?,
            last_modified_user: row.get(7)?,
        })
    }

    pub(super) fn into_traceflow(self) -> Result<Traceflow, StoreError> {
        let corrupt =
            |what: String| StoreError::Internal(format!("stored object {:?}: {what}", self.id));
        let id = ObjectId::parse(&self.id).map_err(|err| corrupt(err.to_string()))?;
        let config = TraceflowConfig::from_stored_json(&self.config, &id)
            .map_err(|err| corrupt(err.to_string()))?;
        let unique_id = Uuid::from_str(&self.unique_id).map_err(|err| corrupt(err.to_string()))?;
        Ok(Traceflow {
            id,
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
pub(super) struct RevisionRow {
    seq: i64,
    path: String,
    revision: i64,
    operation: String,
    object: String,
    change_time: i64,
    change_user: String,
}

impl RevisionRow {
    pub(super) fn into_record(self) -> Result<RevisionRecord, StoreError> {
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
pub(super) struct RunRow {
    path: String,
    run: i64,
    started_at: i64,
    ready_at: i64,
    status: String,
    observations: String,
}

impl RunRow {
    pub(super) fn into_run(self) -> Result<Run, StoreError> {
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
pub(super) fn script_from_row(id: &str, json: &str) -> Result<Script, StoreError> {
    Script::from_stored_json(json)
        .map_err(|err| StoreError::Internal(format!("stored script of {id:?}: {err}")))
}
