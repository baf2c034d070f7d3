//! How this installation is used (personal device, field agent's laptop, walk-in kiosk) and
//! which identity provider it signs in with. Read once at start, each setting by the name of
//! the environment variable that overrides it: `device_config` answers for the configuration
//! files (and the build's defaults) under the same names, so a file, an installer, a kiosk image
//! or a test sets it without rebuilding the app.

use std::time::Duration;

use serde::Serialize;
use url::Url;

use crate::signin::{SignInConfig, TokenExchange};

/// `personal` (default), `agent` or `kiosk`.
pub const ENV_MODE: &str = "DOORSTEP_MODE";
/// The identity provider's issuer URL. Without it, sign-in is not offered.
pub const ENV_OIDC_ISSUER: &str = "DOORSTEP_OIDC_ISSUER";
/// The client id the provider registered for Doorstep.
pub const ENV_OIDC_CLIENT_ID: &str = "DOORSTEP_OIDC_CLIENT_ID";
/// `registry` (default: eSignet's `private_key_jwt` through the registry) or `app` (a public
/// native client redeems the code itself).
pub const ENV_OIDC_REDEEM: &str = "DOORSTEP_OIDC_REDEEM";
/// Optional RFC 8707 resource indicator for the registry's access tokens.
pub const ENV_OIDC_RESOURCE: &str = "DOORSTEP_OIDC_RESOURCE";
/// `userinfo` (default, eSignet) or `id_token`: where the person's claims come from.
pub const ENV_OIDC_CLAIMS_FROM: &str = "DOORSTEP_OIDC_CLAIMS_FROM";
/// `true`: fetch userinfo through the registry, which decrypts eSignet's encrypted (JWE)
/// userinfo (the app still verifies the signed JWT inside). Needs `registry` redemption.
pub const ENV_OIDC_USERINFO_VIA_REGISTRY: &str = "DOORSTEP_OIDC_USERINFO_VIA_REGISTRY";
/// Space-separated `acr_values`, best first.
pub const ENV_OIDC_ACR_VALUES: &str = "DOORSTEP_OIDC_ACR_VALUES";
/// A program run with the sign-in URL as its only argument instead of the system browser
/// (like `$BROWSER`); tests point it at a headless browser.
pub const ENV_BROWSER: &str = "DOORSTEP_BROWSER";
/// Days an offline unlock works after the person's last online sign-in (default 30; `0` = no
/// limit). After that the person must sign in online once, which also sends their changes.
pub const ENV_OFFLINE_UNLOCK_DAYS: &str = "DOORSTEP_OFFLINE_UNLOCK_DAYS";
/// Agent devices: wipe the agent's data after this many days without a successful sync (unset:
/// never), warning on the last days (see app/revocation.rs). A lost laptop then forgets its
/// caseload by itself.
pub const ENV_AGENT_WIPE_AFTER_DAYS: &str = "DOORSTEP_AGENT_WIPE_AFTER_DAYS";
/// Agent devices: `true` keeps every document of the caseload on the laptop (fetched after each
/// sync), so they open in a village with no network; otherwise a document is fetched when first
/// opened.
pub const ENV_AGENT_KEEP_DOCUMENTS: &str = "DOORSTEP_AGENT_KEEP_DOCUMENTS";
/// Seconds: the provider must have authenticated the person this recently (`max_age`).
pub const ENV_OIDC_MAX_AGE: &str = "DOORSTEP_OIDC_MAX_AGE";
/// `login` to make the provider authenticate the person at every sign-in (`prompt`).
pub const ENV_OIDC_PROMPT: &str = "DOORSTEP_OIDC_PROMPT";
/// Kiosk: seconds without input before the person is signed out (default 180).
pub const ENV_IDLE_SECONDS: &str = "DOORSTEP_KIOSK_IDLE_SECONDS";

/// `HH:MM`, local time: when the day's reminders (a liveness check, a deadline) pop up on the
/// desktop (default 09:00). They fire with no network: the dates are on the device.
pub const ENV_REMINDER_TIME: &str = "DOORSTEP_REMINDER_TIME";

