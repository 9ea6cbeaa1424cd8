//! What PostgreSQL's failures mean to a client: which are the 503 of a store that cannot be
//! reached or written now (and heals by itself), which are internal. This engine's own
//! policy, mapped onto the shared [`StoreError`].

use crate::storage::StoreError;

/// SQLSTATE classes and codes that mean "not now, maybe later": the connection failed (08),
/// the server is out of resources (53) or shutting down, restarting or refusing
/// connections (57P01-57P03), a hot standby that cannot write (25006), and a transaction
/// that lost a race it can retry (40001, 40P01, 55P03).
fn transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "25006" | "40001" | "40P01" | "55P03"
        )
}

pub(super) fn from_sqlx(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.code().as_deref().is_some_and(transient) => {
            StoreError::Unavailable(err.to_string())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}

/// `result.classified()?`: the driver's error as a [`StoreError`].
pub(super) trait Classified<T> {
    fn classified(self) -> Result<T, StoreError>;
}

impl<T> Classified<T> for Result<T, sqlx::Error> {
    fn classified(self) -> Result<T, StoreError> {
        self.map_err(from_sqlx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_is_down_or_restarting_is_transient() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53300", "40001", "25006",
        ] {
            assert!(transient(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "XX000"] {
            assert!(!transient(code), "{code}");
        }
    }
}
