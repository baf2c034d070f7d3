//! The device configuration: where each setting comes from, and what is wrong with it.
//!
//! Layers, later ones winning:
//! 1. the defaults built into this binary (`DOORSTEP_BUILD_DEFAULTS` at build time: a ministry's
//!    build works from the desktop menu with no file at all);
//! 2. the system file, `/etc/doorstep/config.toml` (root's; `DOORSTEP_CONFIG_FILE` moves it);
//! 3. the person's own file (`config.toml` in the app's config folder;
//!    `DOORSTEP_USER_CONFIG_FILE` moves it), for the keys a person may choose ([`Scope::Personal`]),
//!    and never on a kiosk: the person at a kiosk's screen changes nothing of it;
//! 4. environment variables (`DOORSTEP_*`), for development and tests.
//!
//! Every key has one environment variable's name ([`keys::KEYS`]); `app::config` and `settings`
//! read settings by that name from the merged [`Layers`], so there is one parser per setting.
//! A mistake anywhere stops the app with a [`ConfigProblem`] naming the file, the key and the
//! fix, which the shell shows in the window.

pub mod keys;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::app::{AppConfig, AppConfigError};
use crate::settings::{Settings, SettingsError, ENV_DATA_DIR, ENV_REGISTRY_URL};
pub use keys::{Key, Kind, Scope, KEYS};

/// Moves the system file (tests, a second installation).
pub const ENV_CONFIG_FILE: &str = "DOORSTEP_CONFIG_FILE";
/// Moves the person's own file.
pub const ENV_USER_CONFIG_FILE: &str = "DOORSTEP_USER_CONFIG_FILE";

/// The system file's usual place.
#[cfg(unix)]
pub const SYSTEM_FILE: &str = "/etc/doorstep/config.toml";
#[cfg(windows)]
pub const SYSTEM_FILE: &str = r"C:\ProgramData\Doorstep\config.toml";

/// The defaults this binary was built with (empty unless `DOORSTEP_BUILD_DEFAULTS` named a file
/// at build time; see build.rs).
pub const BUILT_IN: &str = include_str!(concat!(env!("OUT_DIR"), "/built-in-config.toml"));

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Origin {
    BuiltIn,
    File { path: String },
    Environment { variable: String },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::BuiltIn => f.write_str("the defaults built into this Doorstep"),
            Origin::File { path } => f.write_str(path),
            Origin::Environment { variable } => write!(f, "the environment variable {variable}"),
        }
    }
}

/// What stops the app from starting, for the person who administers the device: where, which
/// key, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{origin}: {}{problem}. {fix}", key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
pub struct ConfigProblem {
    pub origin: Origin,
    /// `section.name`, when one key is at fault.
    pub key: Option<String>,
    pub problem: String,
    pub fix: String,
}

/// The files to read.
#[derive(Debug, Clone)]
pub struct Sources {
    pub system_file: PathBuf,
    /// `None`: no per-user file (no config folder).
    pub user_file: Option<PathBuf>,
    pub built_in: String,
}

impl Sources {
    /// The usual places, moved by [`ENV_CONFIG_FILE`] and [`ENV_USER_CONFIG_FILE`];
    /// `user_config_dir` is the app's config folder (the shell's platform choice).
    pub fn standard(
        user_config_dir: Option<PathBuf>,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Self {
        Sources {
            system_file: env(ENV_CONFIG_FILE)
                .map(PathBuf::from)
                .unwrap_or_else(|| SYSTEM_FILE.into()),
            user_file: env(ENV_USER_CONFIG_FILE)
                .map(PathBuf::from)
                .or_else(|| user_config_dir.map(|d| d.join("config.toml"))),
            built_in: BUILT_IN.to_owned(),
        }
    }
}

/// The merged settings, each with where it came from.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    values: HashMap<&'static str, (String, Origin)>,
    /// The files that were read, for the support details.
    pub files: Vec<PathBuf>,
    /// A person's file that exists but was not read, because this is a kiosk.
    pub ignored_user_file: Option<PathBuf>,
}

/// Everything the app starts with.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub settings: Settings,
    pub app: AppConfig,
    pub layers: Layers,
}