/// The languages the app offers (space-separated: `en fr ar`); default all it has.
pub const ENV_LANGUAGES: &str = "DOORSTEP_LANGUAGES";
/// The language the app starts in, before the person picks one (default: the system's).
pub const ENV_LANGUAGE: &str = "DOORSTEP_LANGUAGE";
/// Kiosk: the operator PIN's Argon2id hash (PHC string, made by `doorstep hash-pin`). Without
/// it, the app offers no way out of the kiosk; the operating system's session does.
pub const ENV_OPERATOR_PIN: &str = "DOORSTEP_KIOSK_OPERATOR_PIN";
/// Kiosk: `HH:MM-HH:MM` local time, when updates may be installed (no visitor signed in).
pub const ENV_MAINTENANCE_WINDOW: &str = "DOORSTEP_KIOSK_MAINTENANCE_WINDOW";
/// The update channel (`stable` by default): a word the update address may contain.
pub const ENV_UPDATE_CHANNEL: &str = "DOORSTEP_UPDATE_CHANNEL";
/// Where the update manifest is; may contain `{{target}}`, `{{arch}}`, `{{current_version}}` and
/// `{{channel}}`. Unset: this device does not look for updates.
pub const ENV_UPDATE_URL: &str = "DOORSTEP_UPDATE_URL";

/// The languages the app's screens are written in.
pub const LANGUAGES: [&str; 3] = ["en", "fr", "ar"];

const DEFAULT_REMINDER_TIME: time::Time = time::macros::time!(09:00);
const DEFAULT_IDLE: Duration = Duration::from_secs(180);
const DEFAULT_OFFLINE_UNLOCK_DAYS: u32 = 30;

/// How the device is used; decides what is remembered between people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum DeviceMode {
    /// One person's own computer: "stay signed in" and the keyring are allowed.
    Personal,
    /// A field agent's laptop: one profile per agent; the agent acts for many beneficiaries.
    Agent,
    /// A walk-in kiosk: sign-in in an app window with no persistent storage, nothing kept
    /// after sign-out or idle timeout, the registry address locked.
    Kiosk,
}

