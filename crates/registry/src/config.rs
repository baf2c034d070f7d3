//! Server settings and where they come from.
//!
//! Precedence, highest first: command-line flag, environment variable (`DOORSTEP_REGISTRY_*`),
//! config file (`--config`, TOML), built-in default. Flags and variables are merged by clap; the
//! file fills in whatever both left unset. Unknown keys in the file are an error, so a typo never
//! silently falls back to a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::auth::AuthConfig;
use crate::storage::DatabaseLocation;

/// Where the server listens unless told otherwise: loopback only, so a fresh install is never
/// reachable from the network by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";
/// How long in-flight requests may take to finish after a shutdown signal.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers, from its first byte (or from
/// connecting, for a connection's first request).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a keep-alive connection may sit idle between requests before the server closes it.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How many connections are served at once; further clients wait in the listen queue.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Everything the server needs to start, fully resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Directory holding the document blobs, and the database file when it is SQLite.
    pub data_dir: PathBuf,
    /// Where the records live: embedded SQLite (default) or PostgreSQL.
    pub database: DatabaseLocation,
    /// Load the demo programmes on start (idempotent).
    pub demo: bool,
    pub shutdown_grace: Duration,
    /// Connection timeouts and the cap on open connections.
    pub connections: Connections,
    /// How bearer tokens are verified (the `[auth]` section of the config file).
    pub auth: AuthConfig,
    /// Also trust development tokens signed by the key in `<data>/dev-auth/` (`--dev-auth`).
    pub dev_auth: bool,
    /// Per-caller request limits (the `[limits]` section).
    pub limits: Limits,
    /// Signing in through the registry for providers that need a confidential client
    /// (eSignet's `private_key_jwt`); the `[signin]` section. `None`: the exchange is off.
    pub signin: Option<crate::auth::ExchangeConfig>,
    /// What field agents must do (the `[agents]` section).
    pub agents: AgentRules,
    /// Messages beyond the app: e-mail, the webhook, retries (the `[outbound]` section).
    pub outbound: crate::outbound::OutboundConfig,
    /// The registry's reminders: how often, liveness due soon and overdue (`[scheduler]`).
    pub scheduler: crate::outbound::SchedulerConfig,
    /// Liveness step-ups: at which providers, asking what (`[liveness]`).
    pub liveness: crate::liveness::LivenessConfig,
}

/// Rules for field agents. Every key is optional in the `[agents]` section of the config file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentRules {
    /// An agent may write about a person only once the person's consent is on record (a
    /// programme can also require it for its applications alone: `requires_consent`).
    pub require_consent: bool,
}

/// Request limits. Every key is optional in the `[limits]` section of the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Sustained requests per minute one identity may make; 0 turns the limit off.
    pub requests_per_minute: u32,
    /// How many requests one identity may make at once before the rate applies.
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        // Generous for a person or a field laptop syncing a week of work, tight for a script.
        Limits {
            requests_per_minute: 600,
            burst: 120,
        }
    }
}

/// What the server allows each connection, so that slow or idle clients cannot hold sockets (and
/// file descriptors) for ever. Request bodies and handlers are timed separately, per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Longest time to receive a request's headers: from the connection being accepted (first
    /// request) or from the first byte of the request (later requests on a keep-alive connection).
    pub header_read_timeout: Duration,
    /// Longest time a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Connections served at once. When reached, the server stops accepting until one closes.
    pub max_connections: usize,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl Config {
    /// A configuration for tests and embedding: the given data directory, an ephemeral loopback port.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            database: DatabaseLocation::EmbeddedSqlite,
            demo: false,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            connections: Connections::default(),
            auth: AuthConfig::default(),
            dev_auth: false,
            limits: Limits::default(),
            signin: None,
            agents: AgentRules::default(),
            outbound: crate::outbound::OutboundConfig::default(),
            scheduler: crate::outbound::SchedulerConfig::default(),
            liveness: crate::liveness::LivenessConfig::default(),
        }
    }
}

/// The settings as given on the command line or in the environment; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub demo: Option<bool>,
    pub shutdown_grace_secs: Option<u64>,
    pub header_read_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub dev_auth: Option<bool>,
}

