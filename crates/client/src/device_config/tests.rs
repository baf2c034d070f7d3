use std::collections::HashMap;
use std::path::PathBuf;

use super::*;
use crate::app::config::{hash_operator_pin, operator_pin_matches};
use crate::app::DeviceMode;

/// A system file and a person's file in a fresh folder, and the environment as a map.
struct Device {
    dir: tempfile::TempDir,
    built_in: String,
    env: HashMap<String, String>,
}

impl Device {
    fn new() -> Self {
        Device {
            dir: tempfile::tempdir().unwrap(),
            built_in: String::new(),
            env: HashMap::new(),
        }
    }
    fn system(&self) -> PathBuf {
        self.dir.path().join("etc-config.toml")
    }
    fn user(&self) -> PathBuf {
        self.dir.path().join("user-config.toml")
    }
    fn write_system(&self, text: &str) -> &Self {
        std::fs::write(self.system(), text).unwrap();
        self
    }
    fn write_user(&self, text: &str) -> &Self {
        std::fs::write(self.user(), text).unwrap();
        self
    }
    fn load(&self) -> Result<DeviceConfig, ConfigProblem> {
        let sources = Sources {
            system_file: self.system(),
            user_file: Some(self.user()),
            built_in: self.built_in.clone(),
        };
        DeviceConfig::load("/data".into(), &sources, |n| self.env.get(n).cloned())
    }
}

const EXAMPLE: &str = include_str!("../../../../packaging/config.example.toml");

#[test]
fn no_file_at_all_is_a_personal_device_on_the_local_demo_registry() {
    let c = Device::new().load().unwrap();
    assert_eq!(c.app.mode, DeviceMode::Personal);
    assert_eq!(c.settings.registry_url.as_str(), "http://127.0.0.1:8700/");
    assert!(c.app.signin.is_none());
    assert_eq!(c.app.languages, ["en", "fr", "ar"]);
    assert!(c.layers.files.is_empty());
}

#[test]
fn the_example_file_is_valid_as_shipped() {
    // The example documents every key: each appears in it, and it loads as a kiosk.
    for key in KEYS {
        let (section, name) = key.path.split_once('.').unwrap();
        assert!(
            EXAMPLE.contains(&format!("[{section}]")),
            "{section} is not in the example"
        );
        assert!(
            EXAMPLE.contains(&format!("\n{name} =")) || EXAMPLE.contains(&format!("\n# {name} =")),
            "{} is not in the example",
            key.path
        );
    }
    let d = Device::new();
    d.write_system(EXAMPLE);
    let c = d.load().unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(
        c.settings.registry_url.host_str(),
        Some("registry.example.gov")
    );
    assert!(c.app.signin.is_some());
}

#[test]
fn the_system_file_sets_the_device_and_the_environment_overrides_it() {
    let mut d = Device::new();
    d.write_system(
        r#"
[registry]
url = "https://registry.example.gov"
[signin]
issuer = "https://id.example.gov"
client_id = "doorstep"
acr_values = ["mosip:idp:acr:biometrics", "mosip:idp:acr:generated-code"]
[device]
mode = "agent"
languages = ["fr", "en"]
[agent]
wipe_after_days = 14
keep_documents = true
"#,
    );
    let c = d.load().unwrap();
    assert_eq!(c.app.mode, DeviceMode::Agent);
    assert_eq!(c.app.agent_wipe_after_days, Some(14));
    assert!(c.app.agent_keep_documents);
    assert_eq!(c.app.languages, ["fr", "en"]);
    let s = c.app.signin.unwrap();
    assert_eq!(
        s.acr_values,
        ["mosip:idp:acr:biometrics", "mosip:idp:acr:generated-code"]
    );
    assert_eq!(
        c.layers.origin(crate::app::config::ENV_MODE),
        Some(&Origin::File {
            path: d.system().display().to_string()
        })
    );

    d.env.insert(
        "DOORSTEP_REGISTRY_URL".into(),
        "http://127.0.0.1:9000".into(),
    );
    let c = d.load().unwrap();
    assert_eq!(c.settings.registry_url.as_str(), "http://127.0.0.1:9000/");
    assert_eq!(
        c.app.mode,
        DeviceMode::Agent,
        "what the environment does not say stays"
    );
}

