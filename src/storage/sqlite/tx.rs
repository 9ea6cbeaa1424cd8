//! The steps' primitives ([`Tx`]) on the writer's connection, inside the transaction (or
//! savepoint) of the task it is applying. The one writer sees no other write: nothing it
//! read changes before it writes, no row needs holding, and a write never races.
//!
//! Every future here is ready when first polled (rusqlite does not await):
//! [`SqliteTx::now`] drives a step to its end on the writer thread.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::counts;
use crate::domain::{relations, search, Applied, ObjectPath, Operation, PolicyObject};
use crate::storage::errors::Classified;
use crate::storage::queries;
use crate::storage::rows::{ObjectRow, OBJECT_COLUMNS};
use crate::storage::side::{SideRead, SideWrite};
use crate::storage::tx::{
    at, Current, Persisted, Row, SqlType, SqlValue, StatementShape, Tx, Versions,
};
use crate::storage::StoreError;

/// One object by its path, as an [`ObjectRow`]: the writer's lookup and the readers' GET.
pub(super) static OBJECT_BY_PATH: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE path = ?1"));

/// The rows of the object at `?1` and of every object below it: a range of the paths' unique
/// index, as `/` sorts just before `0` in SQLite's binary order (the paths below `p` run from
/// `p/` up to `p0`, and `p-2`, which also sorts there, is left out).
const SUBTREE_ROWS: &str = "path >= ?1 AND path < ?1 || '0' AND (path = ?1 OR path > ?1 || '/')";

/// Every object at `?1` or below it, in path order: a hierarchical GET's tree.
pub(super) static SUBTREE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE {SUBTREE_ROWS} ORDER BY path")
});

/// The paths of the object at `?1` and of every object below it, deepest first (a path
/// sorts after every path above it): what a hierarchical delete removes, in order.
static SUBTREE_PATHS_DEEPEST_FIRST: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT path FROM policy_objects WHERE {SUBTREE_ROWS} ORDER BY path DESC")
});

/// The primitives on `conn`, the connection of a task's transaction or savepoint.
pub(super) struct SqliteTx<'c> {
    pub(super) conn: &'c Connection,
}

impl SqliteTx<'_> {
    /// The output of `step`, which never waits on this engine: polled once, it is done.
    pub(super) fn now<F: Future>(step: F) -> F::Output {
        let mut step = std::pin::pin!(step);
        match step.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(done) => done,
            Poll::Pending => unreachable!("a step on SQLite's writer never waits"),
        }
    }

    fn one_path(&self, sql: &str, path: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut lookup| lookup.query_row([path], |row| row.get(0)).optional())
            .classified()
    }

    fn fetch(&self, path: &ObjectPath) -> Result<Option<PolicyObject>, StoreError> {
        let row = self
            .conn
            .prepare_cached(&OBJECT_BY_PATH)
            .and_then(|mut lookup| lookup.query_row([path.as_str()], object_row).optional())
            .classified()?;
        row.map(ObjectRow::into_object).transpose()
    }

    fn side_row(&self, read: &SideRead) -> Result<Option<Row>, StoreError> {
        let key = (0, at(read.table), at(read.key), at(read.columns));
        let sql = kind_sql(key, || {
            let columns: Vec<&str> = read.columns.iter().map(|column| column.name).collect();
            format!(
                "SELECT {} FROM {} WHERE {} = ?1",
                columns.join(", "),
                read.table,
                read.key
            )
        });
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut query| {
                query
                    .query_row([&read.value], |row| {
                        read_row(row, read.columns.iter().map(|column| column.ty))
                    })
                    .optional()
            })
            .classified()
    }

    /// Writes the object's new state, the paths it names and its history row.
    fn persist_object(&self, applied: &Applied) -> rusqlite::Result<()> {
        let object = &applied.object;
        let path = object.path.as_str();
        let meta = &object.meta;
        let unique_id = meta.unique_id.to_string();
        // One statement of the three for each operation: a plain INSERT changes one row of
        // the table (and its indexes) only, so SQLite keeps no statement journal of it.
        match applied.operation {
            Operation::Delete => {
                self.conn
                    .prepare_cached("DELETE FROM policy_objects WHERE path = ?1")?
                    .execute([&path])?;
            }
            Operation::Create => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO policy_objects (path, parent_path, id, resource_type,
                             unique_id, config, revision, create_time, create_user,
                             last_modified_time, last_modified_user)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )?
                    .execute(params![
                        path,
                        object.path.parent().unwrap_or(""),
                        object.id().as_str(),
                        object.resource_type(),
                        unique_id,
                        object.config.to_json(),
                        meta.revision,
                        meta.create_time,
                        meta.create_user,
                        meta.last_modified_time,
                        meta.last_modified_user,
                    ])?;
            }
            Operation::Replace | Operation::Patch => {
                self.conn
                    .prepare_cached(
                        "UPDATE policy_objects SET config = ?2, revision = ?3,
                             last_modified_time = ?4, last_modified_user = ?5
                         WHERE path = ?1",
                    )?
                    .execute(params![
                        path,
                        object.config.to_json(),
                        meta.revision,
                        meta.last_modified_time,
                        meta.last_modified_user,
                    ])?;
            }
        }
        // A create's path names nothing yet; every other write replaces what it names.
        if applied.operation != Operation::Create {
            self.conn
                .prepare_cached("DELETE FROM policy_references WHERE path = ?1")?
                .execute([&path])?;
        }
        if applied.operation != Operation::Delete {
            for target in relations::references(object) {
                self.conn
                    .prepare_cached("INSERT INTO policy_references (path, target) VALUES (?1, ?2)")?
                    .execute([path, target])?;
            }
        }
        // The tags the search finds it by: likewise, and none written for an untagged create.
        let tags = match applied.operation {
            Operation::Delete => Vec::new(),
            _ => search::indexed_tags(object),
        };
        if applied.operation != Operation::Create {
            self.conn
                .prepare_cached("DELETE FROM policy_object_tags WHERE path = ?1")?
                .execute([&path])?;
        }
        for (scope, tag) in &tags {
            self.conn
                .prepare_cached(
                    "INSERT INTO policy_object_tags (path, scope, tag) VALUES (?1, ?2, ?3)",
                )?
                .execute([path, scope, tag])?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO policy_object_revisions
                     (path, unique_id, revision, operation, object, change_time, change_user)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                path,
                unique_id,
                meta.revision,
                applied.operation.as_str(),
                object.json(),
                meta.last_modified_time,
                meta.last_modified_user,
            ])?;
        Ok(())
    }
}

