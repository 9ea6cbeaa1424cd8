//! What an engine supplies to a write: the SQL primitives every write is made of, on the
//! connection of a transaction ([`Tx`]). The step order is written once over them
//! ([`super::steps`]); each engine implements them over its own connection (SQLite's writer
//! thread, PostgreSQL's pool) with its own strategy (SQLite's one writer sees no other write;
//! PostgreSQL checks the versions of the rows a write read, and locks).
//!
//! SQL a step or a kind writes itself names its parameters `$1`, `$2`, ... on both engines,
//! and its values are [`SqlValue`]s: an integer or a text, either possibly NULL.

pub use crate::domain::change::Moment;
use crate::domain::{Applied, ObjectPath, PolicyObject};

use super::StoreError;

/// The type of a column a statement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Int,
    Text,
}

/// A value a statement binds or reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Int(Option<i64>),
    Text(Option<String>),
}

impl SqlValue {
    pub fn int(value: i64) -> Self {
        Self::Int(Some(value))
    }

    pub fn text(value: impl Into<String>) -> Self {
        Self::Text(Some(value.into()))
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(value) => *value,
            Self::Text(_) => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(value) => value.as_deref(),
            Self::Int(_) => None,
        }
    }
}

/// One row a statement read, its columns in order.
pub type Row = Vec<SqlValue>;

/// A column of a kind's table: its name and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: SqlType,
}

/// The row of `table` whose `key` column is `value`, read as `columns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRead {
    pub table: &'static str,
    pub key: &'static str,
    pub value: String,
    pub columns: &'static [Column],
    /// Whether the row lives only while the object does (the kind deletes it with the
    /// object): where no object is stored there is none, and an engine need not ask.
    pub with_object: bool,
}

/// What tells one statement of a kind's rows from another: a tag for what it does, and
/// where its table, its key and its columns (static names) are.
pub type StatementShape = (u8, Place, Place, Place);

/// Where a static value is and how many bytes it takes ([`at`]).
pub type Place = (usize, usize);

/// What a write does to a kind's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideWrite {
    /// A new row of `table`.
    Insert {
        table: &'static str,
        columns: &'static [&'static str],
        values: Vec<SqlValue>,
    },
    /// The row of `table` whose `key` columns are the first of `values`, inserted or
    /// replaced.
    Upsert {
        table: &'static str,
        key: &'static [&'static str],
        columns: &'static [&'static str],
        values: Vec<SqlValue>,
    },
    /// The rows of `table` whose `column` is `value`, deleted.
    Delete {
        table: &'static str,
        column: &'static str,
        value: SqlValue,
    },
}

impl SideWrite {
    /// The statement, for an engine whose parameters are written by `param` (`$1`, `?1`),
    /// that carries this write out on its own.
    pub fn statement(&self, param: impl Fn(usize) -> String) -> String {
        match self {
            SideWrite::Insert { table, columns, .. } => {
                let values: Vec<String> = (1..=columns.len()).map(param).collect();
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    columns.join(", "),
                    values.join(", ")
                )
            }
            SideWrite::Upsert {
                table,
                key,
                columns,
                ..
            } => {
                let values: Vec<String> = (1..=columns.len()).map(param).collect();
                format!(
                    "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
                    columns.join(", "),
                    values.join(", "),
                    key.join(", "),
                    replaced(key, columns)
                )
            }
            SideWrite::Delete { table, column, .. } => {
                format!("DELETE FROM {table} WHERE {column} = {}", param(1))
            }
        }
    }

    /// What tells this write's statement from another's: its kind, its table and its
    /// columns (static names, told by where they are), for an engine that keeps statements.
    pub fn shape(&self) -> StatementShape {
        match self {
            SideWrite::Insert { table, columns, .. } => (1, at(*table), (0, 0), at(*columns)),
            SideWrite::Upsert {
                table,
                key,
                columns,
                ..
            } => (2, at(*table), at(*key), at(*columns)),
            SideWrite::Delete { table, column, .. } => (3, at(*table), at(*column), (0, 0)),
        }
    }

    /// The values the statement binds, in order.
    pub fn values(&self) -> &[SqlValue] {
        match self {
            SideWrite::Insert { values, .. } | SideWrite::Upsert { values, .. } => values,
            SideWrite::Delete { value, .. } => std::slice::from_ref(value),
        }
    }
}

/// Where the static value `value` is and its size: what tells it from another of its type
/// (a slice of another slice starts where it does, but is shorter).
pub fn at<T: ?Sized>(value: &'static T) -> Place {
    (
        (value as *const T).cast::<u8>() as usize,
        std::mem::size_of_val(value),
    )
}

