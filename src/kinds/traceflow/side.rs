//! A traceflow's rows beside its config: its current run (`antrea_traceflow_runs`), the runs
//! that run replaced (`antrea_traceflow_run_history`), and the script set for its id
//! (`antrea_traceflow_scripts`, which may be set before the traceflow exists and outlives
//! it). What each write does to them is decided here; the store's steps carry it out in the
//! write's own transaction, on either engine.
//!
//! A run row keeps either its result (a scripted run, or the time-out of `results.mode =
//! "none"`) or, for a simulated run, only its seed: the result is a pure function of the
//! traceflow's config, the run's start and the seed, computed when it is read. A run a new
//! one replaces joins the earlier runs with its result computed then, from the config it
//! ran with.

use std::sync::Arc;

use super::config::TraceflowConfig;
use super::path_of;
use super::results::{Observation, RunResult, Script, TraceflowStatus};
use super::run::{Outcome, ResultsPolicy, Run, RunNumber, StartedRun};
use crate::domain::{ObjectId, ObjectPath, Operation, PolicyObject};
use crate::storage::side::{
    CatchUp, Column, SideChange, SideDone, SideRead, SideState, SideTable, SideTask, SideWrite,
};
use crate::storage::tx::{Current, Moment, Row, SqlType, SqlValue};
use crate::storage::StoreError;

const RUNS: &str = "antrea_traceflow_runs";
const EARLIER_RUNS: &str = "antrea_traceflow_run_history";
const SCRIPTS: &str = "antrea_traceflow_scripts";

/// The columns of the current run a write reads.
const RUN_READ: &[Column] = &[
    Column {
        name: "unique_id",
        ty: SqlType::Text,
    },
    Column {
        name: "run",
        ty: SqlType::Int,
    },
    Column {
        name: "started_at",
        ty: SqlType::Int,
    },
    Column {
        name: "ready_at",
        ty: SqlType::Int,
    },
    Column {
        name: "seed",
        ty: SqlType::Int,
    },
    Column {
        name: "status",
        ty: SqlType::Text,
    },
    Column {
        name: "observations",
        ty: SqlType::Text,
    },
];

const SCRIPT_READ: &[Column] = &[Column {
    name: "script",
    ty: SqlType::Text,
}];

/// The columns of a run row, as written.
const RUN_COLUMNS: &[&str] = &[
    "path",
    "id",
    "unique_id",
    "run",
    "started_at",
    "ready_at",
    "seed",
    "status",
    "observations",
];

const EARLIER_RUN_COLUMNS: &[&str] = &[
    "path",
    "run",
    "unique_id",
    "started_at",
    "ready_at",
    "status",
    "observations",
];

/// The kind's tables and the snapshots' copies of them.
const TABLES: &[SideTable] = &[
    SideTable {
        live: RUNS,
        saved: "store_snapshot_runs",
        columns: "path, id, unique_id, run, started_at, ready_at, seed, status, observations",
    },
    SideTable {
        live: SCRIPTS,
        saved: "store_snapshot_scripts",
        columns: "id, script",
    },
    SideTable {
        live: EARLIER_RUNS,
        saved: "store_snapshot_run_history",
        columns: "path, run, unique_id, started_at, ready_at, status, observations",
    },
];

/// The rows of traceflows, with where their runs' results come from.
pub struct Runs {
    pub results: ResultsPolicy,
}

/// What a traceflow's write reads beside it: its current run, and the script of its id.
fn reads(path: &ObjectPath) -> Vec<SideRead> {
    vec![
        SideRead {
            table: RUNS,
            key: "path",
            value: path.as_str().to_owned(),
            columns: RUN_READ,
            with_object: true,
        },
        SideRead {
            table: SCRIPTS,
            key: "id",
            value: path.id().as_str().to_owned(),
            columns: SCRIPT_READ,
            // A script may be set before its traceflow is created.
            with_object: false,
        },
    ]
}

/// The current run of `object`, as [`reads`] read it: `None` where there is none, or where
/// the row is an earlier object's of the same path.
fn current_run(object: &PolicyObject, row: Option<&Row>) -> Result<Option<StartedRun>, StoreError> {
    let Some(row) = row else {
        return Ok(None);
    };
    if row[0].as_text() != Some(&object.meta.unique_id.to_string()) {
        return Ok(None);
    }
    started_run(object.path.as_str(), &row[1..]).map(Some)
}

