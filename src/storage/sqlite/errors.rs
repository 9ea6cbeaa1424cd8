//! Which of SQLite's failures mean "cannot write now, may later": this engine's own policy,
//! read by the shared classification of [`crate::storage::StoreError`] for both its drivers
//! (the readers' sqlx, the writer's rusqlite).

use sqlx::error::DatabaseError;
use sqlx::sqlite::SqliteError;

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

/// Whether a failure with this (extended) result code is transient.
pub(in crate::storage) fn transient_code(extended_code: i32) -> bool {
    TRANSIENT.contains(&(extended_code & 0xff))
}

/// Whether `db` is SQLite's error (as the readers' pool reports it) for a store that cannot
/// be written now.
pub(in crate::storage) fn transient(db: &dyn DatabaseError) -> bool {
    db.try_downcast_ref::<SqliteError>().is_some_and(|db| {
        let code = db.code().and_then(|code| code.parse().ok()).unwrap_or(0);
        transient_code(code)
    })
}
