//! Every key of the configuration files, the environment variable that overrides it, and who
//! may set it. One table, so the files, the environment and the error messages never disagree.

use crate::app::config as app;
use crate::settings;

/// What a TOML value must look like before its text is checked (see `app::config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Switch,
    /// A list of words; the environment gives them separated by spaces.
    Words,
}

impl Kind {
    /// An example of the right form, for the message that says how to fix a value.
    pub fn example(self) -> &'static str {
        match self {
            Kind::Text => "text in quotes, like \"personal\"",
            Kind::Number => "a whole number without quotes, like 180",
            Kind::Switch => "true or false, without quotes",
            Kind::Words => "a list in brackets, like [\"en\", \"fr\"]",
        }
    }
}

/// Who may set a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The device's administrator only: the system file, the build's defaults, the environment.
    Device,
    /// Also the person, in their own settings file (not on a kiosk).
    Personal,
}

/// One setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// `section.name` in the files.
    pub path: &'static str,
    /// The environment variable that overrides the files.
    pub env: &'static str,
    pub kind: Kind,
    pub scope: Scope,
}

const fn key(path: &'static str, env: &'static str, kind: Kind, scope: Scope) -> Key {
    Key {
        path,
        env,
        kind,
        scope,
    }
}

use Kind::*;
use Scope::*;

/// Every key, in the order of the example file (packaging/config.example.toml).
pub const KEYS: &[Key] = &[
    key("registry.url", settings::ENV_REGISTRY_URL, Text, Device),
    key("signin.issuer", app::ENV_OIDC_ISSUER, Text, Device),
    key("signin.client_id", app::ENV_OIDC_CLIENT_ID, Text, Device),
    key("signin.redeem", app::ENV_OIDC_REDEEM, Text, Device),
    key("signin.resource", app::ENV_OIDC_RESOURCE, Text, Device),
    key(
        "signin.claims_from",
        app::ENV_OIDC_CLAIMS_FROM,
        Text,
        Device,
    ),
    key(
        "signin.userinfo_via_registry",
        app::ENV_OIDC_USERINFO_VIA_REGISTRY,
        Switch,
        Device,
    ),
    key("signin.acr_values", app::ENV_OIDC_ACR_VALUES, Words, Device),
    key("signin.max_age", app::ENV_OIDC_MAX_AGE, Number, Device),
    key("signin.prompt", app::ENV_OIDC_PROMPT, Text, Device),
    key("signin.browser", app::ENV_BROWSER, Text, Personal),
    key("device.mode", app::ENV_MODE, Text, Device),
    key("device.languages", app::ENV_LANGUAGES, Words, Device),
    key("device.language", app::ENV_LANGUAGE, Text, Personal),
    key(
        "device.offline_unlock_days",
        app::ENV_OFFLINE_UNLOCK_DAYS,
        Number,
        Device,
    ),
    key(
        "alerts.reminder_time",
        app::ENV_REMINDER_TIME,
        Text,
        Personal,
    ),
    key("kiosk.idle_seconds", app::ENV_IDLE_SECONDS, Number, Device),
    key("kiosk.operator_pin", app::ENV_OPERATOR_PIN, Text, Device),
    key(
        "kiosk.maintenance_window",
        app::ENV_MAINTENANCE_WINDOW,
        Text,
        Device,
    ),
    key(
        "agent.wipe_after_days",
        app::ENV_AGENT_WIPE_AFTER_DAYS,
        Number,
        Device,
    ),
    key(
        "agent.keep_documents",
        app::ENV_AGENT_KEEP_DOCUMENTS,
        Switch,
        Device,
    ),
    key("updates.channel", app::ENV_UPDATE_CHANNEL, Text, Device),
    key("updates.url", app::ENV_UPDATE_URL, Text, Device),
];

/// The key a file spells `path`.
pub fn by_path(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path == path)
}

/// The key an environment variable overrides.
pub fn by_env(env: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.env == env)
}

/// The known key closest to a misspelt one, if any is close.
pub fn closest(path: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (strsim::jaro_winkler(path, k.path), k.path))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_key_and_variable_is_unique() {
        let paths: HashSet<_> = KEYS.iter().map(|k| k.path).collect();
        let envs: HashSet<_> = KEYS.iter().map(|k| k.env).collect();
        assert_eq!(paths.len(), KEYS.len());
        assert_eq!(envs.len(), KEYS.len());
        for k in KEYS {
            let (section, name) = k.path.split_once('.').unwrap();
            assert!(!section.is_empty() && !name.contains('.'), "{}", k.path);
            assert!(k.env.starts_with("DOORSTEP_"), "{}", k.env);
        }
    }

    #[test]
    fn a_misspelt_key_finds_the_right_one() {
        assert_eq!(closest("kiosk.idle_secs"), Some("kiosk.idle_seconds"));
        assert_eq!(closest("registry.ulr"), Some("registry.url"));
        assert_eq!(closest("colour.scheme"), None);
    }
}
