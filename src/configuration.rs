//! Settings, layered: the compiled-in `config/default.toml`, then `--config FILE`, then the
//! environment (`NSX_POLICY_STORE__SECTION__KEY`), then command-line flags. Unknown keys are
//! an error that names the key.

use std::path::PathBuf;

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

use crate::auth::Role;

const DEFAULTS: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "NSX_POLICY_STORE";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub body_limit: usize,
    /// How long a client may take to send a request's head, and then its body.
    pub request_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_secs: u64,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish.
    pub shutdown_grace_secs: u64,
    /// Serve HTTPS.
    pub tls: bool,
    /// PEM files of one's own certificate (chain) and key; both or neither. Without them a
    /// self-signed certificate is generated beside the database.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    pub database: PathBuf,
    pub durability: Durability,
    pub busy_timeout_ms: u64,
    pub read_connections: u32,
    /// Objects kept in memory for GETs by id; 0 turns the cache off.
    pub cache_objects: usize,
    /// WAL pages (4 KiB each) after which the writer checkpoints and the WAL starts over:
    /// about the largest the WAL file grows while writes keep coming.
    pub wal_checkpoint_pages: u32,
}

/// How hard a commit works to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=FULL`: every acknowledged write survives a power loss.
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process, not of the machine.
    Normal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// A session unused this long ends.
    pub session_idle_timeout_secs: u64,
    pub users: Vec<UserSettings>,
}

/// One `[[auth.users]]` entry: a name, a role, and exactly one of `password_hash` (argon2, as
/// `nsx-policy-store hash-password` prints it) and `password` (plain, for throwaway setups).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
}

/// What the command line overrides; `None` leaves the layers below in force.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub database: Option<PathBuf>,
    pub tls: bool,
}

impl Settings {
    /// Reads the settings from every layer.
    pub fn load(overrides: &Overrides) -> Result<Self, config::ConfigError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = &overrides.config_file {
            builder = builder.add_source(File::from(path.as_path()).required(true));
        }
        builder = builder.add_source(
            Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        if let Some(listen) = &overrides.listen {
            builder = builder.set_override("server.listen", listen.as_str())?;
        }
        if let Some(database) = &overrides.database {
            builder =
                builder.set_override("storage.database", database.to_string_lossy().as_ref())?;
        }
        if overrides.tls {
            builder = builder.set_override("server.tls", true)?;
        }
        let settings: Self = builder.build()?.try_deserialize()?;
        if settings.server.tls_cert.is_some() != settings.server.tls_key.is_some() {
            return Err(config::ConfigError::Message(
                "server.tls_cert and server.tls_key go together: set both or neither".into(),
            ));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_defaults_are_complete() {
        let settings = Settings::load(&Overrides::default()).unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:8080");
        assert_eq!(
            settings.storage.database,
            PathBuf::from("data/nsx-policy-store.db")
        );
        assert_eq!(settings.storage.durability, Durability::Full);
        assert!(!settings.server.tls);
        let users: Vec<_> = settings
            .auth
            .users
            .iter()
            .map(|u| (u.name.as_str(), u.role))
            .collect();
        assert_eq!(users, [("admin", Role::EnterpriseAdmin)]);
    }

    #[test]
    fn a_config_file_replaces_the_default_users() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users.toml");
        std::fs::write(
            &file,
            "[[auth.users]]\nname = \"audrey\"\nrole = \"auditor\"\npassword = \"x\"\n",
        )
        .unwrap();
        let overrides = Overrides {
            config_file: Some(file),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        let users: Vec<_> = settings
            .auth
            .users
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        assert_eq!(users, ["audrey"]);
    }

    #[test]
    fn flags_win_over_the_defaults() {
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".into()),
            database: Some("/tmp/x.db".into()),
            tls: true,
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:0");
        assert_eq!(settings.storage.database, PathBuf::from("/tmp/x.db"));
        assert!(settings.server.tls);
    }

    #[test]
    fn a_certificate_needs_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tls.toml");
        std::fs::write(&file, "[server]\ntls_cert = \"cert.pem\"\n").unwrap();
        let overrides = Overrides {
            config_file: Some(file),
            ..Overrides::default()
        };
        let err = Settings::load(&overrides).unwrap_err().to_string();
        assert!(err.contains("tls_key"), "{err}");
    }
}
