//! The row versions GETs ask for, many in one query.
//!
//! A GET asks PostgreSQL for the version of its row (`xmin`) before it serves the copy it
//! keeps. GETs that arrive while such queries are in flight wait, and the next query asks for
//! all of them at once (`path = ANY($1)`): one round trip, one wakeup of a backend, for as
//! many GETs as arrived meanwhile. Each query is sent after every GET in it arrived, so each
//! GET sees every write committed before it was received, by any instance: batching changes
//! what a GET waits for, never how old its answer can be.
//!
//! At most `lanes` queries are in flight; under light load each GET is its own query, as
//! before. The queries run in tasks of their own, on the store's runtime where the
//! connections live, so a GET whose client goes away while it waits leaves the others'
//! answers to come.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::lanes::Lanes;
use crate::storage::errors::Classified;
use crate::storage::StoreError;

/// The versions of the rows at a batch's paths; a path without a row is absent.
const VERSIONS_BY_PATH: &str =
    "SELECT path, xmin::text::bigint FROM policy_objects WHERE path = ANY($1)";

/// The most GETs one query asks for.
const MOST_PER_QUERY: usize = 256;

/// What a waiting GET is told: its row's version (`None`: no row), or why there is none.
type Answer = Result<Option<i64>, StoreError>;

pub(super) struct RowVersions {
    pool: PgPool,
    /// The store's runtime, where the pool's connections live: the queries run there,
    /// whichever runtime a GET waits on.
    runtime: Handle,
    lanes: Lanes<(String, oneshot::Sender<Answer>)>,
}

impl RowVersions {
    /// Queries on `pool`, from the runtime this is made on, at most `lanes` at once.
    pub(super) fn new(pool: PgPool, lanes: usize) -> Arc<Self> {
        Arc::new(Self {
            pool,
            runtime: Handle::current(),
            lanes: Lanes::new(lanes, MOST_PER_QUERY),
        })
    }

    /// The version of the row at `path` now (`None`: there is none).
    pub(super) async fn of(self: &Arc<Self>, path: &str) -> Answer {
        let (answer, answered) = oneshot::channel();
        if self.lanes.push((path.to_owned(), answer)) {
            self.runtime.spawn(Arc::clone(self).drain());
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Internal(
                "the query for the row's version ended without an answer".into(),
            ))
        })
    }

    /// One lane: queries for whatever waits, until nothing does.
    async fn drain(self: Arc<Self>) {
        while let Some(batch) = self.lanes.next() {
            let paths: Vec<&str> = batch.iter().map(|(path, _)| path.as_str()).collect();
            let found: Result<HashMap<String, i64>, StoreError> =
                sqlx::query_as::<_, (String, i64)>(VERSIONS_BY_PATH)
                    .bind(&paths)
                    .fetch_all(&self.pool)
                    .await
                    .classified()
                    .map(|rows| rows.into_iter().collect());
            for (path, answer) in batch {
                // A GET that is no longer waiting has dropped its receiver: nothing to tell.
                let _ = answer.send(match &found {
                    Ok(versions) => Ok(versions.get(&path).copied()),
                    Err(err) => Err(err.clone()),
                });
            }
        }
    }
}