/// A run row's `run, started_at, ready_at, seed, status, observations`.
fn started_run(path: &str, row: &[SqlValue]) -> Result<StartedRun, StoreError> {
    let corrupt =
        |what: &dyn std::fmt::Display| StoreError::Internal(format!("run of {path}: {what}"));
    let outcome = match (row[3].as_int(), row[4].as_text(), row[5].as_text()) {
        // The seed's 64 bits, as they were stored.
        (Some(seed), None, None) => Outcome::Simulated { seed: seed as u64 },
        (None, Some(status), Some(observations)) => {
            let status: TraceflowStatus = serde_json::from_str(status).map_err(|e| corrupt(&e))?;
            let observations: Vec<Observation> =
                serde_json::from_str(observations).map_err(|e| corrupt(&e))?;
            Outcome::Decided(RunResult {
                status,
                observations,
            })
        }
        _ => return Err(corrupt(&"neither a seed nor a result")),
    };
    Ok(StartedRun {
        number: row[0].as_int().unwrap_or_default(),
        started: row[1].as_int().unwrap_or_default(),
        ready_at: row[2].as_int().unwrap_or_default(),
        outcome,
    })
}

/// The script of the read row, if one is set.
fn script(id: &ObjectId, row: Option<&Row>) -> Result<Option<Script>, StoreError> {
    row.and_then(|row| row[0].as_text())
        .map(|json| stored_script(id, json))
        .transpose()
}

fn stored_script(id: &ObjectId, json: &str) -> Result<Script, StoreError> {
    Script::from_stored_json(json)
        .map_err(|err| StoreError::Internal(format!("stored script of {id:?}: {err}")))
}

/// The config of the traceflow `object`, as it was stored.
fn config_of(object: &PolicyObject) -> Result<TraceflowConfig, StoreError> {
    TraceflowConfig::of(&object.config)
        .map_err(|err| StoreError::Internal(format!("stored traceflow {}: {err}", object.path)))
}

/// A result's status and observations, as a run row keeps them.
fn result_values(result: &RunResult) -> (SqlValue, SqlValue) {
    (
        SqlValue::text(serde_json::to_string(&result.status).expect("a status serializes")),
        SqlValue::text(
            serde_json::to_string(&result.observations).expect("observations serialize"),
        ),
    )
}

impl Runs {
    /// Starts run `number` of `object`, whose config is `config` (and whose current run, as
    /// read, is `current`): the script's result where one is set, else the policy's. A new
    /// run replaces the current one, which joins the earlier runs with its result computed
    /// from the config it ran with (`ran_with`, where it is not `config`); the same run
    /// restarted (a script set meanwhile) replaces nothing.
    fn start(
        &self,
        (object, config): (&PolicyObject, &TraceflowConfig),
        (number, current): (RunNumber, Option<StartedRun>),
        ran_with: Option<&TraceflowConfig>,
        script: Option<&Script>,
        at: Moment,
    ) -> Result<Vec<SideWrite>, StoreError> {
        let number = number.after(current.as_ref().map(|run| run.number));
        let path = object.path.as_str();
        let unique_id = object.meta.unique_id.to_string();
        let mut writes = Vec::new();
        let first = current.is_none();
        if let Some(replaced) = current.filter(|current| current.number != number) {
            let replaced = replaced.resolve(ran_with.unwrap_or(config));
            let (status, observations) = result_values(&replaced.result);
            writes.push(SideWrite::Insert {
                table: EARLIER_RUNS,
                columns: EARLIER_RUN_COLUMNS,
                values: vec![
                    SqlValue::text(path),
                    SqlValue::int(replaced.number),
                    SqlValue::text(&unique_id),
                    SqlValue::int(replaced.started),
                    SqlValue::int(replaced.ready_at),
                    status,
                    observations,
                ],
            });
        }
        let run = StartedRun::start(number, config, script, &self.results, at);
        let (seed, status, observations) = match &run.outcome {
            // Stored as the engines store integers: the seed's 64 bits, read back as they were.
            Outcome::Simulated { seed } => (
                SqlValue::int(*seed as i64),
                SqlValue::Text(None),
                SqlValue::Text(None),
            ),
            Outcome::Decided(result) => {
                let (status, observations) = result_values(result);
                (SqlValue::Int(None), status, observations)
            }
        };
        let values = vec![
            SqlValue::text(path),
            SqlValue::text(object.id().as_str()),
            SqlValue::text(unique_id),
            SqlValue::int(run.number),
            SqlValue::int(run.started),
            SqlValue::int(run.ready_at),
            seed,
            status,
            observations,
        ];
        // A traceflow's first run is a plain insert; any other replaces the current row.
        writes.push(match first {
            true => SideWrite::Insert {
                table: RUNS,
                columns: RUN_COLUMNS,
                values,
            },
            false => SideWrite::Upsert {
                table: RUNS,
                key: &["path"],
                columns: RUN_COLUMNS,
                values,
            },
        });
        Ok(writes)
    }