/// The `SET` list of an upsert: every column but the key, from the row that conflicted.
pub fn replaced(key: &[&str], columns: &[&str]) -> String {
    columns
        .iter()
        .filter(|column| !key.contains(column))
        .map(|column| format!("{column} = excluded.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a write read before it applied its change: the object at its path, the rows of its
/// kind's own its kind asked for ([`SideRead`]), and the versions of the rows they came from.
#[derive(Debug, Clone)]
pub struct Current {
    pub object: Option<PolicyObject>,
    /// What was read beside the object: each of `reads`, `None` where no row was there.
    pub side: Vec<Option<Row>>,
    pub reads: Vec<SideRead>,
    pub versions: Versions,
}

impl Current {
    /// What a write assumes where it has not read: nothing stored, neither the object nor
    /// any of `reads`. Persisted against it, a write that finds anything there has raced.
    pub fn nothing(reads: Vec<SideRead>) -> Self {
        Self {
            object: None,
            side: vec![None; reads.len()],
            versions: Versions {
                object: None,
                side: vec![None; reads.len()],
            },
            reads,
        }
    }
}

/// The versions of the rows a write read its state from (PostgreSQL's `xmin`, which every
/// insert and update changes), `None` for a row that was not there: the object's, then each
/// side row's. SQLite, whose one writer sees no other write, keeps none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    pub object: Option<i64>,
    pub side: Vec<Option<i64>>,
}

/// Whether a write was persisted, or found a row it read changed meanwhile and wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persisted {
    Written,
    Raced,
}

/// The SQL primitives of a write, on one engine's transaction.
#[allow(
    async_fn_in_trait,
    reason = "the steps are generic over the engine's transaction, so that each engine's futures keep what its runtime needs of them (PostgreSQL's are Send, SQLite's need not be)"
)]
pub trait Tx {
    /// What is stored at `path`, with the side rows `reads` names, as committed now.
    async fn current(
        &mut self,
        path: &ObjectPath,
        reads: Vec<SideRead>,
    ) -> Result<Current, StoreError>;

    /// Writes `applied` (the object's new state, the paths it names and its history row)
    /// and `side`, its kind's rows, unless a row `read` came from has changed since: then
    /// nothing is written.
    async fn persist(
        &mut self,
        applied: &Applied,
        side: &[SideWrite],
        read: &Current,
    ) -> Result<Persisted, StoreError>;

    /// Writes `side` alone (a retrace, a script: what changes no object).
    async fn write_side(&mut self, side: &[SideWrite]) -> Result<(), StoreError>;

    /// Whether an object is stored at `path`; while the transaction lasts, it stays so.
    async fn exists(&mut self, path: &str) -> Result<bool, StoreError>;

    /// The path of one object stored below `path` (its `parent_path` is `path`, or `path`'s
    /// `Infra` container's), if any.
    async fn first_child(&mut self, path: &str) -> Result<Option<String>, StoreError>;

    /// The path of one object that names `path` (other than itself), if any.
    async fn first_referrer(&mut self, path: &str) -> Result<Option<String>, StoreError>;

    /// Holds the object's row until the transaction ends, where there is one: no other write
    /// changes it meanwhile.
    async fn hold(&mut self, path: &ObjectPath) -> Result<(), StoreError>;

    /// The paths of the object at `path` and of every object below it, deepest first, each
    /// held as [`Tx::hold`] holds it.
    async fn subtree_deepest_first(&mut self, path: &ObjectPath)
        -> Result<Vec<String>, StoreError>;

    /// Removes the object at `path` without a history row: what the system wrote, which an
    /// import's line replaces.
    async fn remove_unrecorded(&mut self, path: &ObjectPath) -> Result<(), StoreError>;

    /// Waits for every write in flight and holds off new ones until the transaction ends: a
    /// whole-store operation, or a change of a kind's rows, sees no write half done.
    async fn lock_store(&mut self) -> Result<(), StoreError>;

    /// The position of the next event of the stream, from the history's own sequence: a
    /// whole-store operation's.
    async fn next_position(&mut self) -> Result<i64, StoreError>;

    /// Counts every stored object again by type and parent, after a whole-store operation.
    async fn recount(&mut self) -> Result<(), StoreError>;

    /// Runs `sql` (parameters `$1`, `$2`, ...) with `params`; answers the rows it changed.
    async fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError>;

    /// Runs the query `sql` with `params`; answers its rows, read as `types`.
    async fn rows(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        types: &[SqlType],
    ) -> Result<Vec<Row>, StoreError>;

    /// The objects the query `sql` (selecting [`super::rows::OBJECT_COLUMNS`]) finds.
    async fn objects(&mut self, sql: &str) -> Result<Vec<PolicyObject>, StoreError>;
}