/// The config file's format. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    database: Option<String>,
    demo: Option<bool>,
    shutdown_grace_secs: Option<u64>,
    header_read_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    dev_auth: Option<bool>,
    auth: Option<AuthConfig>,
    limits: Option<Limits>,
    signin: Option<crate::auth::ExchangeConfig>,
    agents: Option<AgentRules>,
    outbound: Option<crate::outbound::config::OutboundFile>,
    scheduler: Option<crate::outbound::config::SchedulerFile>,
    liveness: Option<crate::liveness::LivenessConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid database setting: {0}")]
    Database(String),
    #[error(
        "no data directory given: pass --data <dir>, set DOORSTEP_REGISTRY_DATA, or put `data = \"<dir>\"` in the config file"
    )]
    MissingDataDir,
    #[error("invalid [auth] setting: {0}")]
    Auth(String),
    #[error("invalid [liveness] setting: {0}")]
    Liveness(String),
    #[error("invalid connection setting: {0}")]
    Connections(String),
    #[error(transparent)]
    Setting(#[from] crate::outbound::config::SettingError),
    #[error(
        "--dev-auth trusts a key anyone with the data folder can use, so it only runs on a loopback \
         address (127.0.0.1 or ::1), not on {0}; configure [auth] with your identity provider instead"
    )]
    DevAuthNotLoopback(SocketAddr),
}

impl Overrides {
    /// Combine these overrides with the config file (if any) and the defaults.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let file = match &self.config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        // A relative `data` path in a config file is relative to that file, not to wherever the
        // server happened to be started from.
        let file_data = file.data.map(|data| match &self.config_file {
            Some(cfg) if data.is_relative() => cfg.parent().unwrap_or(Path::new(".")).join(data),
            _ => data,
        });
        let listen = self
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("default address parses"));
        let dev_auth = self.dev_auth.or(file.dev_auth).unwrap_or(false);
        if dev_auth && !listen.ip().is_loopback() {
            return Err(ConfigError::DevAuthNotLoopback(listen));
        }
        let connections = Connections {
            header_read_timeout: seconds(
                "header_read_timeout_secs",
                self.header_read_timeout_secs
                    .or(file.header_read_timeout_secs),
                DEFAULT_HEADER_READ_TIMEOUT,
            )?,
            idle_timeout: seconds(
                "idle_timeout_secs",
                self.idle_timeout_secs.or(file.idle_timeout_secs),
                DEFAULT_IDLE_TIMEOUT,
            )?,
            max_connections: match self.max_connections.or(file.max_connections) {
                Some(0) => {
                    return Err(ConfigError::Connections(
                        "`max_connections` must be at least 1".into(),
                    ))
                }
                Some(n) => n,
                None => DEFAULT_MAX_CONNECTIONS,
            },
        };
        Ok(Config {
            listen,
            data_dir: self
                .data_dir
                .or(file_data)
                .ok_or(ConfigError::MissingDataDir)?,
            database: match self.database.or(file.database) {
                Some(value) => DatabaseLocation::parse(&value).map_err(ConfigError::Database)?,
                None => DatabaseLocation::EmbeddedSqlite,
            },
            demo: self.demo.or(file.demo).unwrap_or(false),
            shutdown_grace: self
                .shutdown_grace_secs
                .or(file.shutdown_grace_secs)
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_SHUTDOWN_GRACE),
            connections,
            dev_auth,
            limits: file.limits.unwrap_or_default(),
            agents: file.agents.unwrap_or_default(),
            outbound: file
                .outbound
                .unwrap_or_default()
                .resolve(&|name| std::env::var(name).ok())?,
            scheduler: file.scheduler.unwrap_or_default().resolve()?,
            liveness: {
                let liveness = file.liveness.unwrap_or_default();
                let trusted: Vec<String> = file
                    .auth
                    .as_ref()
                    .map(|a| {
                        a.issuer_settings()
                            .map(|all| all.into_iter().map(|s| s.issuer).collect::<Vec<String>>())
                    })
                    .transpose()
                    .map_err(ConfigError::Auth)?
                    .unwrap_or_default();
                liveness
                    .validate(&trusted, file.signin.as_ref().map(|s| s.issuer.as_str()))
                    .map_err(ConfigError::Liveness)?;
                liveness
            },
            signin: file.signin,
            auth: {
                let auth = file.auth.unwrap_or_default();
                auth.validate().map_err(ConfigError::Auth)?;
                auth
            },
        })
    }
}