impl DeviceMode {
    /// Whether sessions and data keys may be remembered in the OS keyring.
    pub fn remembers(self) -> bool {
        !matches!(self, DeviceMode::Kiosk)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AppConfigError {
    #[error("{ENV_MODE}={0:?} is not a device mode; use personal, agent or kiosk")]
    Mode(String),
    #[error("{0} is set but {1} is not; set both (or neither, to run without sign-in)")]
    Incomplete(&'static str, &'static str),
    #[error("{name}={value:?} is not valid; expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// The installation's configuration.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub mode: DeviceMode,
    /// `None`: no provider configured; the app works offline with existing profiles only.
    pub signin: Option<SignInConfig>,
    /// A program to open the sign-in page with instead of the system browser.
    pub browser_command: Option<String>,
    /// Kiosk only: sign out after this long without input.
    pub idle_timeout: Duration,
    /// Offline unlocks stop working this many days after the last online sign-in (`None`: never).
    pub offline_unlock_days: Option<u32>,
    /// Agent devices: wipe the agent's data after this many days without a successful sync.
    pub agent_wipe_after_days: Option<u32>,
    /// Agent devices: fetch the caseload's documents after each sync, not only when opened.
    pub agent_keep_documents: bool,
    /// Local time of day the day's reminders fire.
    pub reminder_time: time::Time,
    /// The languages offered, in [`LANGUAGES`]' order of the configuration.
    pub languages: Vec<String>,
    /// The language to start in (one of `languages`), if the device or person chose one.
    pub language: Option<String>,
    /// Kiosk: the operator PIN's Argon2id hash.
    pub operator_pin: Option<String>,
    /// Kiosk: when updates may be installed (local time; may span midnight).
    pub maintenance_window: Option<(time::Time, time::Time)>,
    pub update_channel: String,
    /// The update manifest's address, its placeholders not yet filled in.
    pub update_url: Option<String>,
}

impl AppConfig {
    pub fn from_env(registry_url: &Url) -> Result<Self, AppConfigError> {
        Self::resolve(registry_url, |name| {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty())
        })
    }

    /// Pure form of [`AppConfig::from_env`]: `var` answers for one variable.
    pub fn resolve(
        registry_url: &Url,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, AppConfigError> {
        let mode = match var(ENV_MODE).as_deref().map(str::trim) {
            None | Some("personal") => DeviceMode::Personal,
            Some("agent") => DeviceMode::Agent,
            Some("kiosk") => DeviceMode::Kiosk,
            Some(other) => return Err(AppConfigError::Mode(other.to_owned())),
        };
        let idle_timeout = match var(ENV_IDLE_SECONDS) {
            None => DEFAULT_IDLE,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(s) if (10..=86_400).contains(&s) => Duration::from_secs(s),
                _ => {
                    return Err(AppConfigError::Invalid {
                        name: ENV_IDLE_SECONDS,
                        value: v,
                        expected: "a number of seconds from 10 to 86400",
                    })
                }
            },
        };
        let signin = match (var(ENV_OIDC_ISSUER), var(ENV_OIDC_CLIENT_ID)) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(AppConfigError::Incomplete(
                    ENV_OIDC_ISSUER,
                    ENV_OIDC_CLIENT_ID,
                ))
            }
            (None, Some(_)) => {
                return Err(AppConfigError::Incomplete(
                    ENV_OIDC_CLIENT_ID,
                    ENV_OIDC_ISSUER,
                ))
            }
            (Some(issuer), Some(client_id)) => {
                Some(signin_config(registry_url, issuer, client_id, &var)?)
            }
        };
        let offline_unlock_days = match var(ENV_OFFLINE_UNLOCK_DAYS) {
            None => Some(DEFAULT_OFFLINE_UNLOCK_DAYS),
            Some(v) => match v.trim().parse::<u32>() {
                Ok(0) => None,
                Ok(days) if days <= 3650 => Some(days),
                _ => {
                    return Err(AppConfigError::Invalid {
                        name: ENV_OFFLINE_UNLOCK_DAYS,
                        value: v,
                        expected: "a number of days from 0 (no limit) to 3650",
                    })
                }
            },
        };
        let agent_wipe_after_days = match var(ENV_AGENT_WIPE_AFTER_DAYS) {
            None => None,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(days) if (2..=3650).contains(&days) && mode == DeviceMode::Agent => Some(days),
                _ => return Err(AppConfigError::Invalid {
                    name: ENV_AGENT_WIPE_AFTER_DAYS,
                    value: v,
                    expected:
                        "a number of days from 2 to 3650, on an agent device (device mode agent)",
                }),
            },
        };
        let agent_keep_documents = match var(ENV_AGENT_KEEP_DOCUMENTS).as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") if mode == DeviceMode::Agent => true,
            Some(other) => {
                return Err(AppConfigError::Invalid {
                    name: ENV_AGENT_KEEP_DOCUMENTS,
                    value: other.to_owned(),
                    expected:
                        "`true` or `false`; `true` on an agent device (device mode agent) only",
                })
            }
        };
        let reminder_time = match var(ENV_REMINDER_TIME) {
            None => DEFAULT_REMINDER_TIME,
            Some(v) => parse_time_of_day(&v).ok_or(AppConfigError::Invalid {
                name: ENV_REMINDER_TIME,
                value: v,
                expected: "a time of day as HH:MM, from 00:00 to 23:59",
            })?,
        };
        let languages = match var(ENV_LANGUAGES) {
            None => LANGUAGES.iter().map(|l| (*l).to_owned()).collect(),
            Some(v) => parse_languages(&v).ok_or(AppConfigError::Invalid {
                name: ENV_LANGUAGES,
                value: v,
                expected: "one or more of en, fr, ar, each once",
            })?,
        };
        let language = match var(ENV_LANGUAGE) {
            None => None,
            Some(v) if languages.contains(&v.trim().to_owned()) => Some(v.trim().to_owned()),
            Some(v) => {
                return Err(AppConfigError::Invalid {
                    name: ENV_LANGUAGE,
                    value: v,
                    expected: "one of the languages this device offers (en, fr, ar unless the device's languages say fewer)",
                })
            }
        };
        let kiosk_only = |name: &'static str, v: &String, expected: &'static str| {
            (mode != DeviceMode::Kiosk).then(|| AppConfigError::Invalid {
                name,
                value: v.clone(),
                expected,
            })
        };
        let operator_pin = match var(ENV_OPERATOR_PIN) {
            None => None,
            Some(v) => {
                let expected =
                    "an Argon2id hash made by `doorstep hash-pin`, on a kiosk (device mode kiosk)";
                if let Some(e) = kiosk_only(ENV_OPERATOR_PIN, &v, expected) {
                    return Err(e);
                }
                match argon2::PasswordHash::new(v.trim()) {
                    Ok(h) if h.algorithm.as_str() == "argon2id" => Some(v.trim().to_owned()),
                    _ => {
                        return Err(AppConfigError::Invalid {
                            name: ENV_OPERATOR_PIN,
                            value: "(hidden)".into(),
                            expected,
                        })
                    }
                }
            }
        };
        let maintenance_window = match var(ENV_MAINTENANCE_WINDOW) {
            None => None,
            Some(v) => {
                let expected = "two times of day as HH:MM-HH:MM, like 02:00-04:00, on a kiosk (device mode kiosk)";
                if let Some(e) = kiosk_only(ENV_MAINTENANCE_WINDOW, &v, expected) {
                    return Err(e);
                }
                let window = v
                    .split_once('-')
                    .and_then(|(a, b)| Some((parse_time_of_day(a)?, parse_time_of_day(b)?)))
                    .filter(|(a, b)| a != b);
                Some(window.ok_or(AppConfigError::Invalid {
                    name: ENV_MAINTENANCE_WINDOW,
                    value: v,
                    expected,
                })?)
            }
        };
        let update_channel = match var(ENV_UPDATE_CHANNEL) {
            None => "stable".to_owned(),
            Some(v) => {
                let c = v.trim();
                let word = !c.is_empty()
                    && c.len() <= 32
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !word {
                    return Err(AppConfigError::Invalid {
                        name: ENV_UPDATE_CHANNEL,
                        value: v,
                        expected:
                            "a word of lowercase letters, digits and dashes, like stable or pilot",
                    });
                }
                c.to_owned()
            }
        };
        let update_url = match var(ENV_UPDATE_URL) {
            None => None,
            Some(v) => Some(check_update_url(&v).map_err(|_| AppConfigError::Invalid {
                name: ENV_UPDATE_URL,
                value: v.clone(),
                expected: "an https:// address (http only to this computer), with {{target}}, {{arch}}, {{current_version}}, {{bundle_type}} or {{channel}} where the manifest's address varies",
            })?),
        };
        Ok(AppConfig {
            mode,
            reminder_time,
            languages,
            language,
            operator_pin,
            maintenance_window,
            update_channel,
            update_url,
            signin,
            browser_command: var(ENV_BROWSER),
            idle_timeout,
            offline_unlock_days,
            agent_wipe_after_days,
            agent_keep_documents,
        })
    }
}

