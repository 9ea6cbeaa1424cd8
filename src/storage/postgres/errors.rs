//! Which of PostgreSQL's failures mean "not now, maybe later": this engine's own policy,
//! read by the shared classification of [`crate::storage::StoreError`].

use sqlx::error::DatabaseError;
use sqlx::postgres::PgDatabaseError;

/// Whether `db` is PostgreSQL's error for a server that cannot serve now.
pub(in crate::storage) fn transient(db: &dyn DatabaseError) -> bool {
    db.try_downcast_ref::<PgDatabaseError>()
        .is_some_and(|db| transient_code(db.code()))
}

/// SQLSTATE classes and codes that mean "not now, maybe later": the connection failed (08),
/// the server is out of resources (53) or shutting down, restarting or refusing
/// connections (57P01-57P03), a hot standby that cannot write (25006), and a transaction
/// that lost a race it can retry (40001, 40P01, 55P03).
fn transient_code(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "25006" | "40001" | "40P01" | "55P03"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_is_down_or_restarting_is_transient() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53300", "40001", "25006",
        ] {
            assert!(transient_code(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "XX000"] {
            assert!(!transient_code(code), "{code}");
        }
    }
}