#[test]
fn built_in_defaults_apply_unless_a_file_says_otherwise() {
    let mut d = Device::new();
    d.built_in = "[registry]\nurl = \"https://registry.ministry.example\"\n[alerts]\nreminder_time = \"08:00\"\n".into();
    let c = d.load().unwrap();
    assert_eq!(
        c.settings.registry_url.host_str(),
        Some("registry.ministry.example")
    );
    assert_eq!(c.app.reminder_time, time::macros::time!(08:00));
    assert_eq!(
        c.layers.origin("DOORSTEP_REGISTRY_URL"),
        Some(&Origin::BuiltIn)
    );
    d.write_system("[registry]\nurl = \"https://other.example\"\n");
    assert_eq!(
        d.load().unwrap().settings.registry_url.host_str(),
        Some("other.example")
    );
}

#[test]
fn a_person_chooses_personal_settings_only_and_never_on_a_kiosk() {
    let d = Device::new();
    d.write_system("[alerts]\nreminder_time = \"09:30\"\n");
    d.write_user("[alerts]\nreminder_time = \"07:15\"\n[device]\nlanguage = \"fr\"\n");
    let c = d.load().unwrap();
    assert_eq!(
        c.app.reminder_time,
        time::macros::time!(07:15),
        "the person's choice wins"
    );
    assert_eq!(c.app.language.as_deref(), Some("fr"));

    d.write_user("[registry]\nurl = \"https://elsewhere.example\"\n");
    let p = d.load().unwrap_err();
    assert_eq!(p.key.as_deref(), Some("registry.url"));
    assert_eq!(
        p.origin,
        Origin::File {
            path: d.user().display().to_string()
        }
    );
    assert!(p.fix.contains("/etc/doorstep/config.toml"), "{p}");

    // On a kiosk the person's file is not even read: it cannot change anything.
    d.write_system("[device]\nmode = \"kiosk\"\n");
    d.write_user("[alerts]\nreminder_time = \"07:15\"\n");
    let c = d.load().unwrap();
    assert_eq!(c.app.reminder_time, time::macros::time!(09:00));
    assert_eq!(c.layers.ignored_user_file, Some(d.user()));
}

#[test]
fn an_unknown_key_names_the_file_the_key_and_the_likely_fix() {
    let d = Device::new();
    d.write_system("[device]\nmode = \"kiosk\"\n[kiosk]\nidle_secs = 60\n");
    let p = d.load().unwrap_err();
    assert_eq!(
        p.origin,
        Origin::File {
            path: d.system().display().to_string()
        }
    );
    assert_eq!(p.key.as_deref(), Some("kiosk.idle_secs"));
    assert!(p.fix.contains("kiosk.idle_seconds"), "{p}");
    assert!(
        p.to_string().contains("etc-config.toml: kiosk.idle_secs: "),
        "{p}"
    );

    d.write_system("mode = \"kiosk\"\n");
    assert_eq!(d.load().unwrap_err().key.as_deref(), Some("mode"));
}

