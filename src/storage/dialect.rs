//! What the SQL both engines share leaves to each: how a parameter is numbered, and how
//! text is compared in byte order, whatever a database's collation.

/// How an engine spells what the shared SQL ([`super::queries`], [`super::search`]) leaves
/// to it.
pub(in crate::storage) trait Dialect: sqlx::Database {
    /// The `n`th parameter of a statement: `?1` or `$1`.
    fn param(n: u8) -> String;
    /// An `ORDER BY` of paths in byte order (every listing of paths is in it).
    const BY_PATH: &'static str;
    /// `expr` compared in byte order.
    fn bytewise(expr: &str) -> String;
    /// `expr`'s text with its ASCII letters folded, compared in byte order: what the
    /// search's indexes hold (their migrations make them so).
    fn folded(expr: &str) -> String;
    /// `expr` where the database is not to read a condition on it through an index,
    /// because the search chose another: SQLite plans without statistics and would take
    /// the first it finds, PostgreSQL plans from the ones it keeps.
    fn unindexed(expr: &str) -> String;
}