/// The `[signin]` section of a config file, read as `serve --config` reads it (the whole file must
/// be valid), for commands that need only the sign-in client (`doorstep-registry signin-jwks`).
pub fn signin_section(path: &Path) -> Result<Option<crate::auth::ExchangeConfig>, ConfigError> {
    Ok(read_file(path)?.signin)
}

/// A connection timeout in whole seconds: at least 1 (a timeout of 0 would close every connection,
/// and no timeout at all is what lets idle clients exhaust the server's sockets).
fn seconds(key: &str, value: Option<u64>, default: Duration) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(0) => Err(ConfigError::Connections(format!(
            "`{key}` must be at least 1 second"
        ))),
        Some(secs) if secs > 24 * 3600 => Err(ConfigError::Connections(format!(
            "`{key}` = {secs} is more than a day; connections held that long are what the timeout is there to prevent"
        ))),
        Some(secs) => Ok(Duration::from_secs(secs)),
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("registry.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn defaults_apply_when_nothing_is_given_but_data() {
        let cfg = Overrides {
            data_dir: Some("/srv/d".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(cfg.listen.to_string(), DEFAULT_LISTEN);
        assert!(!cfg.demo);
        assert_eq!(cfg.shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
        assert_eq!(cfg.database, DatabaseLocation::EmbeddedSqlite);
    }

    #[test]
    fn database_comes_from_flag_or_file_and_bad_values_are_clear() {
        let cfg = Overrides {
            data_dir: Some("/d".into()),
            database: Some("postgres://reg@127.0.0.1:5432/registry".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert!(matches!(cfg.database, DatabaseLocation::Postgres(_)));
        let err = Overrides {
            data_dir: Some("/d".into()),
            database: Some("oracle://x".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(
            err.to_string().contains("unsupported database scheme"),
            "{err}"
        );
    }

    #[test]
    fn missing_data_dir_is_a_clear_error() {
        let err = Overrides::default().resolve().unwrap_err();
        assert!(matches!(err, ConfigError::MissingDataDir));
        assert!(err.to_string().contains("--data"));
    }

    #[test]
    fn outbound_and_scheduler_sections_are_read_and_bad_values_name_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("hook-secret");
        std::fs::write(&secret, "0123456789abcdef0123\n").unwrap();
        let path = write(
            dir.path(),
            &format!(
                "data = \"x\"\n[outbound]\nmax_attempts = 3\n[outbound.email]\nhost = \"127.0.0.1\"\nport = 2525\nfrom = \"Registry <r@example.org>\"\ntls = \"none\"\n\
                 [outbound.webhook]\nurl = \"http://127.0.0.1:9/hook\"\nsecret_file = {:?}\n[scheduler]\nperiod_secs = 60\nliveness_due_soon_days = 7\ndeadline_soon_days = 3\n",
                secret.display().to_string()
            ),
        );
        let cfg = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(cfg.outbound.max_attempts, 3);
        assert_eq!(cfg.outbound.email.as_ref().unwrap().port, 2525);
        assert_eq!(
            cfg.outbound.webhook.as_ref().unwrap().secret.expose(),
            "0123456789abcdef0123"
        );
        assert_eq!(cfg.scheduler.period, Duration::from_secs(60));
        assert_eq!(cfg.scheduler.liveness_due_soon_days, 7);
        assert_eq!(cfg.scheduler.deadline_soon_days, 3);

        let path = write(
            dir.path(),
            "data = \"x\"\n[outbound.email]\nhost = \"h\"\nfrom = \"not an address\"\n",
        );
        let err = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("outbound.email.from"), "{err}");
        let path = write(
            dir.path(),
            "data = \"x\"\n[scheduler]\nliveness_grace_days = 99999\n",
        );
        let err = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(
            err.to_string().contains("scheduler.liveness_grace_days"),
            "{err}"
        );
        // An unknown key in the section is refused by name too.
        let path = write(
            dir.path(),
            "data = \"x\"\n[outbound.webhook]\nurl = \"https://a.example\"\nsecret = \"inline\"\n",
        );
        let err = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn file_fills_gaps_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "listen = \"127.0.0.1:9000\"\ndata = \"store\"\ndemo = true\nshutdown_grace_secs = 3\n",
        );
        let cfg = Overrides {
            config_file: Some(path),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(cfg.listen.port(), 9100, "flag beats file");
        assert_eq!(
            cfg.data_dir,
            dir.path().join("store"),
            "relative to the file"
        );
        assert!(cfg.demo);
        assert_eq!(cfg.shutdown_grace, Duration::from_secs(3));
    }

    #[test]
    fn connection_timeouts_come_from_flag_or_file_and_zero_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Overrides {
            data_dir: Some("/d".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(cfg.connections, Connections::default());
        assert_eq!(cfg.connections.header_read_timeout, Duration::from_secs(10));
        assert_eq!(cfg.connections.idle_timeout, Duration::from_secs(60));

        let path = write(
            dir.path(),
            "data = \"x\"\nheader_read_timeout_secs = 5\nidle_timeout_secs = 30\nmax_connections = 200\n",
        );
        let cfg = Overrides {
            config_file: Some(path.clone()),
            idle_timeout_secs: Some(20),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            cfg.connections,
            Connections {
                header_read_timeout: Duration::from_secs(5),
                idle_timeout: Duration::from_secs(20),
                max_connections: 200,
            },
            "file fills gaps, flag wins"
        );

        for (overrides, key) in [
            (
                Overrides {
                    header_read_timeout_secs: Some(0),
                    ..Default::default()
                },
                "header_read_timeout_secs",
            ),
            (
                Overrides {
                    idle_timeout_secs: Some(0),
                    ..Default::default()
                },
                "idle_timeout_secs",
            ),
            (
                Overrides {
                    max_connections: Some(0),
                    ..Default::default()
                },
                "max_connections",
            ),
        ] {
            let err = Overrides {
                data_dir: Some("/d".into()),
                ..overrides
            }
            .resolve()
            .unwrap_err();
            assert!(matches!(err, ConfigError::Connections(_)), "{err}");
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn unknown_key_in_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "data = \"x\"\nlisten_port = 80\n");
        let err = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("listen_port"), "{err}");
    }

    #[test]
    fn auth_section_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "data = \"x\"\ndev_auth = true\n[auth]\nissuer = \"https://id.example.org\"\naudience = \"doorstep\"\nrole_claim = \"groups\"\n",
        );
        let cfg = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert!(cfg.dev_auth);
        assert_eq!(cfg.auth.issuer.as_deref(), Some("https://id.example.org"));
        assert_eq!(cfg.auth.role_claim, "groups");
        assert_eq!(cfg.auth.leeway_seconds, 60, "unset keys keep defaults");

        let cfg = Overrides {
            data_dir: Some("/d".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert!(!cfg.dev_auth);
        assert_eq!(cfg.auth, AuthConfig::default());

        let path = write(
            dir.path(),
            "data = \"x\"\n[auth]\nissuer = \"https://id.example.org\"\n",
        );
        let err = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("audience"), "{err}");

        let path = write(
            dir.path(),
            "data = \"x\"\n[auth]\nisuer = \"https://id.example.org\"\n",
        );
        let err = Overrides {
            config_file: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("isuer"), "{err}");
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let err = Overrides {
            config_file: Some("/nonexistent/r.toml".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/r.toml"), "{err}");
    }

    #[test]
    fn dev_auth_refuses_a_non_loopback_address() {
        let dir = tempfile::tempdir().unwrap();
        let overrides = |listen: &str| Overrides {
            data_dir: Some(dir.path().to_owned()),
            listen: Some(listen.parse().unwrap()),
            dev_auth: Some(true),
            ..Overrides::default()
        };
        let err = overrides("0.0.0.0:8700").resolve().unwrap_err();
        assert!(matches!(err, ConfigError::DevAuthNotLoopback(_)), "{err}");
        assert!(err.to_string().contains("loopback"));
        assert!(overrides("127.0.0.1:8700").resolve().unwrap().dev_auth);
        assert!(overrides("[::1]:8700").resolve().is_ok());
    }

    #[test]
    fn limits_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "data = \"x\"\n[limits]\nrequests_per_minute = 30\n",
        );
        let cfg = Overrides {
            config_file: Some(path),
            ..Overrides::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            cfg.limits,
            Limits {
                requests_per_minute: 30,
                burst: Limits::default().burst
            }
        );
        let bad = write(
            dir.path(),
            "data = \"x\"\n[limits]\nrequests_per_hour = 30\n",
        );
        assert!(Overrides {
            config_file: Some(bad),
            ..Overrides::default()
        }
        .resolve()
        .is_err());
    }
}
