//! The steps' primitives ([`Tx`]) on a PostgreSQL connection: in a transaction the engine
//! begins, or none (a write's first attempt, whose one statement then commits by itself).
//!
//! Other instances write meanwhile. A write reads the versions of the rows its state comes
//! from (`xmin`, which every insert and update changes) with them, and [`Tx::persist`]
//! writes only while they are still the same: the object's row, its history row, the paths
//! it names and its kind's rows in one statement. When a row changed meanwhile, nothing is
//! written, and the engine starts the write over ([`Persisted::Raced`]).

use std::sync::LazyLock;

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryScalar;
use sqlx::{Arguments, FromRow, PgConnection, Postgres, Row as _};

use crate::domain::{relations, search, Applied, ObjectPath, Operation, PolicyObject};
use crate::storage::errors::Classified;
use crate::storage::queries;
use crate::storage::rows::{ObjectRow, OBJECT_COLUMNS};
use crate::storage::side::{SideRead, SideWrite};
use crate::storage::tx::{Current, Persisted, Row, SqlType, SqlValue, Tx, Versions};
use crate::storage::StoreError;

/// The class of the advisory locks that queue the writes of one path, the first of their
/// two keys (the second is the path's `hashtext`). The migrations' lock has one key: the
/// two never meet.
const QUEUE_CLASS: i32 = 0x4E53_5850;

/// Queues the transaction behind the other writes of `paths` that queued before it, in the
/// order given (every caller gives its paths sorted, so that two never wait for each other
/// in a circle), and holds each path's place until the transaction ends: a write that lost
/// a race queues before it tries again. No other write of those paths lands meanwhile,
/// whether or not the object is stored: [`Tx::persist`] writes only while it can share the
/// path's lock, and a write that cannot counts as raced and queues in turn. So a write that
/// queued loses no race to another write of its object.
///
/// The queued write also takes the shared lock its own statements ask for: PostgreSQL would
/// refuse them that while the next write waits in the queue, as a request that conflicts
/// with a waiting one is not granted, even to the holder of the exclusive lock; one already
/// held is.
pub(super) async fn queue_for(conn: &mut PgConnection, paths: &[&str]) -> Result<(), StoreError> {
    // `unnest` answers the array's elements in their order; each row's locks are taken as
    // it is answered, the exclusive one first.
    sqlx::query(
        "SELECT pg_advisory_xact_lock($1, hashtext(path)),
                pg_advisory_xact_lock_shared($1, hashtext(path))
         FROM unnest($2::text[]) AS path",
    )
    .bind(QUEUE_CLASS)
    .bind(paths)
    .execute(conn)
    .await
    .classified()
    .map(|_| ())
}

/// Holds the rows of the objects at `paths` (sorted, so that two writes never wait for each
/// other in a circle on them) until the transaction ends: a hierarchical request's.
pub(super) async fn hold_all(conn: &mut PgConnection, paths: &[&str]) -> Result<(), StoreError> {
    sqlx::query("SELECT FROM policy_objects WHERE path = ANY($1) ORDER BY path FOR UPDATE")
        .bind(paths)
        .execute(conn)
        .await
        .classified()
        .map(|_| ())
}

/// The paths of the object at `$1` and of every object below it (`below`), found through
/// the parents' index, one level at a time: a range of paths would depend on the
/// database's collation (`/` sorts before `0` only in a bytewise one). An object below a
/// project's `/infra` hangs from that container, which is no row: a level takes both.
pub(super) const BELOW: &str = "WITH RECURSIVE below (path) AS (
         SELECT path FROM policy_objects
         WHERE path = $1 OR parent_path IN ($1, $1 || '/infra')
     UNION
         SELECT o.path FROM policy_objects AS o, below AS b
         WHERE o.parent_path IN (b.path, b.path || '/infra')
     )";

/// The primitives on `conn`.
pub(super) struct PgTx<'c> {
    pub(super) conn: &'c mut PgConnection,
}

/// The object at `$1` with the version of its row, where nothing beside it is read.
static CURRENT_OBJECT: LazyLock<String> = LazyLock::new(|| current_query(&[]));

