//! Desktop alerts: the person's switch, and the click that opens a screen.

use doorstep_client::app::{AlertSettings, Screen};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, State};
use tauri_specta::Event;

use crate::error::UserError;
use crate::AppState;

/// Whether this person gets desktop alerts here (never on a kiosk).
#[tauri::command]
#[specta::specta]
pub async fn alert_settings(state: State<'_, AppState>) -> Result<AlertSettings, UserError> {
    Ok(state.core.alert_settings().await?)
}

/// Turn desktop alerts on or off for this person on this device.
#[tauri::command]
#[specta::specta]
pub async fn set_alerts(
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<AlertSettings, UserError> {
    Ok(state.core.set_alerts(enabled).await?)
}

/// Sent to the UI when the person clicked a desktop alert: show this screen.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct OpenScreen(pub Screen);

/// A click on an alert: bring the window up and tell the UI which screen to show.
pub fn open_screen(app: &AppHandle, screen: Screen) {
    if let Some(main) = app.get_webview_window("main") {
        let _ = main.unminimize();
        let _ = main.show();
        let _ = main.set_focus();
    }
    if let Err(e) = OpenScreen(screen).emit(app) {
        tracing::warn!(error = %e, "cannot tell the window which screen an alert opens");
    }
}