impl DeviceConfig {
    /// Read every layer and check every setting. `default_data_dir` is the platform's.
    pub fn load(
        default_data_dir: PathBuf,
        sources: &Sources,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigProblem> {
        let layers = Layers::load(sources, &env)?;
        let settings = Settings::resolve(
            default_data_dir,
            env(ENV_DATA_DIR).map(PathBuf::from),
            layers.var(ENV_REGISTRY_URL),
        )
        .map_err(|e| layers.settings_problem(e))?;
        let app = AppConfig::resolve(&settings.registry_url, |name| layers.var(name))
            .map_err(|e| layers.app_problem(e))?;
        Ok(DeviceConfig {
            settings,
            app,
            layers,
        })
    }
}

impl Layers {
    pub fn load(
        sources: &Sources,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigProblem> {
        let mut layers = Layers::default();
        layers.merge_text(&sources.built_in, Origin::BuiltIn, Scope::Device)?;
        if let Some(text) = read_system_file(&sources.system_file)? {
            layers.files.push(sources.system_file.clone());
            let origin = file_origin(&sources.system_file);
            layers.merge_text(&text, origin, Scope::Device)?;
        }
        // Whether this is a kiosk is the administrator's to say (built-in, system file or
        // environment), before a person's file could matter.
        let kiosk = env(crate::app::config::ENV_MODE)
            .or_else(|| layers.var(crate::app::config::ENV_MODE))
            .is_some_and(|m| m.trim() == "kiosk");
        if let Some(user) = &sources.user_file {
            match read_optional(user)? {
                Some(_) if kiosk => layers.ignored_user_file = Some(user.clone()),
                Some(text) => {
                    layers.files.push(user.clone());
                    layers.merge_text(&text, file_origin(user), Scope::Personal)?;
                }
                None => {}
            }
        }
        for key in KEYS {
            if let Some(value) = env(key.env).filter(|v| !v.trim().is_empty()) {
                let origin = Origin::Environment {
                    variable: key.env.to_owned(),
                };
                layers.values.insert(key.env, (value, origin));
            }
        }
        Ok(layers)
    }

    /// The value of the setting an environment variable names, from whichever layer won.
    pub fn var(&self, env: &str) -> Option<String> {
        self.values.get(env).map(|(v, _)| v.clone())
    }

    /// Where a setting came from (`None`: its default).
    pub fn origin(&self, env: &str) -> Option<&Origin> {
        self.values.get(env).map(|(_, o)| o)
    }

    /// Every setting that is set, with its origin, in the table's order (for support details;
    /// the operator PIN's hash is not shown).
    pub fn describe(&self) -> Vec<(&'static str, String, Origin)> {
        KEYS.iter()
            .filter_map(|k| {
                let (value, origin) = self.values.get(k.env)?;
                let shown = if k.env == crate::app::config::ENV_OPERATOR_PIN {
                    "(set)".to_owned()
                } else {
                    value.clone()
                };
                Some((k.path, shown, origin.clone()))
            })
            .collect()
    }

    /// Parse one file's text and lay it over what is there. `scope` is what that file may set.
    fn merge_text(
        &mut self,
        text: &str,
        origin: Origin,
        scope: Scope,
    ) -> Result<(), ConfigProblem> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigProblem {
            origin: origin.clone(),
            key: None,
            problem: format!("is not valid TOML: {}", e.message()).trim_end().to_owned()
                + &line_of(text, e.span()),
            fix: "Write one `key = value` per line under [section] headings, as in /usr/share/doc/doorstep/config.example.toml".into(),
        })?;
        for (section, items) in &table {
            let Some(items) = items.as_table() else {
                return Err(unknown_key(&origin, section, "is not a [section]"));
            };
            for (name, value) in items {
                let path = format!("{section}.{name}");
                let Some(key) = keys::by_path(&path) else {
                    return Err(unknown_key(
                        &origin,
                        &path,
                        "is not a setting Doorstep knows",
                    ));
                };
                if scope == Scope::Personal && key.scope == Scope::Device {
                    return Err(ConfigProblem {
                        origin: origin.clone(),
                        key: Some(path),
                        problem: "is the device's setting, not a personal one".into(),
                        fix: "Remove it from this file; whoever administers this computer sets it in /etc/doorstep/config.toml".into(),
                    });
                }
                let text = value_text(key, value).ok_or_else(|| ConfigProblem {
                    origin: origin.clone(),
                    key: Some(path.clone()),
                    problem: format!("has the wrong kind of value ({})", value.type_str()),
                    fix: format!("Write {}.", key.kind.example()),
                })?;
                self.values.insert(key.env, (text, origin.clone()));
            }
        }
        Ok(())
    }