#[test]
fn a_bad_value_names_the_key_where_it_was_set_and_how_to_write_it() {
    let d = Device::new();
    for (text, key, says) in [
        (
            "[kiosk]\nidle_seconds = \"soon\"\n",
            "kiosk.idle_seconds",
            "whole number",
        ),
        (
            "[device]\nmode = \"kiosk\"\n[kiosk]\nidle_seconds = 5\n",
            "kiosk.idle_seconds",
            "10 to 86400",
        ),
        ("[device]\nmode = \"shop\"\n", "device.mode", "kiosk"),
        (
            "[device]\nlanguages = [\"en\", \"de\"]\n",
            "device.languages",
            "en, fr, ar",
        ),
        (
            "[device]\nlanguages = \"en fr\"\n",
            "device.languages",
            "list in brackets",
        ),
        (
            "[device]\nlanguages = [\"fr\"]\nlanguage = \"en\"\n",
            "device.language",
            "languages this device offers",
        ),
        (
            "[registry]\nurl = \"http://registry.example.gov\"\n",
            "registry.url",
            "https",
        ),
        (
            "[signin]\nissuer = \"https://id.example\"\n",
            "signin.issuer",
            "signin.client_id too",
        ),
        (
            "[agent]\nkeep_documents = \"yes\"\n",
            "agent.keep_documents",
            "true or false",
        ),
        (
            "[agent]\nkeep_documents = true\n",
            "agent.keep_documents",
            "agent device",
        ),
        (
            "[kiosk]\nmaintenance_window = \"02:00-04:00\"\n",
            "kiosk.maintenance_window",
            "on a kiosk",
        ),
        (
            "[device]\nmode = \"kiosk\"\n[kiosk]\nmaintenance_window = \"2-4\"\n",
            "kiosk.maintenance_window",
            "HH:MM-HH:MM",
        ),
        (
            "[device]\nmode = \"kiosk\"\n[kiosk]\noperator_pin = \"123456\"\n",
            "kiosk.operator_pin",
            "doorstep hash-pin",
        ),
        (
            "[updates]\nchannel = \"Stable!\"\n",
            "updates.channel",
            "lowercase",
        ),
        (
            "[updates]\nurl = \"http://updates.example.gov/{{target}}\"\n",
            "updates.url",
            "https",
        ),
        (
            "[updates]\nurl = \"https://u.example/{{nope}}\"\n",
            "updates.url",
            "{{target}}",
        ),
    ] {
        d.write_system(text);
        let p = d.load().expect_err(text);
        assert_eq!(p.key.as_deref(), Some(key), "{text}: {p}");
        assert!(p.to_string().contains(says), "{text}: {p}");
        assert!(!p.fix.is_empty());
    }
    // The operator PIN's hash is never repeated in a message.
    d.write_system("[device]\nmode = \"kiosk\"\n[kiosk]\noperator_pin = \"$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$secretpart\"\n");
    assert!(!d.load().unwrap_err().to_string().contains("secretpart"));
}

#[test]
fn broken_toml_says_which_line() {
    let d = Device::new();
    d.write_system("[registry]\nurl = \"https://r.example\"\nmode = kiosk\n");
    let p = d.load().unwrap_err();
    assert!(p.problem.contains("line 3"), "{p}");
    assert!(p.key.is_none());
}

#[cfg(unix)]
#[test]
fn a_system_file_anyone_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let d = Device::new();
    d.write_system("[device]\nmode = \"personal\"\n");
    std::fs::set_permissions(d.system(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let p = d.load().unwrap_err();
    assert!(p.fix.contains("chmod 644"), "{p}");
}

#[test]
fn a_kiosk_operator_pin_is_kept_as_a_hash_and_checked() {
    let hash = hash_operator_pin("482913").unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(operator_pin_matches(&hash, "482913"));
    assert!(!operator_pin_matches(&hash, "482914"));
    assert!(!operator_pin_matches("not a hash", "482913"));
    for bad in ["1234", "12345a", "1234567890123"] {
        assert!(hash_operator_pin(bad).is_err(), "{bad}");
    }
    let d = Device::new();
    d.write_system(&format!("[device]\nmode = \"kiosk\"\n[kiosk]\noperator_pin = \"{hash}\"\nmaintenance_window = \"23:00-01:30\"\n"));
    let c = d.load().unwrap();
    assert_eq!(c.app.operator_pin.as_deref(), Some(hash.as_str()));
    assert_eq!(
        c.app.maintenance_window,
        Some((time::macros::time!(23:00), time::macros::time!(01:30)))
    );
    assert!(c
        .layers
        .describe()
        .iter()
        .all(|(_, v, _)| !v.contains("argon2")));
}