/// The query [`Tx::current`] reads with: the object at `$1` and the rows of `reads` (keyed by
/// `$2`, `$3`, ...), each with the version of its row; one row, whatever is stored.
fn current_query(reads: &[SideRead]) -> String {
    let mut columns: Vec<String> = OBJECT_COLUMNS
        .split(',')
        .map(|column| format!("o.{}", column.trim()))
        .collect();
    columns.push("o.path IS NOT NULL AS found".into());
    columns.push("o.xmin::text::bigint AS object_version".into());
    let mut joins = String::new();
    for (at, read) in reads.iter().enumerate() {
        for column in read.columns {
            columns.push(format!("s{at}.{}", column.name));
        }
        columns.push(format!("s{at}.xmin::text::bigint"));
        joins.push_str(&format!(
            " LEFT JOIN {table} AS s{at} ON s{at}.{key} = ${param}",
            table = read.table,
            key = read.key,
            param = at + 2,
        ));
    }
    format!(
        "SELECT {} FROM (SELECT $1::text AS path) AS wanted
         LEFT JOIN policy_objects AS o ON o.path = wanted.path{joins}",
        columns.join(", ")
    )
}

/// The side rows of a [`current_query`] row, after its object's columns (each `None` where
/// there is none), and the versions of those rows.
type SideRows = (Vec<Option<Row>>, Vec<Option<i64>>);

/// The [`SideRows`] of a [`current_query`] row.
fn side_rows(row: &PgRow, reads: &[SideRead]) -> Result<SideRows, sqlx::Error> {
    let mut at = OBJECT_COLUMNS.split(',').count() + 2;
    let mut rows = Vec::with_capacity(reads.len());
    let mut versions = Vec::with_capacity(reads.len());
    for read in reads {
        let values = read
            .columns
            .iter()
            .enumerate()
            .map(|(offset, column)| value(row, at + offset, column.ty))
            .collect::<Result<Row, _>>()?;
        at += read.columns.len();
        let version: Option<i64> = row.try_get(at)?;
        at += 1;
        rows.push(version.map(|_| values));
        versions.push(version);
    }
    Ok((rows, versions))
}

/// Column `at` of `row`, read as `ty`.
fn value(row: &PgRow, at: usize, ty: SqlType) -> Result<SqlValue, sqlx::Error> {
    Ok(match ty {
        SqlType::Int => SqlValue::Int(row.try_get(at)?),
        SqlType::Text => SqlValue::Text(row.try_get(at)?),
    })
}

/// Binds `value` as the next parameter.
fn bind(arguments: &mut PgArguments, value: &SqlValue) -> Result<(), StoreError> {
    match value {
        SqlValue::Int(value) => arguments.add(*value),
        SqlValue::Text(value) => arguments.add(value.clone()),
    }
    .map_err(unbound)
}

fn unbound(err: sqlx::error::BoxDynError) -> StoreError {
    StoreError::Internal(format!("cannot bind a parameter: {err}"))
}

fn arguments(params: &[SqlValue]) -> Result<PgArguments, StoreError> {
    let mut arguments = PgArguments::default();
    for param in params {
        bind(&mut arguments, param)?;
    }
    Ok(arguments)
}

/// The statement of [`Tx::persist`] for one write, and its parameters.
///
/// It changes the object's row only while the rows the write read are unchanged
/// (`unchanged`: $8 the object row's version, then for each side row its key and version);
/// from the changed row (`changed` answers its path) it appends the revision ($1 the path,
/// $2 the unique id, $3 the revision, $4 the operation, $5 the whole object, $6 the time,
/// $7 the user), replaces the paths the object names (an update's and a create's $10), and
/// carries out the kind's writes, each in a statement of its own (`side0`, `side1`, ...)
/// that writes only where the object's row changed. An update binds $9 the config; a create
/// $9 the config and $11 to $15 its parent, id, type, create time and user.
///
/// `unchanged` reads with the statement's snapshot, taken once the statement holds its lock
/// on `policy_objects`: a whole-store operation or a change of a kind's rows
/// ([`Tx::lock_store`]) has committed before it, or waits for it. A concurrent write of the
/// same object is caught by the object's own row: an update or a delete that waited for
/// another's lock checks the version again on the row that other left, and of two creates
/// one finds the path taken. While a write that lost a race holds its path's place in the
/// queue ([`queue_for`]), `unchanged` is empty for every other write of the path: it counts
/// as raced, and queues.
///
/// All of it is one statement, whose parts see one snapshot: a kind's writes of one change
/// touch each row at most once.
struct Statement {
    sql: String,
    params: Vec<Param>,
}

/// A parameter of [`Statement`]: a value, or texts (`text[]`: the paths an object names, its
/// tags' scopes and tags).
enum Param {
    Value(SqlValue),
    Texts(Vec<String>),
}

