//! What only the SQLite engine has: its file, its tables and views for people with
//! `sqlite3`, its faults and its start-up checks. Every other module tests the contract
//! through HTTP and the command line alone.

mod faults;
mod machine_sqlite3;
mod schema;
mod wal;
