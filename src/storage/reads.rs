//! The reads both engines make alike, through sqlx on a transaction of either: one page of a
//! list, and one page of an object's revisions. An engine gives its connection, how it
//! numbers parameters (`?1` or `$1`) and what its driver's failures mean; the SQL is
//! `queries.rs`'s.

use sqlx::query::QueryAs;
use sqlx::{Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::queries;
use super::rows::{ObjectRow, RevisionRow};
use super::StoreError;
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord};
use crate::domain::list::{ListPosition, ListQuery, SortValue};
use crate::domain::paging::Page;
use crate::domain::PolicyObject;

/// The reads, on the connections of the database `DB`: what an engine's store calls as
/// `Reads::<Sqlite>::list_page(...)`.
pub(in crate::storage) struct Reads<DB>(std::marker::PhantomData<DB>);

impl<DB> Reads<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'r> ObjectRow: FromRow<'r, DB::Row>,
    for<'r> RevisionRow: FromRow<'r, DB::Row>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
{
    /// One page of a list, and how many objects the list holds, read on `conn`.
    pub(in crate::storage) async fn list_page(
        conn: &mut DB::Connection,
        query: &ListQuery,
        param: impl Fn(u8) -> String,
        classify: fn(sqlx::Error) -> StoreError,
    ) -> Result<Page<PolicyObject, ListPosition>, StoreError> {
        let (members, collection_path) = queries::member_values(&query.collection);
        let (total_sql, total_binds) = queries::list_total(&query.collection, &param);
        let total: i64 = total_binds
            .into_iter()
            .fold(sqlx::query_scalar::<DB, i64>(&total_sql), |total, value| {
                total.bind(value)
            })
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;

        let sql = queries::list_page(
            &query.collection,
            query.sort_by,
            query.ascending,
            query.after.is_some(),
            &param,
        );
        let (key, id) = match &query.after {
            None => (None, None),
            Some(after) => (Some(&after.key), Some(after.id.as_str())),
        };
        let page = sqlx::query_as::<DB, ObjectRow>(&sql).bind(members);
        // The key's parameter is typed by its column: a time, or text.
        let page = match key {
            Some(SortValue::Time(time)) => page.bind(Some(*time)),
            Some(SortValue::Text(text)) => page.bind(Some(text.as_str())),
            None => page.bind(None::<&str>),
        };
        let page = page
            .bind(id)
            .bind(fetched_for(query.page_size))
            .bind(collection_path);
        let after = |last: &PolicyObject| ListPosition::after(last, query.sort_by);
        let page_of = (query.page_size, total);
        Self::fetch_page(conn, page, classify, page_of, ObjectRow::into_object, after).await
    }

    /// One page of the revisions of an object, newest first, and how many it has, read on
    /// `conn`.
    pub(in crate::storage) async fn revisions(
        conn: &mut DB::Connection,
        query: &RevisionQuery,
        param: impl Fn(u8) -> String,
        classify: fn(sqlx::Error) -> StoreError,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        let total_sql = format!(
            "SELECT count(*) FROM policy_object_revisions WHERE path = {}",
            param(1)
        );
        let total: i64 = sqlx::query_scalar::<DB, i64>(&total_sql)
            .bind(query.path.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
        let page_sql = format!(
            "SELECT seq, path, revision, operation, object, change_time, change_user
             FROM policy_object_revisions
             WHERE path = {} AND seq < {}
             ORDER BY seq DESC
             LIMIT {}",
            param(1),
            param(2),
            param(3)
        );
        let page = sqlx::query_as::<DB, RevisionRow>(&page_sql)
            .bind(query.path.as_str())
            .bind(query.after.map_or(i64::MAX, |after| after.seq))
            .bind(fetched_for(query.page_size));
        let after = |last: &RevisionRecord| RevisionPosition { seq: last.seq };
        let page_of = (query.page_size, total);
        Self::fetch_page(
            conn,
            page,
            classify,
            page_of,
            RevisionRow::into_record,
            after,
        )
        .await
    }

    /// The rows of a page's query (asked for [`fetched_for`] its page's size), made into the
    /// page of `page_size` items of a list of `total`.
    async fn fetch_page<'q, R, T, P>(
        conn: &mut DB::Connection,
        rows: QueryAs<'q, DB, R, DB::Arguments<'q>>,
        classify: fn(sqlx::Error) -> StoreError,
        (page_size, total): (u32, i64),
        item: fn(R) -> Result<T, StoreError>,
        after: impl FnOnce(&T) -> P,
    ) -> Result<Page<T, P>, StoreError>
    where
        R: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
    {
        let rows = rows.fetch_all(&mut *conn).await.map_err(classify)?;
        Page::from_fetched(rows, page_size, total, item, after)
    }
}

/// How many rows a page's query asks for: one more than the page holds, which tells whether
/// another page follows.
fn fetched_for(page_size: u32) -> i64 {
    i64::from(page_size) + 1
}
