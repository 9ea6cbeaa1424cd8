//! A kind's own rows beside its objects (a traceflow's runs and scripts): what the kind
//! declares, and the engines carry out. A kind names the rows it reads with an object it
//! writes ([`SideRead`]), computes what a write does to them ([`SideWrite`]), and names its
//! tables (which snapshots copy and resets empty); it never touches a connection. The steps
//! read and write them in the object's own statement where the engine can (PostgreSQL), and
//! check them for races as they check the object's row.

use std::any::Any;

use crate::domain::kind::Kinds;
use crate::domain::{Applied, ObjectPath, PolicyObject};

pub use super::tx::{Column, SideRead, SideWrite};
use super::tx::{Current, Moment, Row, SqlType, SqlValue};
use super::StoreError;

/// A table of a kind's, and the table its rows are saved in by a snapshot (which has the
/// same columns and, first, the snapshot's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideTable {
    pub live: &'static str,
    pub saved: &'static str,
    pub columns: &'static str,
}

/// What a write of an object did, for its kind to say what that does to its rows.
pub struct SideChange<'a> {
    pub applied: &'a Applied,
    /// The object as it was stored before the write (none for a create).
    pub before: Option<&'a PolicyObject>,
    /// The rows the kind asked for ([`SideState::reads`]), as read before the write.
    pub rows: &'a [Option<Row>],
    pub at: Moment,
}

/// Work owed once at a start after a migration, marked in `store_pending`: for every object
/// of `policy_objects` that `condition` (SQL on its columns) holds for, what
/// [`SideState::caught_up`] writes.
#[derive(Debug, Clone, Copy)]
pub struct CatchUp {
    pub mark: &'static str,
    pub condition: &'static str,
}

/// A kind's rows beside its objects.
pub trait SideState: Send + Sync {
    /// The rows the kind reads with the object at `path` it writes.
    fn reads(&self, path: &ObjectPath) -> Vec<SideRead>;

    /// What a write of an object of this kind does to the kind's rows.
    fn writes(&self, change: &SideChange<'_>) -> Result<Vec<SideWrite>, StoreError>;

    /// The kind's tables, which snapshots copy and resets empty.
    fn tables(&self) -> &'static [SideTable];

    /// Work the kind owes the store once, after a migration.
    fn catch_up(&self) -> Option<CatchUp> {
        None
    }

    /// What the catch-up writes for `object`.
    fn caught_up(&self, object: &PolicyObject, at: Moment) -> Result<Vec<SideWrite>, StoreError> {
        let _ = (object, at);
        Ok(Vec::new())
    }
}

/// The registry of kinds as the store asks it: which kinds keep rows of their own.
pub trait StoreKinds: Kinds {
    /// The rows of the kind of the object at `path`, if its kind keeps any.
    fn side_at(&self, path: &ObjectPath) -> Option<&dyn SideState>;

    /// Every kind that keeps rows of its own.
    fn side_states(&self) -> Vec<&dyn SideState>;
}

/// What a change of a kind's rows answers: whatever the kind wants back.
pub type SideAnswer = Box<dyn Any + Send>;

/// The answer of a [`SideTask`] as the kind made it: a `T`.
pub fn answered<T: Any>(answer: SideAnswer) -> Result<T, StoreError> {
    answer.downcast::<T>().map(|answer| *answer).map_err(|_| {
        StoreError::Internal(format!(
            "a change of a kind's rows answered other than {}",
            std::any::type_name::<T>()
        ))
    })
}

/// A change of a kind's rows that writes no object (a retrace, a script set): what is stored
/// at `path` is read (with the kind's rows, under the store's lock), and `run` says what to
/// write, whether the store changed (what moves the virtual clock), and what to answer.
pub struct SideTask {
    pub path: ObjectPath,
    pub reads: Vec<SideRead>,
    #[allow(clippy::type_complexity, reason = "a boxed closure, said once")]
    pub run: Box<dyn FnOnce(&Current, Moment) -> Result<SideDone, StoreError> + Send>,
}

/// What a [`SideTask`] did.
pub struct SideDone {
    pub writes: Vec<SideWrite>,
    pub changed: bool,
    pub answer: SideAnswer,
}

/// A query a kind reads its rows with, on the store's readers: `sql` with parameters `$1`,
/// `$2`, ..., its columns read as `types`.
pub struct RowsQuery {
    pub sql: &'static str,
    pub params: Vec<SqlValue>,
    pub types: &'static [SqlType],
}

impl RowsQuery {
    /// The rows `sql` answers for one key, its `$1`.
    pub fn keyed(sql: &'static str, key: &str, types: &'static [SqlType]) -> Self {
        RowsQuery {
            sql,
            params: vec![SqlValue::text(key)],
            types,
        }
    }
}