    /// A settings error, told where the faulty value came from.
    fn settings_problem(&self, e: SettingsError) -> ConfigProblem {
        let fix = match &e {
            SettingsError::InsecureRegistryUrl(_) => {
                "Use the registry's https:// address (plain http only for 127.0.0.1 or localhost)."
                    .to_owned()
            }
            SettingsError::InvalidRegistryUrl { .. } => {
                "Write the registry's address like https://registry.example.org.".to_owned()
            }
        };
        self.problem_at(ENV_REGISTRY_URL, e.to_string(), fix)
    }

    /// An app configuration error, told where the faulty value came from.
    fn app_problem(&self, e: AppConfigError) -> ConfigProblem {
        match e {
            AppConfigError::Mode(value) => self.problem_at(
                crate::app::config::ENV_MODE,
                format!("{value:?} is not a device mode"),
                "Write \"personal\", \"agent\" or \"kiosk\".".into(),
            ),
            AppConfigError::Incomplete(set, missing) => {
                let missing = keys::by_env(missing).map_or(missing, |k| k.path);
                self.problem_at(
                    set,
                    format!("is set but {missing} is not"),
                    format!("Set {missing} too, or neither, to run without sign-in."),
                )
            }
            AppConfigError::Invalid {
                name,
                value,
                expected,
            } => self.problem_at(
                name,
                format!("{value:?} is not valid"),
                format!("Write {expected}."),
            ),
        }
    }

    fn problem_at(&self, env: &str, problem: String, fix: String) -> ConfigProblem {
        let key = keys::by_env(env);
        ConfigProblem {
            origin: self.origin(env).cloned().unwrap_or(Origin::Environment {
                variable: env.to_owned(),
            }),
            key: key.map(|k| k.path.to_owned()),
            problem,
            fix,
        }
    }
}

/// A TOML value as the text its environment variable would hold, if it has the key's kind.
fn value_text(key: &Key, value: &toml::Value) -> Option<String> {
    match (key.kind, value) {
        (Kind::Text, toml::Value::String(s)) => Some(s.clone()),
        (Kind::Number, toml::Value::Integer(n)) => Some(n.to_string()),
        (Kind::Switch, toml::Value::Boolean(b)) => Some(b.to_string()),
        (Kind::Words, toml::Value::Array(items)) => {
            let words: Option<Vec<&str>> = items
                .iter()
                .map(|v| {
                    v.as_str()
                        .filter(|w| !w.is_empty() && !w.contains(char::is_whitespace))
                })
                .collect();
            Some(words?.join(" "))
        }
        _ => None,
    }
}

fn unknown_key(origin: &Origin, path: &str, problem: &str) -> ConfigProblem {
    let fix = match keys::closest(path) {
        Some(near) => format!("Did you mean {near}? Correct or remove it."),
        None => "Remove it; the keys Doorstep knows are listed in /usr/share/doc/doorstep/config.example.toml.".into(),
    };
    ConfigProblem {
        origin: origin.clone(),
        key: Some(path.to_owned()),
        problem: problem.to_owned(),
        fix,
    }
}

/// " (line N)" for a parse error's position.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|s| {
        let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
        format!(" (line {line})")
    })
    .unwrap_or_default()
}

fn file_origin(path: &Path) -> Origin {
    Origin::File {
        path: path.display().to_string(),
    }
}

/// A file's text, or `None` when there is no such file.
fn read_optional(path: &Path) -> Result<Option<String>, ConfigProblem> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigProblem {
            origin: file_origin(path),
            key: None,
            problem: format!("cannot be read: {e}"),
            fix: "Make it a readable text file (on Linux: sudo chmod 644 on it).".into(),
        }),
    }
}

/// The system file, refused when anyone could have written it: it says which registry this
/// device sends personal data to.
fn read_system_file(path: &Path) -> Result<Option<String>, ConfigProblem> {
    let Some(text) = read_optional(path)? else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).map_err(|e| ConfigProblem {
            origin: file_origin(path),
            key: None,
            problem: format!("cannot be read: {e}"),
            fix: "Check the file's permissions.".into(),
        })?;
        if meta.mode() & 0o002 != 0 {
            return Err(ConfigProblem {
                origin: file_origin(path),
                key: None,
                problem: "can be changed by anyone on this computer".into(),
                fix: format!(
                    "Only its owner may write it: sudo chmod 644 {}",
                    path.display()
                ),
            });
        }
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests;