impl From<SqlValue> for Param {
    fn from(value: SqlValue) -> Self {
        Self::Value(value)
    }
}

impl Statement {
    fn of(applied: &Applied, side: &[SideWrite], read: &Current) -> Self {
        let object = &applied.object;
        let meta = &object.meta;
        let mut params: Vec<Param> = [
            SqlValue::text(object.path.as_str()),
            SqlValue::text(meta.unique_id.to_string()),
            SqlValue::int(meta.revision),
            SqlValue::text(applied.operation.as_str()),
            SqlValue::text(object.to_json()),
            SqlValue::int(meta.last_modified_time),
            SqlValue::text(&meta.last_modified_user),
            SqlValue::Int(read.versions.object),
        ]
        .map(Param::from)
        .into();
        let changed = match applied.operation {
            Operation::Delete => {
                "changed AS (
                 DELETE FROM policy_objects
                 WHERE path = $1 AND xmin::text::bigint = $8 AND EXISTS (SELECT FROM unchanged)
                 RETURNING path),
             unreferenced AS (
                 DELETE FROM policy_references WHERE path IN (SELECT path FROM changed)),
             untagged AS (
                 DELETE FROM policy_object_tags WHERE path IN (SELECT path FROM changed))"
            }
            Operation::Create => {
                "changed AS (
                 INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                     config, revision, create_time, create_user, last_modified_time,
                     last_modified_user)
                 SELECT $1, $13, $14, $15, $2, $9, $3, $16, $17, $6, $7
                 WHERE EXISTS (SELECT FROM unchanged)
                 ON CONFLICT (path) DO NOTHING
                 RETURNING path),
             referenced AS (
                 INSERT INTO policy_references (path, target)
                 SELECT path, unnest($10::text[]) FROM changed),
             tagged AS (
                 INSERT INTO policy_object_tags (path, scope, tag)
                 SELECT path, unnest($11::text[]), unnest($12::text[]) FROM changed)"
            }
            Operation::Replace | Operation::Patch => {
                "changed AS (
                 UPDATE policy_objects
                 SET config = $9, revision = $3, last_modified_time = $6,
                     last_modified_user = $7
                 WHERE path = $1 AND xmin::text::bigint = $8 AND EXISTS (SELECT FROM unchanged)
                 RETURNING path),
             unreferenced AS (
                 DELETE FROM policy_references WHERE path IN (SELECT path FROM changed)),
             referenced AS (
                 INSERT INTO policy_references (path, target)
                 SELECT path, unnest($10::text[]) FROM changed),
             untagged AS (
                 DELETE FROM policy_object_tags WHERE path IN (SELECT path FROM changed)),
             tagged AS (
                 INSERT INTO policy_object_tags (path, scope, tag)
                 SELECT path, unnest($11::text[]), unnest($12::text[]) FROM changed)"
            }
        };
        if applied.operation != Operation::Delete {
            params.push(SqlValue::text(object.config.to_json()).into());
            let names = relations::references(object);
            params.push(Param::Texts(names.into_iter().map(str::to_owned).collect()));
            let (scopes, tags) = search::indexed_tags(object).into_iter().unzip();
            params.push(Param::Texts(scopes));
            params.push(Param::Texts(tags));
        }
        if applied.operation == Operation::Create {
            params.extend(
                [
                    SqlValue::text(object.path.parent().unwrap_or("")),
                    SqlValue::text(object.id().as_str()),
                    SqlValue::text(object.resource_type()),
                    SqlValue::int(meta.create_time),
                    SqlValue::text(&meta.create_user),
                ]
                .map(Param::from),
            );
        }
        let mut unchanged = vec![
            "(SELECT xmin::text::bigint FROM policy_objects WHERE path = $1)
                 IS NOT DISTINCT FROM $8"
                .to_owned(),
        ];
        for (read, version) in read.reads.iter().zip(&read.versions.side) {
            params.push(SqlValue::text(&read.value).into());
            params.push(SqlValue::Int(*version).into());
            let (key, version) = (params.len() - 1, params.len());
            unchanged.push(format!(
                "(SELECT xmin::text::bigint FROM {table} WHERE {column} = ${key})
                     IS NOT DISTINCT FROM ${version}",
                table = read.table,
                column = read.key,
            ));
        }
        unchanged.push(format!(
            "pg_try_advisory_xact_lock_shared({QUEUE_CLASS}, hashtext($1))"
        ));
        let mut parts = vec![
            format!("unchanged AS (SELECT WHERE {})", unchanged.join(" AND ")),
            changed.to_owned(),
            "revision AS (
                 INSERT INTO policy_object_revisions
                     (path, unique_id, revision, operation, object, change_time, change_user)
                 SELECT path, $2, $3, $4, $5, $6, $7 FROM changed)"
                .to_owned(),
        ];
        for (at, write) in side.iter().enumerate() {
            let first = params.len();
            params.extend(write.values().iter().cloned().map(Param::from));
            parts.push(format!("side{at} AS ({})", gated(write, first)));
        }
        Self {
            sql: format!("WITH {} SELECT count(*) FROM changed", parts.join(",\n")),
            params,
        }
    }
}

