//! Settings, layered: the compiled-in `config/default.toml`, then `--config FILE`, then the
//! environment (`NSX_POLICY_STORE__SECTION__KEY`), then command-line flags.
//!
//! Every problem is reported in the user's terms: the full key (`storage.durability`), the
//! layer that set it (the file's path, the environment variable, the flag), and what the key
//! accepts. The settings are parsed here once; the rest of the service gets typed values
//! (a certificate pair, a user's one secret) and checks nothing again.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::error::Kind;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::Role;
use crate::determinism::DeterminismSettings;
use crate::domain::fault::{FaultRule, FaultSpec};
use crate::kinds::traceflow::run::TraceflowSettings;
use crate::telemetry::journal::JournalSettings;

const DEFAULTS: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "NSX_POLICY_STORE__";
const ENV_SEPARATOR: &str = "__";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub telemetry: TelemetrySettings,
    /// A kind's own section, of its own type (`kinds/`): the one line here that names a
    /// kind, as a section of the settings is a field of this struct (a flattened struct of
    /// the kinds' sections would lose the keys and origins of its errors).
    pub traceflow: TraceflowSettings,
    pub nsx: NsxSettings,
    pub determinism: DeterminismSettings,
    pub journal: JournalSettings,
    /// `[[faults]]`: rules in force from the start, in the shape `POST /store/v1/faults`
    /// takes. Read through [`Settings::fault_rules`].
    #[serde(default)]
    faults: Vec<FaultSpec>,
}

impl Settings {
    /// The configured fault rules, checked; an error names the rule (`faults[1]`) and field.
    pub fn fault_rules(&self) -> Result<Vec<FaultRule>, ConfigError> {
        self.faults
            .iter()
            .enumerate()
            .map(|(n, spec)| {
                FaultRule::new(spec.clone()).map_err(|err| {
                    ConfigError::Invalid(vec![Problem {
                        key: format!("faults[{n}]"),
                        origin: "the configuration's [[faults]]".into(),
                        message: err.to_string(),
                    }])
                })
            })
            .collect()
    }
}

/// What the store tells NSX clients about itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NsxSettings {
    /// The NSX version the probes answer (`node_version`, `product_version`).
    pub version: String,
    /// The inventory a store ships instead of its own lab: a file in the shape of
    /// `config/inventory.json`.
    #[serde(default)]
    pub inventory: Option<PathBuf>,
}

