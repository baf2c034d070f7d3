//! The `[outbound]` and `[scheduler]` sections of the config file: where messages beyond the
//! app go, how their delivery is retried, and when the registry's reminders are made.
//!
//! Secrets (the SMTP password, the webhook's signing secret) are named by an environment
//! variable or a file, never written in the config file itself, and never printed: [`Secret`]
//! shows as `***` in every `Debug`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// A value that must not reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP, upgraded with STARTTLS (refused if the server does not offer it). Port 587.
    Starttls,
    /// TLS from the first byte (SMTPS). Port 465.
    Tls,
    /// Plain text: only for a relay on this machine (credentials are refused with it unless the
    /// host is a loopback address).
    None,
}

impl TlsMode {
    fn default_port(self) -> u16 {
        match self {
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
            TlsMode::None => 25,
        }
    }
}

/// `[outbound.email]` as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailFile {
    host: String,
    port: Option<u16>,
    from: String,
    tls: Option<TlsMode>,
    username: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    timeout_secs: Option<u64>,
}

/// `[outbound.webhook]` as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookFile {
    url: String,
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
    timeout_secs: Option<u64>,
}

/// `[outbound]` as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundFile {
    email: Option<EmailFile>,
    webhook: Option<WebhookFile>,
    worker_period_secs: Option<u64>,
    batch: Option<u32>,
    max_attempts: Option<u32>,
    retry_base_secs: Option<u64>,
    retry_max_secs: Option<u64>,
    lease_secs: Option<u64>,
}

/// `[scheduler]` as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerFile {
    enabled: Option<bool>,
    period_secs: Option<u64>,
    liveness_interval_days: Option<u32>,
    liveness_grace_days: Option<u32>,
    liveness_due_soon_days: Option<u32>,
    liveness_first_check_days: Option<u32>,
    deadline_soon_days: Option<u32>,
}

/// E-mail over SMTP, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    /// The `From:` mailbox, e.g. `Registry <noreply@example.org>`.
    pub from: String,
    pub tls: TlsMode,
    pub credentials: Option<(String, Secret)>,
    pub timeout: Duration,
}

/// The webhook (an SMS gateway), resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: url::Url,
    /// Signs each body (HMAC-SHA256), so the gateway knows it came from the registry.
    pub secret: Secret,
    pub timeout: Duration,
}

/// Where messages beyond the app go and how delivery is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConfig {
    /// `None`: no e-mail is sent, and no e-mail is kept in the outbox.
    pub email: Option<EmailConfig>,
    /// `None`: no SMS is sent, and none is kept in the outbox.
    pub webhook: Option<WebhookConfig>,
    /// How often the delivery worker looks for messages that are due.
    pub worker_period: Duration,
    /// Messages one look claims at most.
    pub batch: u32,
    /// Attempts before a message is given up (`failed`).
    pub max_attempts: u32,
    /// The wait before the first retry; each further one waits twice as long, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long a claim holds: a message claimed by a process that stopped is sent by another
    /// (or the same, restarted) after this.
    pub lease: Duration,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            email: None,
            webhook: None,
            worker_period: Duration::from_secs(5),
            batch: 20,
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
        }
    }
}

impl OutboundConfig {
    /// The wait before attempt `attempts + 1`, after `attempts` failed: base, 2×base, 4×base…
    /// up to `retry_max`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.retry_base
            .saturating_mul(1_u32 << doublings)
            .min(self.retry_max)
    }
}

/// When the registry's time-based reminders are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Whether this process takes part in running the jobs (another process on the same
    /// database may run them instead; at most one runs each job at a time anyway).
    pub enabled: bool,
    /// How often each job runs (across every registry process on the database).
    pub period: Duration,
    /// A passed liveness check sent without `next_due` is due again this many days later.
    pub liveness_interval_days: u32,
    /// Days after the due day before a check is overdue.
    pub liveness_grace_days: u32,
    /// Days before the due day the "due soon" reminder is sent.
    pub liveness_due_soon_days: u32,
    /// A registrant never checked is due this many days after being registered (0: at once),
    /// or after their interval if that is sooner; `None`: after their interval.
    pub liveness_first_check_days: Option<u32>,
    /// Days before a programme's applications close that people with a draft are reminded.
    pub deadline_soon_days: u32,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            enabled: true,
            period: Duration::from_secs(600),
            liveness_interval_days: 365,
            liveness_grace_days: 30,
            liveness_due_soon_days: 14,
            liveness_first_check_days: None,
            deadline_soon_days: 7,
        }
    }
}

