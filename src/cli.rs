//! The command line. Each subcommand takes only the flags it uses; serving, the default,
//! takes its flags with or without the `serve` subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::configuration::Overrides;

/// A local stand-in for the VMware NSX Policy API: every Policy type (segments, gateways,
/// groups, security policies, Antrea traceflows with their runs, ...), with the Hierarchical
/// API, search and realized state, keeping every object and every past revision in a SQLite
/// file (or in PostgreSQL).
///
/// Settings come from the compiled-in defaults, then --config FILE, then the environment
/// (NSX_POLICY_STORE__SECTION__KEY), then flags; the README lists every key.
#[derive(Debug, Parser)]
/// A flag given twice counts once, the last: scripts can append to a base command line.
#[command(
    name = "nsx-policy-store",
    version,
    args_override_self = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Serving's flags, for when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the settings and the database are: every subcommand that opens the store takes these.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// A TOML file of settings, layered over the compiled-in defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The SQLite database file, or a postgres:// URL [setting storage.database; env
    /// NSX_POLICY_STORE__STORAGE__DATABASE; default data/nsx-policy-store.db].
    #[arg(long, value_name = "PATH|URL")]
    pub database: Option<String>,
}

/// The flags of serving.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Address to listen on; port 0 picks any free port [setting server.listen; env
    /// NSX_POLICY_STORE__SERVER__LISTEN; default 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Serve HTTPS [setting server.tls; env NSX_POLICY_STORE__SERVER__TLS; default off].
    #[arg(long)]
    pub tls: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (what runs when no command is given).
    Serve(ServeArgs),
    /// Print every revision of one object, newest first, as JSON, straight from the database
    /// file (no server needed). The same document as GET /store/v1/revisions?path=PATH.
    History {
        #[command(flatten)]
        store: StoreArgs,
        /// The object's policy path, e.g. /infra/antrea/traceflows/t14, or a traceflow's id,
        /// e.g. t14.
        object: String,
    },
    /// Copy the database, consistently, into a new FILE, while a server may keep writing to
    /// it. Restore by stopping the server and putting the copy in the database's place.
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// Where to write the copy; must not exist yet. Its folder is created when missing.
        file: PathBuf,
    },
    /// Remove every object, revision, run and script from a stopped store's database, as
    /// POST /store/v1/reset does (snapshots stay).
    Reset {
        #[command(flatten)]
        store: StoreArgs,
        /// Who the events stream says reset the store.
        #[arg(long = "as", value_name = "USER", default_value = "admin")]
        as_user: String,
    },
    /// Write every object of a stopped store's database, one JSON object a line, in path
    /// order, as GET /store/v1/export does.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Where to write; - for standard output.
        file: String,
    },
    /// Create objects in a stopped store's database, all or none: from an export (FILE, or -
    /// for standard input), or from the traceflow list of a live NSX Manager or another
    /// nsx-policy-store (--from).
    Import(ImportArgs),
    /// Print an argon2 hash of a password, for `password_hash` in `[[auth.users]]`. Reads the
    /// password from standard input (one line), or asks for it twice on a terminal.
    HashPassword,
}

/// The flags of `import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// An export to import; - for standard input.
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    pub file: Option<String>,
    /// The base URL of an NSX Manager or nsx-policy-store to import from, e.g.
    /// https://nsx.example.com.
    #[arg(long, value_name = "URL", requires = "user")]
    pub from: Option<String>,
    /// The user to authenticate as there (HTTP Basic).
    #[arg(long, value_name = "USER", requires = "from")]
    pub user: Option<String>,
    /// A file holding that user's password (one trailing newline is ignored); without it,
    /// the password is asked for on the terminal.
    #[arg(long, value_name = "FILE", requires = "from")]
    pub password_file: Option<PathBuf>,
    /// A PEM file of the certificate authority to trust there.
    #[arg(long, value_name = "FILE", requires = "from")]
    pub cacert: Option<PathBuf>,
    /// Also record each traceflow's status and observations there as its script, so that a
    /// run seen there replays here.
    #[arg(long, requires = "from")]
    pub with_results: bool,
    /// Who made the objects whose line does not say (`_create_user`).
    #[arg(long = "as", value_name = "USER", default_value = "admin")]
    pub as_user: String,
}

impl StoreArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            database: self.database.clone(),
            ..Overrides::default()
        }
    }
}

impl ServeArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen.clone(),
            tls: self.tls,
            ..self.store.overrides()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::configuration::Settings;

    /// The defaults `--help` states are the compiled-in ones.
    #[test]
    fn help_states_the_real_defaults() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("every Policy type"), "{help}");
        let defaults = Settings::load(&Overrides::default()).unwrap();
        for default in [
            defaults.server.listen.clone(),
            defaults.storage.database.to_string(),
        ] {
            assert!(help.contains(&format!("default {default}]")), "{help}");
        }
    }

    #[test]
    fn subcommands_refuse_flags_they_do_not_use() {
        for args in [
            &["nsx-policy-store", "history", "/x", "--listen", "0.0.0.0:1"][..],
            &["nsx-policy-store", "backup", "copy.db", "--tls"],
            &["nsx-policy-store", "hash-password", "--database", "x.db"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
        }
        let cli = Cli::try_parse_from(["nsx-policy-store", "--listen", "127.0.0.1:0"]).unwrap();
        assert_eq!(cli.serve.listen.as_deref(), Some("127.0.0.1:0"));
    }
}