impl NsxSettings {
    /// Ships the inventory of the file `inventory` names, if it names one: before the store
    /// opens. An error names the file and what is wrong with it.
    pub fn ship_inventory(&self) -> anyhow::Result<()> {
        let Some(file) = &self.inventory else {
            return Ok(());
        };
        let json = std::fs::read_to_string(file)
            .map_err(|error| anyhow::anyhow!("nsx.inventory {}: {error}", file.display()))?;
        crate::domain::inventory::ship(&json)
            .map_err(|error| anyhow::anyhow!("nsx.inventory {}: {error}", file.display()))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub body_limit: usize,
    /// The largest import body (`POST /store/v1/import`), which holds a whole store.
    pub import_body_limit: usize,
    /// How long a client may take to send a request's head, and then its body.
    pub request_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_secs: u64,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish.
    pub shutdown_grace_secs: u64,
    /// Serve HTTPS.
    pub tls: bool,
    /// PEM files of one's own certificate (chain) and key; both or neither. Without them a
    /// self-signed certificate is generated beside the database. Read through
    /// [`ServerSettings::own_certificate`], which the loader has checked.
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

/// One's own certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificatePair<'a> {
    pub certificate: &'a Path,
    pub key: &'a Path,
}

impl ServerSettings {
    /// The configured certificate and key; `None` when neither is set (the loader refuses
    /// one without the other).
    pub fn own_certificate(&self) -> Option<CertificatePair<'_>> {
        Some(CertificatePair {
            certificate: self.tls_cert.as_deref()?,
            key: self.tls_key.as_deref()?,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// Where the store is: a SQLite file, or a PostgreSQL database.
    pub database: Database,
    pub durability: Durability,
    /// What only the SQLite engine has.
    pub sqlite: SqliteSettings,
    /// What only the PostgreSQL engine has.
    pub postgres: PostgresSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteSettings {
    /// How long a write waits for a lock held by another process.
    pub busy_timeout_ms: u64,
    /// Connections serving reads; the writer has its own.
    pub read_connections: u32,
    /// Objects kept in memory for GETs by id; 0 turns the cache off.
    pub cache_objects: usize,
    /// WAL pages (4 KiB each) past which the writer waits for the WAL to be copied into the
    /// database, so that it starts over: about the largest the WAL file grows while writes
    /// keep coming.
    pub wal_checkpoint_pages: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    /// Connections the instance keeps to PostgreSQL, for reads and writes alike.
    pub max_connections: u32,
    /// How long a request waits for a connection (or for PostgreSQL to answer a connect)
    /// before it answers 503.
    pub connect_timeout_ms: u64,
    /// Objects kept in memory for GETs by id, each served only while its row is unchanged
    /// in the database; 0 keeps one.
    pub cache_objects: usize,
}

/// `storage.database`: a `postgres://` or `postgresql://` URL runs on PostgreSQL; anything
/// else is the path of a SQLite file.
#[derive(Clone)]
pub enum Database {
    Sqlite(PathBuf),
    /// The URL may hold a password: it is kept secret, and shown without it.
    Postgres(SecretString),
}

impl Database {
    pub fn parse(location: &str) -> Self {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Self::Postgres(SecretString::from(location.to_owned()))
        } else {
            Self::Sqlite(PathBuf::from(location))
        }
    }

    /// The SQLite file, when the store is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// What the files kept beside the store (a generated TLS certificate) are named after:
    /// the SQLite file, or `data/nsx-policy-store` for PostgreSQL.
    pub fn local_files(&self) -> PathBuf {
        match self {
            Self::Sqlite(path) => path.clone(),
            Self::Postgres(_) => PathBuf::from("data/nsx-policy-store"),
        }
    }
}

/// The file, or the URL with its password replaced by `***`.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use secrecy::ExposeSecret;
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => {
                let url = url.expose_secret();
                match url::Url::parse(url) {
                    Ok(mut parsed) if parsed.password().is_some() => {
                        let _ = parsed.set_password(Some("***"));
                        write!(f, "{parsed}")
                    }
                    Ok(parsed) => write!(f, "{parsed}"),
                    Err(_) => f.write_str("postgres://(a URL that does not parse)"),
                }
            }
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

impl<'de> Deserialize<'de> for Database {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|location| Self::parse(&location))
    }
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

/// One `[[auth.users]]` entry: a name, a role, and its one secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "UserEntry")]
pub struct UserSettings {
    pub name: String,
    pub role: Role,
    pub secret: UserSecret,
}

/// How a configured user's password is known. Redacted in every `Debug` output.
#[derive(Debug, Clone)]
pub enum UserSecret {
    /// `password_hash`: an argon2 PHC string, as `nsx-policy-store hash-password` prints it.
    Hash(SecretString),
    /// `password`: the plain password, for throwaway setups.
    Plain(SecretString),
}

/// `[[auth.users]]` as written: exactly one of `password_hash` and `password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    role: Role,
    password_hash: Option<SecretString>,
    password: Option<SecretString>,
}

impl TryFrom<UserEntry> for UserSettings {
    type Error = String;

    fn try_from(entry: UserEntry) -> Result<Self, String> {
        let secret = match (entry.password_hash, entry.password) {
            (Some(hash), None) => {
                crate::auth::check_password_hash(&hash)
                    .map_err(|err| format!("user {:?}: password_hash {err}", entry.name))?;
                UserSecret::Hash(hash)
            }
            (None, Some(password)) => UserSecret::Plain(password),
            _ => {
                return Err(format!(
                    "user {:?}: set exactly one of password_hash and password",
                    entry.name
                ))
            }
        };
        Ok(Self {
            name: entry.name,
            role: entry.role,
            secret,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

/// How log events are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line an event.
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Where the metrics and health listener binds; `None`: no such listener.
    pub metrics_listen: Option<String>,
}

/// What the command line overrides; `None` leaves the layers below in force.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub database: Option<String>,
    pub tls: bool,
}

/// The settings could not be loaded: each problem with its key and the layer that set it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {cause}")]
    Unreadable { path: PathBuf, cause: String },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
}

/// One key that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The full dotted key, `storage.durability`.
    pub key: String,
    /// Where its value came from: `config file /etc/x.toml`, `environment variable ...`.
    pub origin: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (set by {})", self.key, self.message, self.origin)
    }
}