/// A bad value, naming its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{key}`: {message}")]
pub struct SettingError {
    pub key: String,
    pub message: String,
}

fn bad(key: &str, message: impl Into<String>) -> SettingError {
    SettingError {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// Whole seconds between `min` and `max`, or the default.
fn secs(
    key: &str,
    value: Option<u64>,
    min: u64,
    max: u64,
    default: Duration,
) -> Result<Duration, SettingError> {
    match value {
        None => Ok(default),
        Some(v) if v < min || v > max => Err(bad(
            key,
            format!("{v} is not between {min} and {max} seconds"),
        )),
        Some(v) => Ok(Duration::from_secs(v)),
    }
}

/// A secret from an environment variable or a file (trailing newline dropped), exactly one.
fn secret(
    section: &str,
    name: &str,
    env: Option<&str>,
    file: Option<&PathBuf>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, SettingError> {
    let value = match (env, file) {
        (Some(_), Some(_)) => {
            return Err(bad(
                &format!("{section}.{name}_env"),
                format!("give {name}_env or {name}_file, not both"),
            ))
        }
        (Some(var), None) => Some(lookup(var).ok_or_else(|| {
            bad(
                &format!("{section}.{name}_env"),
                format!("the environment variable {var} is not set"),
            )
        })?),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| {
                    bad(
                        &format!("{section}.{name}_file"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        ),
        (None, None) => None,
    };
    match value {
        Some(v) if v.is_empty() => Err(bad(
            &format!("{section}.{name}_env"),
            format!("the {name} is empty"),
        )),
        v => Ok(v.map(Secret)),
    }
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl OutboundFile {
    /// The section checked and resolved; secrets read through `lookup` (the environment).
    pub fn resolve(
        self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<OutboundConfig, SettingError> {
        let defaults = OutboundConfig::default();
        let email = match self.email {
            None => None,
            Some(e) => {
                let key = "outbound.email";
                if e.host.trim().is_empty() {
                    return Err(bad(
                        &format!("{key}.host"),
                        "give the SMTP server's host name",
                    ));
                }
                let tls = e.tls.unwrap_or(TlsMode::Starttls);
                let port = match e.port {
                    Some(0) => return Err(bad(&format!("{key}.port"), "0 is not a port")),
                    Some(p) => p,
                    None => tls.default_port(),
                };
                if e.from.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(bad(
                        &format!("{key}.from"),
                        format!(
                            "{:?} is not a mailbox; write e.g. \"Registry <noreply@example.org>\"",
                            e.from
                        ),
                    ));
                }
                let password = secret(
                    key,
                    "password",
                    e.password_env.as_deref(),
                    e.password_file.as_ref(),
                    lookup,
                )?;
                let credentials = match (e.username, password) {
                    (Some(user), Some(password)) => Some((user, password)),
                    (None, None) => None,
                    (Some(_), None) => {
                        return Err(bad(
                            &format!("{key}.password_env"),
                            "a username needs a password (password_env or password_file)",
                        ))
                    }
                    (None, Some(_)) => {
                        return Err(bad(
                            &format!("{key}.username"),
                            "a password needs a username",
                        ))
                    }
                };
                if tls == TlsMode::None && credentials.is_some() && !is_loopback_host(&e.host) {
                    return Err(bad(
                        &format!("{key}.tls"),
                        "\"none\" would send the password in clear text to another machine; use \"starttls\" or \"tls\"",
                    ));
                }
                Some(EmailConfig {
                    host: e.host,
                    port,
                    from: e.from,
                    tls,
                    credentials,
                    timeout: secs(
                        &format!("{key}.timeout_secs"),
                        e.timeout_secs,
                        1,
                        600,
                        Duration::from_secs(30),
                    )?,
                })
            }
        };
        let webhook = match self.webhook {
            None => None,
            Some(w) => {
                let key = "outbound.webhook";
                let url = url::Url::parse(&w.url).map_err(|e| {
                    bad(
                        &format!("{key}.url"),
                        format!("{:?} is not a URL: {e}", w.url),
                    )
                })?;
                let loopback = url.host_str().is_some_and(is_loopback_host);
                match url.scheme() {
                    "https" => {}
                    "http" if loopback => {}
                    _ => {
                        return Err(bad(
                            &format!("{key}.url"),
                            "use https:// (plain http:// only to a loopback address): the messages carry phone numbers",
                        ))
                    }
                }
                let secret = secret(
                    key,
                    "secret",
                    w.secret_env.as_deref(),
                    w.secret_file.as_ref(),
                    lookup,
                )?
                .ok_or_else(|| {
                    bad(
                        &format!("{key}.secret_env"),
                        "the webhook needs a signing secret (secret_env or secret_file)",
                    )
                })?;
                if secret.expose().len() < 16 {
                    return Err(bad(
                        &format!("{key}.secret_env"),
                        "the signing secret must be at least 16 characters",
                    ));
                }
                Some(WebhookConfig {
                    url,
                    secret,
                    timeout: secs(
                        &format!("{key}.timeout_secs"),
                        w.timeout_secs,
                        1,
                        600,
                        Duration::from_secs(10),
                    )?,
                })
            }
        };
        let max_attempts = match self.max_attempts {
            None => defaults.max_attempts,
            Some(n @ 1..=100) => n,
            Some(n) => {
                return Err(bad(
                    "outbound.max_attempts",
                    format!("{n} is not between 1 and 100"),
                ))
            }
        };
        let batch = match self.batch {
            None => defaults.batch,
            Some(n @ 1..=500) => n,
            Some(n) => {
                return Err(bad(
                    "outbound.batch",
                    format!("{n} is not between 1 and 500"),
                ))
            }
        };
        let retry_base = secs(
            "outbound.retry_base_secs",
            self.retry_base_secs,
            1,
            86_400,
            defaults.retry_base,
        )?;
        let retry_max = secs(
            "outbound.retry_max_secs",
            self.retry_max_secs,
            1,
            7 * 86_400,
            defaults.retry_max,
        )?;
        if retry_max < retry_base {
            return Err(bad(
                "outbound.retry_max_secs",
                "is shorter than retry_base_secs",
            ));
        }
        let lease = secs(
            "outbound.lease_secs",
            self.lease_secs,
            5,
            86_400,
            defaults.lease,
        )?;
        // A claim must outlast the send it covers, or a slow send would be sent again by
        // another process while it is still going on.
        let longest = [
            email.as_ref().map(|e| e.timeout),
            webhook.as_ref().map(|w| w.timeout),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or_default();
        if lease <= longest * 2 {
            return Err(bad(
                "outbound.lease_secs",
                format!("{} s is too short for sends that may take {} s; make it more than twice as long", lease.as_secs(), longest.as_secs()),
            ));
        }
        Ok(OutboundConfig {
            email,
            webhook,
            worker_period: secs(
                "outbound.worker_period_secs",
                self.worker_period_secs,
                1,
                3600,
                defaults.worker_period,
            )?,
            batch,
            max_attempts,
            retry_base,
            retry_max,
            lease,
        })
    }
}

impl SchedulerFile {
    pub fn resolve(self) -> Result<SchedulerConfig, SettingError> {
        let d = SchedulerConfig::default();
        let days = |key: &str, v: Option<u32>, min: u32, default: u32| match v {
            None => Ok(default),
            Some(n) if n < min || n > 3660 => {
                Err(bad(key, format!("{n} is not between {min} and 3660 days")))
            }
            Some(n) => Ok(n),
        };
        Ok(SchedulerConfig {
            enabled: self.enabled.unwrap_or(d.enabled),
            period: secs(
                "scheduler.period_secs",
                self.period_secs,
                1,
                86_400,
                d.period,
            )?,
            liveness_interval_days: days(
                "scheduler.liveness_interval_days",
                self.liveness_interval_days,
                1,
                d.liveness_interval_days,
            )?,
            liveness_grace_days: days(
                "scheduler.liveness_grace_days",
                self.liveness_grace_days,
                0,
                d.liveness_grace_days,
            )?,
            liveness_due_soon_days: days(
                "scheduler.liveness_due_soon_days",
                self.liveness_due_soon_days,
                0,
                d.liveness_due_soon_days,
            )?,
            liveness_first_check_days: self
                .liveness_first_check_days
                .map(|n| days("scheduler.liveness_first_check_days", Some(n), 0, n))
                .transpose()?,
            deadline_soon_days: days(
                "scheduler.deadline_soon_days",
                self.deadline_soon_days,
                0,
                d.deadline_soon_days,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbound(text: &str, env: &[(&str, &str)]) -> Result<OutboundConfig, SettingError> {
        let file: OutboundFile = toml::from_str(text).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        file.resolve(&|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn nothing_configured_sends_nothing() {
        let cfg = outbound("", &[]).unwrap();
        assert_eq!(cfg, OutboundConfig::default());
        assert!(cfg.email.is_none() && cfg.webhook.is_none());
    }

    #[test]
    fn email_and_webhook_resolve_with_secrets_from_the_environment() {
        let cfg = outbound(
            "[email]\nhost = \"smtp.example.org\"\nfrom = \"Registry <noreply@example.org>\"\nusername = \"reg\"\npassword_env = \"PW\"\n\
             [webhook]\nurl = \"https://sms.example.org/hook\"\nsecret_env = \"WH\"\n",
            &[("PW", "pass-word"), ("WH", "0123456789abcdef")],
        )
        .unwrap();
        let email = cfg.email.unwrap();
        assert_eq!((email.port, email.tls), (587, TlsMode::Starttls));
        assert_eq!(email.credentials.as_ref().unwrap().1.expose(), "pass-word");
        // Never printed.
        assert!(!format!("{email:?}").contains("pass-word"));
        let webhook = cfg.webhook.unwrap();
        assert!(!format!("{webhook:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("[email]\nhost = \"h\"\nfrom = \"nobody\"\n", "outbound.email.from"),
            ("[email]\nhost = \"h\"\nport = 0\nfrom = \"a@b.org\"\n", "outbound.email.port"),
            ("[email]\nhost = \"smtp.example.org\"\nfrom = \"a@b.org\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"PW\"\n", "outbound.email.tls"),
            ("[email]\nhost = \"h\"\nfrom = \"a@b.org\"\nusername = \"u\"\n", "outbound.email.password_env"),
            ("[email]\nhost = \"h\"\nfrom = \"a@b.org\"\nusername = \"u\"\npassword_env = \"MISSING\"\n", "outbound.email.password_env"),
            ("[webhook]\nurl = \"http://sms.example.org/\"\nsecret_env = \"WH\"\n", "outbound.webhook.url"),
            ("[webhook]\nurl = \"https://sms.example.org/\"\n", "outbound.webhook.secret_env"),
            ("[webhook]\nurl = \"https://sms.example.org/\"\nsecret_env = \"SHORT\"\n", "outbound.webhook.secret_env"),
            ("max_attempts = 0\n", "outbound.max_attempts"),
            ("retry_base_secs = 60\nretry_max_secs = 10\n", "outbound.retry_max_secs"),
            ("worker_period_secs = 0\n", "outbound.worker_period_secs"),
            ("lease_secs = 30\n[email]\nhost = \"h\"\nfrom = \"a@b.org\"\ntimeout_secs = 20\n", "outbound.lease_secs"),
        ];
        for (text, key) in cases {
            let err = outbound(
                text,
                &[("PW", "pw"), ("WH", "0123456789abcdef"), ("SHORT", "short")],
            )
            .unwrap_err();
            assert_eq!(err.key, key, "{text}: {err}");
            assert!(err.to_string().contains(key), "{err}");
        }
        // Plain SMTP with credentials is fine to a relay on this machine.
        assert!(outbound(
            "[email]\nhost = \"127.0.0.1\"\nfrom = \"a@b.org\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"PW\"\n",
            &[("PW", "pw")]
        )
        .is_ok());
        let err = SchedulerFile {
            period_secs: Some(0),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(err.key, "scheduler.period_secs");
        // A first check: unset follows the interval, 0 is at once, beyond ten years is refused.
        let first = |days| SchedulerFile {
            liveness_first_check_days: days,
            ..Default::default()
        };
        assert_eq!(
            first(None).resolve().unwrap().liveness_first_check_days,
            None
        );
        assert_eq!(
            first(Some(0)).resolve().unwrap().liveness_first_check_days,
            Some(0)
        );
        let err = first(Some(5000)).resolve().unwrap_err();
        assert_eq!(err.key, "scheduler.liveness_first_check_days");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cfg = OutboundConfig {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(50),
            ..OutboundConfig::default()
        };
        let waits: Vec<u64> = (1..=5).map(|n| cfg.backoff(n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 50, 50]);
        assert_eq!(cfg.backoff(u32::MAX).as_secs(), 50);
    }
}