thread_local! {
    /// The statements of the kinds' row reads and writes, each made once on the writer's
    /// thread: the same few run for every write, and making one anew costs allocations.
    static KIND_SQL: RefCell<HashMap<StatementShape, Rc<str>>> = RefCell::default();
}

/// The statement of shape `shape`, made by `make` the first time it is asked for.
fn kind_sql(shape: StatementShape, make: impl FnOnce() -> String) -> Rc<str> {
    KIND_SQL.with(|made| {
        let mut made = made.borrow_mut();
        Rc::clone(made.entry(shape).or_insert_with(|| make().into()))
    })
}

/// The row of a rusqlite query selecting [`OBJECT_COLUMNS`].
pub(super) fn object_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        path: row.get(0)?,
        resource_type: row.get(1)?,
        config: row.get(2)?,
        unique_id: row.get(3)?,
        revision: row.get(4)?,
        create_time: row.get(5)?,
        create_user: row.get(6)?,
        last_modified_time: row.get(7)?,
        last_modified_user: row.get(8)?,
    })
}

/// A row's columns, read as `types`.
fn read_row(
    row: &rusqlite::Row<'_>,
    types: impl IntoIterator<Item = SqlType>,
) -> rusqlite::Result<Row> {
    types
        .into_iter()
        .enumerate()
        .map(|(at, ty)| match ty {
            SqlType::Int => row.get(at).map(SqlValue::Int),
            SqlType::Text => row.get(at).map(SqlValue::Text),
        })
        .collect()
}

impl ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Int(Some(value)) => ToSqlOutput::Owned(Value::Integer(*value)),
            SqlValue::Text(Some(value)) => ToSqlOutput::Borrowed(ValueRef::Text(value.as_bytes())),
            SqlValue::Int(None) | SqlValue::Text(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// `sql` with its parameters `$1`, `$2`, ... written as SQLite numbers them, `?1`, `?2`:
/// SQLite reads `$1` as a name, numbered by where it first stands.
pub(in crate::storage) fn numbered(sql: &str) -> Cow<'_, str> {
    let parameter = |(at, c): (usize, char)| {
        c == '$' && sql[at + 1..].starts_with(|next: char| next.is_ascii_digit())
    };
    if !sql.char_indices().any(parameter) {
        return Cow::Borrowed(sql);
    }
    let mut written = String::with_capacity(sql.len());
    for (at, c) in sql.char_indices() {
        written.push(if parameter((at, c)) { '?' } else { c });
    }
    Cow::Owned(written)
}

