//! The migrations in `migrations/` are embedded by refinery's macro when the crate compiles;
//! cargo does not watch that folder by itself, so a migration added or changed without a
//! change to the Rust code would not be in the binary.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