/// Words from [`LANGUAGES`], each once, at least one.
fn parse_languages(text: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        if !LANGUAGES.contains(&word) || out.iter().any(|l| l == word) {
            return None;
        }
        out.push(word.to_owned());
    }
    (!out.is_empty()).then_some(out)
}

/// An update address with its placeholders: it must be a registry-grade address once they are
/// filled in (personal devices install what it serves, so TLS unless it is this computer).
fn check_update_url(text: &str) -> Result<String, crate::settings::SettingsError> {
    let text = text.trim();
    let sample = text
        .replace("{{target}}", "linux")
        .replace("{{arch}}", "x86_64")
        .replace("{{current_version}}", "1.0.0")
        .replace("{{channel}}", "stable")
        .replace("{{bundle_type}}", "deb");
    let url =
        Url::parse(&sample).map_err(|e| crate::settings::SettingsError::InvalidRegistryUrl {
            value: text.to_owned(),
            reason: e.to_string(),
        })?;
    if sample.contains("{{") || url.fragment().is_some() {
        return Err(crate::settings::SettingsError::InvalidRegistryUrl {
            value: text.to_owned(),
            reason: "unknown placeholder or fragment".into(),
        });
    }
    // The same rule as the registry's address, query strings aside (a manifest may use one).
    let mut plain = url.clone();
    plain.set_query(None);
    crate::settings::parse_registry_url(plain.as_str())?;
    Ok(text.to_owned())
}

