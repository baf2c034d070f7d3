//! What this installation is and whether its registry answers; the UI's first-paint signal.

use doorstep_client::info::{self, AppInfo, RegistryStatus};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// Version, data folder, registry address and device mode of this installation.
#[tauri::command]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo::new(&state.settings, state.core.config())
}

/// Ask the registry whether it is reachable right now.
#[tauri::command]
#[specta::specta]
pub async fn registry_status(state: State<'_, AppState>) -> Result<RegistryStatus, UserError> {
    Ok(info::registry_status(&state.registry).await)
}

/// Called by the UI once its first form is on screen. Logged, and printed for the benchmark when
/// `DOORSTEP_REPORT_READY` is set.
#[tauri::command]
#[specta::specta]
pub fn ui_ready(form: String) -> Result<(), UserError> {
    if form.is_empty() || form.len() > 200 {
        return Err(UserError::invalid_input(
            "form name must be 1 to 200 characters",
        ));
    }
    let at = crate::unix_millis();
    tracing::info!(%form, at, "first form rendered");
    if std::env::var_os(crate::ENV_REPORT_READY).is_some() {
        println!("doorstep: ui-ready {at}");
    }
    Ok(())
}
