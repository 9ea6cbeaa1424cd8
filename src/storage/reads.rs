//! The reads both engines make alike, through sqlx on a pool or a transaction of either: one
//! page of a list, of a search or of an object's revisions, the counts of a node's children,
//! the last change's position and the export. An engine gives its connection and its
//! [`Dialect`]; the SQL is `queries.rs`'s, and the search's `search.rs`'s.

use futures_util::TryStreamExt;
use sqlx::query::QueryAs;
use sqlx::{Decode, Encode, Executor, FromRow, IntoArguments, Pool, Transaction, Type};

use super::dialect::Dialect;
use super::errors::Classified;
use super::queries;
use super::rows::{exported, ObjectRow, RevisionRow, OBJECT_COLUMNS};
use super::search::{self, Filter};
use super::{ChildCount, StoreError};
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord};
use crate::domain::list::{ListPosition, ListQuery, SortValue};
use crate::domain::paging::{Offset, Page};
use crate::domain::search::Search;
use crate::domain::PolicyObject;

/// The reads, on the connections of the database `DB`: what an engine's store calls as
/// `Reads::<Sqlite>::list(...)`.
pub(in crate::storage) struct Reads<DB>(std::marker::PhantomData<DB>);

impl<DB> Reads<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'r> ObjectRow: FromRow<'r, DB::Row>,
    for<'r> RevisionRow: FromRow<'r, DB::Row>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (String,): FromRow<'r, DB::Row>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'r> ChildCount: FromRow<'r, DB::Row>,
{
    /// One page of a list, and how many objects the list holds, both read in `tx` (one
    /// snapshot of the store).
    pub(in crate::storage) async fn list(
        mut tx: Transaction<'_, DB>,
        query: &ListQuery,
    ) -> Result<Page<PolicyObject, ListPosition>, StoreError> {
        let (members, collection_path) = queries::member_values(&query.collection);
        let (total_sql, total_binds) = queries::list_total(&query.collection, DB::param);
        let total: i64 = total_binds
            .into_iter()
            .fold(sqlx::query_scalar::<DB, i64>(&total_sql), |total, value| {
                total.bind(value)
            })
            .fetch_one(&mut *tx)
            .await
            .classified()?;

        let sql = queries::list_page(
            &query.collection,
            query.sort_by,
            query.ascending,
            query.after.is_some(),
            DB::param,
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
        Self::fetch_page(tx, page, page_of, ObjectRow::into_object, after).await
    }

    /// One page of the objects `search` matches (at `window`), and how many match, read in
    /// `tx` (one snapshot) as its plan says ([`search`]): where the plan is exact, the page
    /// read in order and the matches counted through the indexes; otherwise every object
    /// that meets the plan's conditions read in order, one row at a time, and matched.
    pub(in crate::storage) async fn search(
        mut tx: Transaction<'_, DB>,
        search: &Search,
        window: Offset,
    ) -> Result<Page<PolicyObject, u64>, StoreError> {
        let plan = search.plan();
        let types = match search::needs_types(&plan) {
            true => {
                let stored = sqlx::query_scalar::<DB, String>(search::STORED_TYPES)
                    .fetch_all(&mut *tx)
                    .await
                    .classified()?;
                Some(search::types_named(&plan, stored))
            }
            false => None,
        };
        if types.as_ref().is_some_and(Vec::is_empty) {
            return Ok(window.window().page());
        }
        let filter = Filter::of::<DB>(&plan, types.as_deref());
        let (sort_by, ascending) = search.order();
        let order = search::order::<DB>(sort_by, ascending);
        let page = match plan.exact {
            true => {
                let sql = filter.rows::<DB>(OBJECT_COLUMNS, &order, true);
                let mut rows = bound(sqlx::query_as::<DB, ObjectRow>(&sql), filter.binds())
                    .bind(fetched_for(window.page_size))
                    .bind(i64::try_from(window.offset).unwrap_or(i64::MAX))
                    .fetch_all(&mut *tx)
                    .await
                    .classified()?;
                let last = rows.len() as u64 <= u64::from(window.page_size);
                // A last page that holds a match tells how many there are, as does a first
                // page; otherwise they are counted through the index.
                let total = match last && (!rows.is_empty() || window.offset == 0) {
                    true => window.offset + rows.len() as u64,
                    false => {
                        let count = filter.count();
                        let (total,) = bound(sqlx::query_as::<DB, (i64,)>(&count), filter.binds())
                            .fetch_one(&mut *tx)
                            .await
                            .classified()?;
                        u64::try_from(total).unwrap_or_default()
                    }
                };
                rows.truncate(window.page_size as usize);
                let items: Vec<PolicyObject> = rows
                    .into_iter()
                    .map(ObjectRow::into_object)
                    .collect::<Result<_, _>>()?;
                Page {
                    next: Some(window.offset + items.len() as u64),
                    items,
                    total,
                }
            }
            false => {
                let sql = filter.rows::<DB>(OBJECT_COLUMNS, &order, false);
                let mut rows =
                    bound(sqlx::query_as::<DB, ObjectRow>(&sql), filter.binds()).fetch(&mut *tx);
                let mut page = window.window();
                while let Some(row) = rows.try_next().await.classified()? {
                    let object = row.into_object()?;
                    if search.matches(&object.served()) {
                        page.push(object);
                    }
                }
                drop(rows);
                page.page()
            }
        };
        tx.commit().await.classified()?;
        Ok(page)
    }

    /// One page of the revisions of an object, newest first, and how many it has, both read
    /// in `tx`.
    pub(in crate::storage) async fn revisions(
        mut tx: Transaction<'_, DB>,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        let total_sql = format!(
            "SELECT count(*) FROM policy_object_revisions WHERE path = {}",
            DB::param(1)
        );
        let total: i64 = sqlx::query_scalar::<DB, i64>(&total_sql)
            .bind(query.path.as_str())
            .fetch_one(&mut *tx)
            .await
            .classified()?;
        let page_sql = format!(
            "SELECT seq, path, revision, operation, object, change_time, change_user
             FROM policy_object_revisions
             WHERE path = {} AND seq < {}
             ORDER BY seq DESC
             LIMIT {}",
            DB::param(1),
            DB::param(2),
            DB::param(3)
        );
        let page = sqlx::query_as::<DB, RevisionRow>(&page_sql)
            .bind(query.path.as_str())
            .bind(query.after.map_or(i64::MAX, |after| after.seq))
            .bind(fetched_for(query.page_size));
        let after = |last: &RevisionRecord| RevisionPosition { seq: last.seq };
        let page_of = (query.page_size, total);
        Self::fetch_page(tx, page, page_of, RevisionRow::into_record, after).await
    }

    /// How many objects hang from `parent`, by type ([`queries::child_counts`]).
    pub(in crate::storage) async fn child_counts(
        pool: &Pool<DB>,
        parent: &str,
        cap: u32,
    ) -> Result<Vec<ChildCount>, StoreError> {
        sqlx::query_as::<DB, ChildCount>(&queries::child_counts(DB::param))
            .bind(parent)
            .bind(i64::from(cap))
            .fetch_all(pool)
            .await
            .classified()
    }

    /// The position of the last committed change.
    pub(in crate::storage) async fn last_change(pool: &Pool<DB>) -> Result<i64, StoreError> {
        sqlx::query_scalar::<DB, i64>(queries::LAST_EVENT)
            .fetch_one(pool)
            .await
            .classified()
    }

    /// Every object a client wrote, in path order ([`exported`]).
    pub(in crate::storage) async fn export(
        pool: &Pool<DB>,
    ) -> Result<Vec<PolicyObject>, StoreError> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM policy_objects ORDER BY {}",
            DB::BY_PATH
        );
        let rows = sqlx::query_as::<DB, ObjectRow>(&sql)
            .fetch_all(pool)
            .await
            .classified()?;
        exported(rows)
    }

    /// The rows of a page's query (asked for [`fetched_for`] its page's size), the last read
    /// of `tx`, made into the page of `page_size` items of a list of `total`.
    async fn fetch_page<'q, R, T, P>(
        mut tx: Transaction<'_, DB>,
        rows: QueryAs<'q, DB, R, DB::Arguments<'q>>,
        (page_size, total): (u32, i64),
        item: fn(R) -> Result<T, StoreError>,
        after: impl FnOnce(&T) -> P,
    ) -> Result<Page<T, P>, StoreError>
    where
        R: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
    {
        let rows = rows.fetch_all(&mut *tx).await.classified()?;
        tx.commit().await.classified()?;
        Page::from_fetched(rows, page_size, total, item, after)
    }
}

/// `query` with each of `texts` bound, in order.
fn bound<'q, DB, O>(
    query: QueryAs<'q, DB, O, DB::Arguments<'q>>,
    texts: &'q [String],
) -> QueryAs<'q, DB, O, DB::Arguments<'q>>
where
    DB: Dialect,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
{
    texts
        .iter()
        .fold(query, |query, text| query.bind(text.as_str()))
}

/// How many rows a page's query asks for: one more than the page holds, which tells whether
/// another page follows.
fn fetched_for(page_size: u32) -> i64 {
    i64::from(page_size) + 1
}