/// Whether `pin` is the kiosk operator's (the configured Argon2id hash).
pub fn operator_pin_matches(hash: &str, pin: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hash an operator PIN for the configuration (`doorstep hash-pin`): 6 to 12 digits.
pub fn hash_operator_pin(pin: &str) -> Result<String, &'static str> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    if !(6..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err("an operator PIN is 6 to 12 digits");
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| "no randomness from the operating system")?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| "cannot encode the salt")?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| "cannot hash the PIN")
}

/// `HH:MM` (24-hour clock).
fn parse_time_of_day(text: &str) -> Option<time::Time> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

fn signin_config(
    registry_url: &Url,
    issuer: String,
    client_id: String,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<SignInConfig, AppConfigError> {
    let exchange = match var(ENV_OIDC_REDEEM).as_deref().map(str::trim) {
        None | Some("registry") => TokenExchange::ViaRegistry {
            registry_url: registry_url.clone(),
        },
        Some("app") => TokenExchange::Direct,
        Some(other) => {
            return Err(AppConfigError::Invalid {
                name: ENV_OIDC_REDEEM,
                value: other.to_owned(),
                expected: "`registry` or `app`",
            })
        }
    };
    let mut config = SignInConfig::new(issuer.trim(), client_id.trim(), exchange);
    config.resource = var(ENV_OIDC_RESOURCE);
    match var(ENV_OIDC_CLAIMS_FROM).as_deref().map(str::trim) {
        None | Some("userinfo") => {}
        Some("id_token") => {
            // The same claims, asked for in the ID token (providers whose userinfo refuses
            // registry-bound access tokens).
            config.fetch_userinfo = false;
            let wanted = SignInConfig::esignet_claims()["userinfo"].clone();
            config.claims = Some(serde_json::json!({ "id_token": wanted }));
        }
        Some(other) => {
            return Err(AppConfigError::Invalid {
                name: ENV_OIDC_CLAIMS_FROM,
                value: other.to_owned(),
                expected: "`userinfo` or `id_token`",
            })
        }
    }
    config.userinfo_via_registry = match var(ENV_OIDC_USERINFO_VIA_REGISTRY)
        .as_deref()
        .map(str::trim)
    {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(AppConfigError::Invalid {
                name: ENV_OIDC_USERINFO_VIA_REGISTRY,
                value: other.to_owned(),
                expected: "`true` or `false`",
            })
        }
    };
    if let Some(v) = var(ENV_OIDC_MAX_AGE) {
        config.max_age = Some(
            v.trim()
                .parse::<u64>()
                .map_err(|_| AppConfigError::Invalid {
                    name: ENV_OIDC_MAX_AGE,
                    value: v.clone(),
                    expected: "a number of seconds",
                })?,
        );
    }
    config.prompt = var(ENV_OIDC_PROMPT);
    if let Some(acr) = var(ENV_OIDC_ACR_VALUES) {
        config.acr_values = acr.split_whitespace().map(str::to_owned).collect();
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn resolve(vars: &[(&str, &str)]) -> Result<AppConfig, AppConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let registry = Url::parse("http://127.0.0.1:8700").unwrap();
        AppConfig::resolve(&registry, |name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_a_personal_device_without_sign_in() {
        let c = resolve(&[]).unwrap();
        assert_eq!(c.mode, DeviceMode::Personal);
        assert!(c.signin.is_none());
        assert_eq!(c.idle_timeout, DEFAULT_IDLE);
        assert_eq!(c.offline_unlock_days, Some(DEFAULT_OFFLINE_UNLOCK_DAYS));
        assert_eq!(
            resolve(&[(ENV_OFFLINE_UNLOCK_DAYS, "0")])
                .unwrap()
                .offline_unlock_days,
            None
        );
        assert!(resolve(&[(ENV_OFFLINE_UNLOCK_DAYS, "-1")]).is_err());
    }

    #[test]
    fn reminders_fire_at_nine_unless_another_time_of_day_is_set() {
        assert_eq!(
            resolve(&[]).unwrap().reminder_time,
            time::macros::time!(09:00)
        );
        assert_eq!(
            resolve(&[(ENV_REMINDER_TIME, "18:30")])
                .unwrap()
                .reminder_time,
            time::macros::time!(18:30)
        );
        for bad in ["9", "24:00", "12:60", "1:05", "noon", "12:5"] {
            let err = resolve(&[(ENV_REMINDER_TIME, bad)]).unwrap_err();
            assert!(err.to_string().contains("HH:MM"), "{bad}: {err}");
        }
    }

    #[test]
    fn esignet_through_the_registry_is_the_default_redemption() {
        let c = resolve(&[
            (ENV_OIDC_ISSUER, "https://id.example.org"),
            (ENV_OIDC_CLIENT_ID, "doorstep"),
            (ENV_MODE, "kiosk"),
        ])
        .unwrap();
        let s = c.signin.unwrap();
        assert!(matches!(
            s.token_exchange,
            TokenExchange::ViaRegistry { .. }
        ));
        assert!(s.fetch_userinfo);
        assert!(!s.userinfo_via_registry);
        assert_eq!(c.mode, DeviceMode::Kiosk);
        assert!(!c.mode.remembers());
    }

    #[test]
    fn a_public_client_can_take_claims_from_the_id_token() {
        let s = resolve(&[
            (ENV_OIDC_ISSUER, "http://127.0.0.1:9"),
            (ENV_OIDC_CLIENT_ID, "doorstep-public"),
            (ENV_OIDC_REDEEM, "app"),
            (ENV_OIDC_CLAIMS_FROM, "id_token"),
            (ENV_OIDC_RESOURCE, "urn:doorstep:registry"),
            (ENV_OIDC_ACR_VALUES, "a b"),
        ])
        .unwrap()
        .signin
        .unwrap();
        assert_eq!(s.token_exchange, TokenExchange::Direct);
        assert!(!s.fetch_userinfo);
        assert!(s.claims.unwrap()["id_token"]["individual_id"].is_object());
        assert_eq!(s.acr_values, vec!["a", "b"]);
        assert_eq!(s.resource.as_deref(), Some("urn:doorstep:registry"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = resolve(&[(ENV_MODE, "shop")]).unwrap_err();
        assert!(e.to_string().contains(ENV_MODE));
        let e = resolve(&[(ENV_OIDC_ISSUER, "https://id.example.org")]).unwrap_err();
        assert_eq!(
            e,
            AppConfigError::Incomplete(ENV_OIDC_ISSUER, ENV_OIDC_CLIENT_ID)
        );
        let e = resolve(&[(ENV_IDLE_SECONDS, "2")]).unwrap_err();
        assert!(e.to_string().contains("10 to 86400"));
        let e = resolve(&[
            (ENV_OIDC_ISSUER, "https://id.example.org"),
            (ENV_OIDC_CLIENT_ID, "x"),
            (ENV_OIDC_REDEEM, "magic"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains(ENV_OIDC_REDEEM));
    }

    #[test]
    fn an_agent_laptop_may_forget_its_data_after_days_without_sync() {
        assert_eq!(resolve(&[]).unwrap().agent_wipe_after_days, None);
        let agent = |days: &str| resolve(&[(ENV_MODE, "agent"), (ENV_AGENT_WIPE_AFTER_DAYS, days)]);
        assert_eq!(agent("14").unwrap().agent_wipe_after_days, Some(14));
        for bad in ["0", "1", "3651", "soon"] {
            let e = agent(bad).unwrap_err();
            assert!(
                e.to_string().contains(ENV_AGENT_WIPE_AFTER_DAYS),
                "{bad}: {e}"
            );
        }
        // Only agent laptops hold a caseload to forget.
        assert!(resolve(&[(ENV_AGENT_WIPE_AFTER_DAYS, "14")]).is_err());
    }

    #[test]
    fn an_agent_laptop_may_keep_the_caseloads_documents() {
        assert!(!resolve(&[]).unwrap().agent_keep_documents);
        let agent = |v: &str| resolve(&[(ENV_MODE, "agent"), (ENV_AGENT_KEEP_DOCUMENTS, v)]);
        assert!(agent("true").unwrap().agent_keep_documents);
        assert!(!agent("false").unwrap().agent_keep_documents);
        assert!(agent("yes")
            .unwrap_err()
            .to_string()
            .contains(ENV_AGENT_KEEP_DOCUMENTS));
        assert!(resolve(&[(ENV_AGENT_KEEP_DOCUMENTS, "true")]).is_err());
    }
}
