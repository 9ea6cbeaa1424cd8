//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::configuration::Overrides;

/// A local stand-in for the VMware NSX Policy API (Antrea traceflow configs), keeping every
/// object and every past revision in a SQLite file.
#[derive(Debug, Parser)]
/// A flag given twice counts once, the last: scripts can append to a base command line.
#[command(name = "nsx-policy-store", version, args_override_self = true)]
pub struct Cli {
    /// A TOML file of settings, layered over the compiled-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port).
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<String>,

    /// The SQLite database file.
    #[arg(long, global = true, value_name = "PATH")]
    pub database: Option<PathBuf>,

    /// Serve HTTPS (server.tls).
    #[arg(long, global = true)]
    pub tls: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (what runs when no command is given).
    Serve,
    /// Print every revision of one object, newest first, as JSON, straight from the database
    /// file (no server needed). The same document as GET /store/v1/revisions?path=PATH.
    History {
        /// The object's policy path, e.g. /infra/antrea/traceflows/t14.
        path: String,
    },
    /// Copy the database, consistently, into a new FILE, while a server may keep writing to
    /// it. Restore by stopping the server and putting the copy in the database's place.
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
    /// Print an argon2 hash of a password, for `password_hash` in `[[auth.users]]`. Reads the
    /// password from standard input (one line), or asks for it on a terminal.
    HashPassword,
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            listen: self.listen.clone(),
            database: self.database.clone(),
            tls: self.tls,
        }
    }
}
