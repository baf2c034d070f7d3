//! "Copy support details": what a help desk needs to know about this installation, in plain
//! text a person can paste into a message. Nothing personal: no names, no record contents, no
//! data folder (it holds the account's user name), only the app's own state.

use std::fmt::Write;

use crate::app::DeviceMode;
use crate::device_config::{Layers, Origin};
use crate::sync::service::SyncStatus;

/// The facts, gathered by the shell.
pub struct SupportFacts<'a> {
    pub version: &'a str,
    /// The operating system and architecture, like `linux x86_64`.
    pub platform: &'a str,
    pub mode: DeviceMode,
    pub registry_url: &'a str,
    pub layers: &'a Layers,
    /// `None`: nobody is signed in, so there is no sync.
    pub sync: Option<&'a SyncStatus>,
    /// The last warnings and errors of the log, oldest first.
    pub recent_problems: &'a [String],
}

/// The text to copy.
pub fn support_details(f: &SupportFacts<'_>) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "Doorstep {}", f.version);
    let _ = writeln!(out, "Platform: {}", f.platform);
    let _ = writeln!(out, "Device mode: {}", mode_word(f.mode));
    let _ = writeln!(out, "Registry: {}", f.registry_url);
    let _ = writeln!(out, "Configuration:");
    if f.layers.files.is_empty() {
        let _ = writeln!(out, "  no configuration file");
    }
    for file in &f.layers.files {
        let _ = writeln!(out, "  file {}", file.display());
    }
    if let Some(ignored) = &f.layers.ignored_user_file {
        let _ = writeln!(out, "  ignored on a kiosk: {}", ignored.display());
    }
    for (key, value, origin) in f.layers.describe() {
        let from = match origin {
            Origin::BuiltIn => "built in".to_owned(),
            Origin::File { path } => path,
            Origin::Environment { variable } => variable,
        };
        let _ = writeln!(out, "  {key} = {value}  ({from})");
    }
    match f.sync {
        None => {
            let _ = writeln!(out, "Sync: nobody signed in");
        }
        Some(s) => {
            let _ = writeln!(
                out,
                "Sync: {}; {} waiting to be sent, {} conflicts, {} refused; last success {}",
                if s.online { "online" } else { "offline" },
                s.pending,
                s.conflicts,
                s.rejected,
                s.last_success.as_deref().unwrap_or("never"),
            );
            if let Some(kind) = s.last_error_kind {
                let _ = writeln!(out, "  last sync problem: {kind:?}");
            }
        }
    }
    if f.recent_problems.is_empty() {
        let _ = writeln!(out, "Recent problems: none");
    } else {
        let _ = writeln!(out, "Recent problems:");
        for p in f.recent_problems {
            let _ = writeln!(out, "  {p}");
        }
    }
    out
}

fn mode_word(mode: DeviceMode) -> &'static str {
    match mode {
        DeviceMode::Personal => "personal",
        DeviceMode::Agent => "agent",
        DeviceMode::Kiosk => "kiosk",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device_config::{DeviceConfig, Sources};

    #[test]
    fn the_details_say_version_mode_configuration_sync_and_problems() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("config.toml");
        let pin = crate::app::config::hash_operator_pin("246810").unwrap();
        std::fs::write(
            &system,
            format!("[device]\nmode = \"kiosk\"\n[kiosk]\noperator_pin = \"{pin}\"\n"),
        )
        .unwrap();
        let sources = Sources {
            system_file: system.clone(),
            user_file: None,
            built_in: "[registry]\nurl = \"https://registry.example.gov\"\n".into(),
        };
        let c = DeviceConfig::load("/d".into(), &sources, |_| None).unwrap();
        let sync = SyncStatus {
            pending: 3,
            conflicts: 1,
            ..SyncStatus::default()
        };
        let text = support_details(&SupportFacts {
            version: "1.2.3",
            platform: "linux x86_64",
            mode: c.app.mode,
            registry_url: c.settings.registry_url.as_str(),
            layers: &c.layers,
            sync: Some(&sync),
            recent_problems: &["WARN cannot reach the registry".into()],
        });
        assert!(text.starts_with("Doorstep 1.2.3\n"), "{text}");
        assert!(text.contains("Device mode: kiosk"));
        assert!(text.contains(&format!("file {}", system.display())));
        assert!(text.contains("registry.url = https://registry.example.gov  (built in)"));
        assert!(text.contains("kiosk.operator_pin = (set)"));
        assert!(!text.contains("argon2"), "the PIN's hash is not shown");
        assert!(text.contains("3 waiting to be sent, 1 conflicts"));
        assert!(text.contains("  WARN cannot reach the registry"));
    }
}