    /// What a retrace, a script set or a script deleted writes of the traceflow `id`'s rows.
    fn side_task(
        self: &Arc<Self>,
        id: &ObjectId,
        run: impl FnOnce(&Runs, &Current, Moment) -> Result<SideDone, StoreError> + Send + 'static,
    ) -> SideTask {
        let path = path_of(id);
        let runs = Arc::clone(self);
        SideTask {
            reads: reads(&path),
            path,
            run: Box::new(move |current, at| run(&runs, current, at)),
        }
    }

    /// Starts a new run of the traceflow `id`, answering the traceflow
    /// (`Option<Arc<PolicyObject>>`, `None` where there is none).
    pub fn retrace(self: &Arc<Self>, id: &ObjectId) -> SideTask {
        self.side_task(id, |runs, current, at| {
            let Some(object) = &current.object else {
                return Ok(unchanged(None::<Arc<PolicyObject>>));
            };
            let run = current_run(object, current.side[0].as_ref())?;
            let script = script(object.id(), current.side[1].as_ref())?;
            let config = config_of(object)?;
            let next = (RunNumber::Next, run);
            let writes = runs.start((object, &config), next, None, script.as_ref(), at)?;
            Ok(SideDone {
                writes,
                changed: true,
                answer: Box::new(Some(Arc::new(object.clone()))),
            })
        })
    }

    /// Sets the script of `id`: the traceflow's current run, if there is one, takes it at
    /// once (its clock restarted).
    pub fn set_script(self: &Arc<Self>, id: &ObjectId, script: Script) -> SideTask {
        self.side_task(id, move |runs, current, at| {
            let mut writes = vec![SideWrite::Upsert {
                table: SCRIPTS,
                key: &["id"],
                columns: &["id", "script"],
                values: vec![
                    SqlValue::text(current.reads[1].value.clone()),
                    SqlValue::text(script.to_json()),
                ],
            }];
            if let Some(object) = &current.object {
                let run = current_run(object, current.side[0].as_ref())?;
                let config = config_of(object)?;
                let restarted = (RunNumber::Same, run);
                writes.extend(runs.start((object, &config), restarted, None, Some(&script), at)?);
            }
            Ok(SideDone {
                writes,
                changed: true,
                answer: Box::new(()),
            })
        })
    }

    /// Deletes the script of `id`, if any; the current run keeps its result.
    pub fn delete_script(self: &Arc<Self>, id: &ObjectId) -> SideTask {
        self.side_task(id, |_, current, _| {
            Ok(SideDone {
                writes: vec![SideWrite::Delete {
                    table: SCRIPTS,
                    column: "id",
                    value: SqlValue::text(current.reads[1].value.clone()),
                }],
                changed: true,
                answer: Box::new(()),
            })
        })
    }
}

/// A task's answer where it wrote nothing.
fn unchanged<T: Send + 'static>(answer: T) -> SideDone {
    SideDone {
        writes: Vec::new(),
        changed: false,
        answer: Box::new(answer),
    }
}

impl SideState for Runs {
    fn reads(&self, path: &ObjectPath) -> Vec<SideRead> {
        reads(path)
    }

    /// A create starts the first run, a replace or a PATCH the next, a delete removes every
    /// run of the traceflow (its script stays).
    fn writes(&self, change: &SideChange<'_>) -> Result<Vec<SideWrite>, StoreError> {
        let object = &change.applied.object;
        let number = match change.applied.operation {
            Operation::Delete => {
                let path = SqlValue::text(object.path.as_str());
                return Ok([RUNS, EARLIER_RUNS]
                    .map(|table| SideWrite::Delete {
                        table,
                        column: "path",
                        value: path.clone(),
                    })
                    .into());
            }
            Operation::Create => RunNumber::First,
            Operation::Replace | Operation::Patch => RunNumber::Next,
        };
        let run = match number {
            RunNumber::First => None,
            _ => current_run(object, change.rows[0].as_ref())?,
        };
        let script = script(object.id(), change.rows[1].as_ref())?;
        let config = config_of(object)?;
        // The current run ran with the config before this write, where there is a run.
        let ran_with = match (&run, change.before) {
            (Some(_), Some(before)) => Some(config_of(before)?),
            _ => None,
        };
        let started = (number, run);
        self.start(
            (object, &config),
            started,
            ran_with.as_ref(),
            script.as_ref(),
            change.at,
        )
    }