/// One layer of settings, and how to tell a user about it.
struct Layer {
    figment: Figment,
    /// Names where a key comes from in this layer.
    origin: Box<dyn Fn(&str) -> String>,
}

impl Settings {
    /// Reads the settings from every layer.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        let layers = layers(overrides)?;
        let merged = layers.iter().fold(Figment::new(), |all, layer| {
            all.merge(layer.figment.clone())
        });
        let settings: Self = merged.extract().map_err(|errors| {
            ConfigError::Invalid(errors.into_iter().map(|e| problem(&layers, e)).collect())
        })?;
        settings.check_combinations(&layers)?;
        Ok(settings)
    }

    /// The rules that tie one key to another.
    fn check_combinations(&self, layers: &[Layer]) -> Result<(), ConfigError> {
        let server = &self.server;
        if server.tls_cert.is_some() != server.tls_key.is_some() {
            let key = if server.tls_cert.is_some() {
                "server.tls_cert"
            } else {
                "server.tls_key"
            };
            return Err(ConfigError::Invalid(vec![Problem {
                key: key.into(),
                origin: origin_of(layers, key),
                message: "server.tls_cert and server.tls_key go together: set both or neither"
                    .into(),
            }]));
        }
        Ok(())
    }
}

/// The layers, lowest first.
fn layers(overrides: &Overrides) -> Result<Vec<Layer>, ConfigError> {
    let mut layers = vec![Layer {
        figment: Figment::from(Toml::string(DEFAULTS)),
        origin: Box::new(|_| "the compiled-in defaults".into()),
    }];
    if let Some(path) = &overrides.config_file {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Unreadable {
            path: path.clone(),
            cause: err.to_string(),
        })?;
        let named = format!("config file {}", path.display());
        layers.push(Layer {
            figment: Figment::from(Toml::string(&text)),
            origin: Box::new(move |_| named.clone()),
        });
    }
    layers.push(Layer {
        figment: Figment::from(Env::prefixed(ENV_PREFIX).split(ENV_SEPARATOR)),
        origin: Box::new(|key| {
            let name = key.replace('.', ENV_SEPARATOR).to_ascii_uppercase();
            format!("environment variable {ENV_PREFIX}{name}")
        }),
    });
    let mut flags = Figment::new();
    if let Some(listen) = &overrides.listen {
        flags = flags.merge(Serialized::default("server.listen", listen));
    }
    if let Some(database) = &overrides.database {
        flags = flags.merge(Serialized::default("storage.database", database));
    }
    if overrides.tls {
        flags = flags.merge(Serialized::default("server.tls", true));
    }
    layers.push(Layer {
        figment: flags,
        origin: Box::new(|key| match key {
            "server.listen" => "flag --listen".into(),
            "storage.database" => "flag --database".into(),
            _ => "flag --tls".into(),
        }),
    });
    Ok(layers)
}

/// The layer that set `key` (or the nearest enclosing key): the highest that has it.
fn origin_of(layers: &[Layer], key: &str) -> String {
    let mut candidate = key;
    loop {
        if let Some(layer) = layers.iter().rev().find(|l| l.figment.contains(candidate)) {
            return (layer.origin)(candidate);
        }
        match candidate.rsplit_once('.') {
            Some((parent, _)) => candidate = parent,
            None => return (layers[0].origin)(key),
        }
    }
}

/// One deserialization error, in the user's terms.
fn problem(layers: &[Layer], error: figment::Error) -> Problem {
    let mut key = error.path.clone();
    let message = match &error.kind {
        Kind::UnknownField(found, expected) => {
            if key.last() != Some(found) {
                key.push(found.clone());
            }
            format!("unknown key; this section takes {}", one_of(expected))
        }
        Kind::MissingField(field) => {
            if key.last().map(String::as_str) != Some(field) {
                key.push(field.to_string());
            }
            "required, but not set".into()
        }
        Kind::UnknownVariant(found, expected) => {
            format!("{found:?} is not one of {}", one_of(expected))
        }
        Kind::InvalidType(found, expected) => format!("expected {expected}, found {found}"),
        Kind::InvalidValue(found, expected) => format!("expected {expected}, found {found}"),
        other => other.to_string(),
    };
    let key = key.join(".");
    Problem {
        origin: origin_of(layers, &key),
        key,
        message,
    }
}