impl Tx for SqliteTx<'_> {
    async fn current(
        &mut self,
        path: &ObjectPath,
        reads: Vec<SideRead>,
    ) -> Result<Current, StoreError> {
        let object = self.fetch(path)?;
        let side = reads
            .iter()
            .map(|read| match read.with_object && object.is_none() {
                true => Ok(None),
                false => self.side_row(read),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Current {
            object,
            side,
            versions: Versions::default(),
            reads,
        })
    }

    async fn persist(
        &mut self,
        applied: &Applied,
        side: &[SideWrite],
        _: &Current,
    ) -> Result<Persisted, StoreError> {
        self.persist_object(applied).classified()?;
        self.write_side(side).await?;
        Ok(Persisted::Written)
    }

    async fn write_side(&mut self, side: &[SideWrite]) -> Result<(), StoreError> {
        for write in side {
            let sql = kind_sql(write.shape(), || write.statement(|n| format!("?{n}")));
            self.conn
                .prepare_cached(&sql)
                .and_then(|mut statement| {
                    statement.execute(rusqlite::params_from_iter(write.values()))
                })
                .classified()?;
        }
        Ok(())
    }

    async fn exists(&mut self, path: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT 1 FROM policy_objects WHERE path = ?1")
            .and_then(|mut lookup| lookup.exists([path]))
            .classified()
    }

    async fn first_child(&mut self, path: &str) -> Result<Option<String>, StoreError> {
        static FIRST_CHILD: LazyLock<String> =
            LazyLock::new(|| queries::first_child(|n| format!("?{n}")));
        self.one_path(&FIRST_CHILD, path)
    }

    async fn first_referrer(&mut self, path: &str) -> Result<Option<String>, StoreError> {
        static FIRST_REFERRER: LazyLock<String> =
            LazyLock::new(|| queries::first_referrer(|n| format!("?{n}")));
        self.one_path(&FIRST_REFERRER, path)
    }

    async fn hold(&mut self, _: &ObjectPath) -> Result<(), StoreError> {
        Ok(())
    }

    async fn subtree_deepest_first(
        &mut self,
        path: &ObjectPath,
    ) -> Result<Vec<String>, StoreError> {
        self.conn
            .prepare_cached(&SUBTREE_PATHS_DEEPEST_FIRST)
            .and_then(|mut query| {
                query
                    .query_map([path.as_str()], |row| row.get(0))?
                    .collect()
            })
            .classified()
    }

    async fn remove_unrecorded(&mut self, path: &ObjectPath) -> Result<(), StoreError> {
        for table in ["policy_objects", "policy_object_tags"] {
            self.conn
                .execute(
                    &format!("DELETE FROM {table} WHERE path = ?1"),
                    [path.as_str()],
                )
                .classified()?;
        }
        Ok(())
    }

    async fn lock_store(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The next position after the history's sequence (`sqlite_sequence`, which AUTOINCREMENT
    /// numbers the history's rows after) and every whole-store event, which the sequence then
    /// moves on past.
    async fn next_position(&mut self) -> Result<i64, StoreError> {
        let position: i64 = self
            .conn
            .query_row(
                "SELECT 1 + max(
                     coalesce((SELECT seq FROM sqlite_sequence
                               WHERE name = 'policy_object_revisions'), 0),
                     coalesce((SELECT max(position) FROM store_events), 0))",
                [],
                |row| row.get(0),
            )
            .classified()?;
        let moved = self
            .conn
            .execute(
                "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'policy_object_revisions'",
                [position],
            )
            .classified()?;
        if moved == 0 {
            self.conn
                .execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES ('policy_object_revisions', ?1)",
                    [position],
                )
                .classified()?;
        }
        Ok(position)
    }

    async fn recount(&mut self) -> Result<(), StoreError> {
        counts::recount(self.conn).classified()
    }

    async fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached(&numbered(sql))
            .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(params)))
            .classified()
            .map(|changed| changed as u64)
    }

    async fn rows(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        types: &[SqlType],
    ) -> Result<Vec<Row>, StoreError> {
        self.conn
            .prepare_cached(&numbered(sql))
            .and_then(|mut query| {
                query
                    .query_map(rusqlite::params_from_iter(params), |row| {
                        read_row(row, types.iter().copied())
                    })?
                    .collect()
            })
            .classified()
    }

    async fn objects(&mut self, sql: &str) -> Result<Vec<PolicyObject>, StoreError> {
        let rows: Vec<ObjectRow> = self
            .conn
            .prepare(sql)
            .and_then(|mut query| query.query_map([], object_row)?.collect())
            .classified()?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(
            numbered("SELECT $1, '$.path', $12 FROM t WHERE a = $2"),
            "SELECT ?1, '$.path', ?12 FROM t WHERE a = ?2"
        );
        assert!(matches!(numbered("SELECT 1"), Cow::Borrowed(_)));
    }
}