/// `write`'s statement, its parameters numbered after `first`, writing only where the
/// object's row changed (`changed` has a row).
fn gated(write: &SideWrite, first: usize) -> String {
    let param = |n: usize| format!("${}", first + n);
    match write {
        SideWrite::Insert { table, columns, .. } => format!(
            "INSERT INTO {table} ({}) SELECT {} FROM changed",
            columns.join(", "),
            (1..=columns.len())
                .map(param)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        SideWrite::Upsert {
            table,
            key,
            columns,
            ..
        } => format!(
            "INSERT INTO {table} ({}) SELECT {} FROM changed ON CONFLICT ({}) DO UPDATE SET {}",
            columns.join(", "),
            (1..=columns.len())
                .map(param)
                .collect::<Vec<_>>()
                .join(", "),
            key.join(", "),
            crate::storage::tx::replaced(key, columns)
        ),
        SideWrite::Delete { table, column, .. } => format!(
            "DELETE FROM {table} WHERE {column} = {} AND EXISTS (SELECT FROM changed)",
            param(1)
        ),
    }
}

impl Tx for PgTx<'_> {
    async fn current(
        &mut self,
        path: &ObjectPath,
        reads: Vec<SideRead>,
    ) -> Result<Current, StoreError> {
        let sql: std::borrow::Cow<'_, str> = if reads.is_empty() {
            CURRENT_OBJECT.as_str().into()
        } else {
            current_query(&reads).into()
        };
        let mut query = sqlx::query(&sql).bind(path.as_str());
        for read in &reads {
            query = query.bind(read.value.as_str());
        }
        let row = query.fetch_one(&mut *self.conn).await.classified()?;
        let decoded = |err: sqlx::Error| StoreError::Internal(format!("stored {path}: {err}"));
        let found: bool = row.try_get("found").map_err(decoded)?;
        let object = if found {
            Some(ObjectRow::from_row(&row).map_err(decoded)?.into_object()?)
        } else {
            None
        };
        let (side, versions) = side_rows(&row, &reads).map_err(decoded)?;
        Ok(Current {
            object,
            side,
            versions: Versions {
                object: row.try_get("object_version").map_err(decoded)?,
                side: versions,
            },
            reads,
        })
    }

    async fn persist(
        &mut self,
        applied: &Applied,
        side: &[SideWrite],
        read: &Current,
    ) -> Result<Persisted, StoreError> {
        let Statement { sql, params } = Statement::of(applied, side, read);
        let mut bound = PgArguments::default();
        for param in params {
            match param {
                Param::Value(value) => bind(&mut bound, &value)?,
                Param::Texts(texts) => bound.add(texts).map_err(unbound)?,
            }
        }
        let statement: QueryScalar<'_, Postgres, i64, PgArguments> =
            sqlx::query_scalar_with(&sql, bound);
        let changed = statement.fetch_one(&mut *self.conn).await.classified()?;
        Ok(if changed == 0 {
            Persisted::Raced
        } else {
            Persisted::Written
        })
    }

    async fn write_side(&mut self, side: &[SideWrite]) -> Result<(), StoreError> {
        for write in side {
            let sql = write.statement(|n| format!("${n}"));
            self.execute(&sql, write.values()).await?;
        }
        Ok(())
    }

    /// In a transaction, the row stays share-locked until it commits, so that a delete of
    /// the object (which holds its row, then looks for children and referrers) orders
    /// wholly before or after the write that found it.
    async fn exists(&mut self, path: &str) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT FROM policy_objects WHERE path = $1 FOR SHARE")
            .bind(path)
            .fetch_optional(&mut *self.conn)
            .await
            .classified()?;
        Ok(found.is_some())
    }

    async fn first_child(&mut self, path: &str) -> Result<Option<String>, StoreError> {
        static FIRST_CHILD: LazyLock<String> =
            LazyLock::new(|| queries::first_child(|n| format!("${n}")));
        self.one_path(&FIRST_CHILD, path).await
    }

    async fn first_referrer(&mut self, path: &str) -> Result<Option<String>, StoreError> {
        static FIRST_REFERRER: LazyLock<String> =
            LazyLock::new(|| queries::first_referrer(|n| format!("${n}")));
        self.one_path(&FIRST_REFERRER, path).await
    }

    /// The row lock also waits for a whole-store operation in flight and holds off the
    /// next, as it takes the table's lock in a mode [`Tx::lock_store`]'s excludes. Where no
    /// row is stored, it holds nothing: another write may still create the object first,
    /// which [`queue_for`] prevents.
    async fn hold(&mut self, path: &ObjectPath) -> Result<(), StoreError> {
        self.on_path(
            "SELECT FROM policy_objects WHERE path = $1 FOR UPDATE",
            path.as_str(),
        )
        .await
    }

    async fn subtree_deepest_first(
        &mut self,
        path: &ObjectPath,
    ) -> Result<Vec<String>, StoreError> {
        static SUBTREE: LazyLock<String> = LazyLock::new(|| {
            format!(
                "{BELOW} SELECT path FROM policy_objects WHERE path IN (SELECT path FROM below)
                 ORDER BY path COLLATE \"C\" DESC FOR UPDATE"
            )
        });
        sqlx::query_scalar(&SUBTREE)
            .bind(path.as_str())
            .fetch_all(&mut *self.conn)
            .await
            .classified()
    }

    async fn remove_unrecorded(&mut self, path: &ObjectPath) -> Result<(), StoreError> {
        self.on_path("DELETE FROM policy_objects WHERE path = $1", path.as_str())
            .await?;
        self.on_path(
            "DELETE FROM policy_object_tags WHERE path = $1",
            path.as_str(),
        )
        .await
    }

    /// Reads go on meanwhile. The lock is the `policy_objects` table's, in the mode that
    /// excludes every change of it and [`Tx::hold`]'s row locks.
    async fn lock_store(&mut self) -> Result<(), StoreError> {
        sqlx::query("LOCK TABLE policy_objects IN EXCLUSIVE MODE")
            .execute(&mut *self.conn)
            .await
            .classified()
            .map(|_| ())
    }

    async fn next_position(&mut self) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('policy_object_revisions', 'seq'))",
        )
        .fetch_one(&mut *self.conn)
        .await
        .classified()
    }

    /// Nothing to do: PostgreSQL's triggers keep the counts with every change.
    async fn recount(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        sqlx::query_with(sql, arguments(params)?)
            .execute(&mut *self.conn)
            .await
            .classified()
            .map(|done| done.rows_affected())
    }

    async fn rows(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        types: &[SqlType],
    ) -> Result<Vec<Row>, StoreError> {
        let rows = sqlx::query_with(sql, arguments(params)?)
            .fetch_all(&mut *self.conn)
            .await
            .classified()?;
        rows.iter()
            .map(|row| read_row(row, types))
            .collect::<Result<_, _>>()
            .classified()
    }

    async fn objects(&mut self, sql: &str) -> Result<Vec<PolicyObject>, StoreError> {
        let rows: Vec<ObjectRow> = sqlx::query_as(sql)
            .fetch_all(&mut *self.conn)
            .await
            .classified()?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }
}

/// A row's columns, read as `types`.
pub(super) fn read_row(row: &PgRow, types: &[SqlType]) -> Result<Row, sqlx::Error> {
    types
        .iter()
        .enumerate()
        .map(|(at, ty)| value(row, at, *ty))
        .collect()
}

impl PgTx<'_> {
    /// Runs `sql`, a statement on the object at `$1`, for what it does.
    async fn on_path(&mut self, sql: &str, path: &str) -> Result<(), StoreError> {
        sqlx::query(sql)
            .bind(path)
            .execute(&mut *self.conn)
            .await
            .classified()
            .map(|_| ())
    }

    async fn one_path(&mut self, sql: &str, path: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(sql)
            .bind(path)
            .fetch_optional(&mut *self.conn)
            .await
            .classified()
    }
}
