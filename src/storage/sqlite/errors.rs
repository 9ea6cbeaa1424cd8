//! What SQLite's failures mean to a client: which are the 503 of a store that cannot be
//! written now (and heals by itself), which are internal. This engine's own policy, mapped
//! onto the shared [`StoreError`].

use crate::storage::StoreError;

/// SQLite's primary result codes that mean "cannot write now, may later": locked by another
/// process, read-only, an I/O error, disk full, file unopenable.
const TRANSIENT: [i32; 6] = [
    5,  // SQLITE_BUSY
    6,  // SQLITE_LOCKED
    8,  // SQLITE_READONLY
    10, // SQLITE_IOERR
    13, // SQLITE_FULL
    14, // SQLITE_CANTOPEN
];

/// A failure of SQLite with this (extended) result code.
fn classify(extended_code: i32, message: String) -> StoreError {
    if TRANSIENT.contains(&(extended_code & 0xff)) {
        StoreError::Unavailable(message)
    } else {
        StoreError::Internal(message)
    }
}

pub(super) fn from_sqlx(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) => {
            let code = db.code().and_then(|code| code.parse().ok()).unwrap_or(0);
            classify(code, err.to_string())
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}

pub(super) fn from_rusqlite(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(failure, _) => {
            classify(failure.extended_code, err.to_string())
        }
        _ => StoreError::Internal(err.to_string()),
    }
}

/// `result.classified()?`: a driver's error as a [`StoreError`].
pub(super) trait Classified<T> {
    fn classified(self) -> Result<T, StoreError>;
}

impl<T> Classified<T> for Result<T, sqlx::Error> {
    fn classified(self) -> Result<T, StoreError> {
        self.map_err(from_sqlx)
    }
}

impl<T> Classified<T> for Result<T, rusqlite::Error> {
    fn classified(self) -> Result<T, StoreError> {
        self.map_err(from_rusqlite)
    }
}