    fn tables(&self) -> &'static [SideTable] {
        TABLES
    }

    /// Traceflows stored before runs existed get a run at the first start after the
    /// migration that brought runs.
    fn catch_up(&self) -> Option<CatchUp> {
        Some(CatchUp {
            mark: "start_runs",
            condition: WITHOUT_RUN,
        })
    }

    fn caught_up(&self, object: &PolicyObject, at: Moment) -> Result<Vec<SideWrite>, StoreError> {
        let config = config_of(object)?;
        self.start((object, &config), (RunNumber::Next, None), None, None, at)
    }
}

/// The traceflows without a run.
const WITHOUT_RUN: &str = "resource_type = 'AntreaTraceflowConfig'
     AND path NOT IN (SELECT path FROM antrea_traceflow_runs)";

/// The columns a run is read from (run, started_at, ready_at, seed, status, observations),
/// and those with its traceflow's config after them.
const RUN: &[SqlType] = &[INT, INT, INT, INT, TEXT, TEXT];
const RUN_AND_CONFIG: &[SqlType] = &[INT, INT, INT, INT, TEXT, TEXT, TEXT];
const INT: SqlType = SqlType::Int;
const TEXT: SqlType = SqlType::Text;

/// The reads of a traceflow's runs and script, on the store's readers.
pub mod reads {
    use super::*;
    use crate::storage::side::RowsQuery;
    use crate::storage::SideStore;

    /// The current run of the traceflow `id`, with its result (a simulated run's computed
    /// from its traceflow's config, read with it); `None` where it has none.
    pub async fn current_run(
        store: &(impl SideStore + ?Sized),
        id: &ObjectId,
    ) -> Result<Option<Run>, StoreError> {
        let path = path_of(id);
        let rows = store
            .side_rows(RowsQuery::keyed(
                "SELECT r.run, r.started_at, r.ready_at, r.seed, r.status, r.observations,
                             o.config
                      FROM antrea_traceflow_runs AS r
                      LEFT JOIN policy_objects AS o ON o.path = r.path
                      WHERE r.path = $1",
                path.as_str(),
                RUN_AND_CONFIG,
            ))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let started = started_run(path.as_str(), &row[..6])?;
        started
            .resolve_with(|| {
                let json = row[6].as_text().ok_or_else(|| {
                    StoreError::Internal(format!("run of {path}: simulated, without its config"))
                })?;
                TraceflowConfig::from_stored_json(json)
                    .map_err(|err| StoreError::Internal(format!("stored traceflow {path}: {err}")))
            })
            .map(Some)
    }

    /// The runs of the traceflow `id` that later ones replaced, newest first, each with the
    /// result it had.
    pub async fn earlier_runs(
        store: &(impl SideStore + ?Sized),
        id: &ObjectId,
    ) -> Result<Vec<Run>, StoreError> {
        let path = path_of(id);
        let rows = store
            .side_rows(RowsQuery::keyed(
                "SELECT run, started_at, ready_at, CAST(NULL AS BIGINT), status, observations
                      FROM antrea_traceflow_run_history WHERE path = $1 ORDER BY run DESC",
                path.as_str(),
                RUN,
            ))
            .await?;
        rows.iter()
            .map(|row| {
                started_run(path.as_str(), row)?.resolve_with(|| {
                    Err::<TraceflowConfig, _>(StoreError::Internal(format!(
                        "earlier run of {path}: simulated, without its result"
                    )))
                })
            })
            .collect()
    }

    /// The script set for the traceflow `id`, if any.
    pub async fn script(
        store: &(impl SideStore + ?Sized),
        id: &ObjectId,
    ) -> Result<Option<Script>, StoreError> {
        let rows = store
            .side_rows(RowsQuery::keyed(
                "SELECT script FROM antrea_traceflow_scripts WHERE id = $1",
                id.as_str(),
                &[SqlType::Text],
            ))
            .await?;
        super::script(id, rows.first())
    }
}