fn one_of(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_file(toml: &str) -> (Result<Settings, ConfigError>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.toml");
        std::fs::write(&file, toml).unwrap();
        let overrides = Overrides {
            config_file: Some(file),
            ..Overrides::default()
        };
        (Settings::load(&overrides), dir)
    }

    fn problems_of(result: Result<Settings, ConfigError>) -> Vec<Problem> {
        match result {
            Err(ConfigError::Invalid(problems)) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn the_compiled_in_defaults_are_complete() {
        let settings = Settings::load(&Overrides::default()).unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:8080");
        assert_eq!(
            settings.storage.database.sqlite_path(),
            Some(Path::new("data/nsx-policy-store.db"))
        );
        assert_eq!(settings.storage.durability, Durability::Full);
        assert!(!settings.server.tls);
        assert_eq!(settings.server.own_certificate(), None);
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
        let (settings, _dir) =
            load_file("[[auth.users]]\nname = \"audrey\"\nrole = \"auditor\"\npassword = \"x\"\n");
        let users: Vec<_> = settings
            .unwrap()
            .auth
            .users
            .iter()
            .map(|u| u.name.clone())
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
        assert_eq!(
            settings.storage.database.sqlite_path(),
            Some(Path::new("/tmp/x.db"))
        );
        assert!(settings.server.tls);
    }

    #[test]
    fn a_certificate_needs_its_key() {
        let (result, dir) = load_file("[server]\ntls_cert = \"cert.pem\"\n");
        let problems = problems_of(result);
        assert_eq!(problems[0].key, "server.tls_cert");
        let file = dir.path().join("settings.toml");
        assert_eq!(
            problems[0].origin,
            format!("config file {}", file.display())
        );
        assert!(problems[0].message.contains("tls_key"), "{problems:?}");
    }

    #[test]
    fn problems_name_the_full_key_its_file_and_the_accepted_values() {
        let (result, dir) = load_file("[storage]\ndurability = \"fast\"\n");
        let file = dir.path().join("settings.toml");
        let problems = problems_of(result);
        assert_eq!(
            problems,
            [Problem {
                key: "storage.durability".into(),
                origin: format!("config file {}", file.display()),
                message: "\"fast\" is not one of `full`, `normal`".into(),
            }]
        );

        let (result, _dir) = load_file("[server]\nlisen = \"x\"\n");
        let problem = &problems_of(result)[0];
        assert_eq!(problem.key, "server.lisen");
        assert!(problem.message.contains("`listen`"), "{problem}");

        let (result, _dir) = load_file("[[auth.users]]\nname = \"a\"\nrole = \"root\"\n");
        let problem = &problems_of(result)[0];
        assert!(problem.key.starts_with("auth.users"), "{problem}");
        assert!(problem.message.contains("`enterprise_admin`"), "{problem}");

        // A kind's section is named and checked as the core's are.
        for (toml, key, message) in [
            (
                "[tracefow]\nresults = \"none\"\n",
                "tracefow",
                "`traceflow`",
            ),
            (
                "[traceflow]\nresults = \"x\"\n",
                "traceflow.results",
                "`simulate`, `none`",
            ),
            (
                "[traceflow]\nresluts = \"none\"\n",
                "traceflow.resluts",
                "`results`",
            ),
        ] {
            let (result, _dir) = load_file(toml);
            let problem = &problems_of(result)[0];
            assert_eq!(problem.key, key, "{problem}");
            assert!(problem.message.contains(message), "{problem}");
        }

        let (result, _dir) =
            load_file("[[auth.users]]\nname = \"a\"\nrole = \"auditor\"\npassword_hash = \"no\"\n");
        let problem = &problems_of(result)[0];
        assert!(problem.message.contains("password_hash"), "{problem}");
    }

    #[test]
    fn a_missing_config_file_is_named() {
        let overrides = Overrides {
            config_file: Some("/nonexistent/settings.toml".into()),
            ..Overrides::default()
        };
        let err = Settings::load(&overrides).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/settings.toml"), "{err}");
    }

    #[test]
    fn plain_passwords_never_reach_debug_output() {
        let (settings, _dir) = load_file(
            "[[auth.users]]\nname = \"a\"\nrole = \"auditor\"\npassword = \"hunter2-secret\"\n",
        );
        let debug = format!("{:?}", settings.unwrap());
        assert!(!debug.contains("hunter2-secret"), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
    }
}
