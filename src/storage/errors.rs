//! How the store fails: [`StoreError`] (the request may be retried), [`WriteError`] (or the
//! write was refused), and how a driver's error becomes a [`StoreError`]: which failures
//! are the 503 of a store that cannot be reached or written now and heals by itself, which
//! are internal. Each engine names its own transient codes (`sqlite/errors.rs`,
//! `postgres/errors.rs`); the rest is the same for both.

use crate::domain::{ObjectPath, WriteRejection};

use super::postgres::errors as postgres;
use super::sqlite::errors as sqlite;

/// The store failed; the request may be retried.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be written now (disk full, read-only, locked by another process);
    /// it may succeed later without intervention.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, or data this version cannot read.
    #[error("store failure: {0}")]
    Internal(String),
}

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Rejected(#[from] WriteRejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WriteError {
    /// See [`WriteRejection::of_owner`].
    pub(super) fn of_owner(self, owner: &ObjectPath) -> Self {
        match self {
            WriteError::Rejected(rejection) => WriteError::Rejected(rejection.of_owner(owner)),
            other => other,
        }
    }
}

impl StoreError {
    /// A failure that is [`StoreError::Unavailable`] where `transient`.
    pub(super) fn classified(transient: bool, message: String) -> Self {
        match transient {
            true => StoreError::Unavailable(message),
            false => StoreError::Internal(message),
        }
    }
}

/// A failure of either engine's pool: a database's error is transient where its engine
/// says so; a connection that failed, or a pool out of connections or closed, is.
impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        let transient = match &err {
            sqlx::Error::Database(db) => {
                sqlite::transient(db.as_ref()) || postgres::transient(db.as_ref())
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            _ => false,
        };
        StoreError::classified(transient, err.to_string())
    }
}

/// A failure of SQLite's writer's connection.
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        let transient = match &err {
            rusqlite::Error::SqliteFailure(failure, _) => {
                sqlite::transient_code(failure.extended_code)
            }
            _ => false,
        };
        StoreError::classified(transient, err.to_string())
    }
}

/// `result.classified()?`: a driver's error as a [`StoreError`].
pub(super) trait Classified<T> {
    fn classified(self) -> Result<T, StoreError>;
}

impl<T, E> Classified<T> for Result<T, E>
where
    StoreError: From<E>,
{
    fn classified(self) -> Result<T, StoreError> {
        self.map_err(StoreError::from)
    }
}
