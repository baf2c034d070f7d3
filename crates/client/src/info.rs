//! What the UI shows about this installation and its registry.

use doorstep_domain::wire::HealthReport;
use serde::Serialize;

use crate::app::{AppConfig, DeviceMode};
use crate::registry::RegistryClient;
use crate::settings::Settings;

/// Facts about this installation, shown on the first screen and in "About".
#[derive(Debug, Clone, Serialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// Doorstep version.
    pub version: String,
    /// Folder holding this device's (encrypted) data.
    pub data_dir: String,
    /// Registry the app syncs to.
    pub registry_url: String,
    /// How the device is used, before anyone signs in (a kiosk locks its screen down).
    pub mode: DeviceMode,
    /// The languages offered (en, fr, ar or fewer, as configured).
    pub languages: Vec<String>,
    /// The language to start in, if the device or person chose one.
    pub language: Option<String>,
    /// Kiosk: whether the operator exit is offered (an operator PIN is configured).
    pub operator_exit: bool,
}

impl AppInfo {
    pub fn new(settings: &Settings, config: &AppConfig) -> Self {
        AppInfo {
            version: doorstep_domain::VERSION.to_owned(),
            data_dir: settings.data_dir.display().to_string(),
            registry_url: settings.registry_url.to_string(),
            mode: config.mode,
            languages: config.languages.clone(),
            language: config.language.clone(),
            operator_exit: config.mode == DeviceMode::Kiosk && config.operator_pin.is_some(),
        }
    }
}

/// Whether the registry can be reached right now, in terms the UI can show as is.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum RegistryStatus {
    /// The registry answered and speaks our API version.
    #[serde(rename_all = "camelCase")]
    Online { report: HealthReport },
    /// The registry answered but speaks another API version: an update is needed.
    #[serde(rename_all = "camelCase")]
    Incompatible { report: HealthReport },
    /// No usable answer; the app keeps working offline.
    #[serde(rename_all = "camelCase")]
    Offline { reason: String },
}

/// Ask the registry for its health and classify the answer.
pub async fn registry_status(client: &RegistryClient) -> RegistryStatus {
    match client.health().await {
        Ok(report) if report.is_compatible() => RegistryStatus::Online { report },
        Ok(report) => RegistryStatus::Incompatible { report },
        Err(e) => RegistryStatus::Offline {
            reason: e.to_string(),
        },
    }
}
