//! App updates: the status, a look now, install now. The work is in crate::updates.

use doorstep_client::updates::UpdateStatus;
use tauri::State;

use crate::AppState;

/// The running version and what the last look for an update found.
#[tauri::command]
#[specta::specta]
pub fn update_status(state: State<'_, AppState>) -> UpdateStatus {
    state.updates.status()
}

/// Look for an update now (Settings' "Check for updates"). The answer also comes as an
/// `UpdateStatusChanged` event.
#[tauri::command]
#[specta::specta]
pub async fn check_for_update(state: State<'_, AppState>) -> Result<UpdateStatus, ()> {
    state.updates.check().await;
    Ok(state.updates.status())
}

/// Install the update the last look found: the data is closed, the app restarts as the new
/// version. Returns only if it did not happen (the status says why).
#[tauri::command]
#[specta::specta]
pub async fn install_update(state: State<'_, AppState>) -> Result<UpdateStatus, ()> {
    state.updates.install().await;
    Ok(state.updates.status())
}
