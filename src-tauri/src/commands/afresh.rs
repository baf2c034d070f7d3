//! A forgotten passphrase: start afresh from the registry after signing in.

use doorstep_client::app::{AfreshPreview, SessionView};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// What starting afresh would lose: the unsent changes and drafts, counted.
#[tauri::command]
#[specta::specta]
pub async fn start_afresh_preview(state: State<'_, AppState>) -> Result<AfreshPreview, UserError> {
    Ok(state.core.start_afresh_preview().await?)
}

/// Erase the locked data (its keys first) and choose a new passphrase; the registry's copy
/// comes back with the first sync.
#[tauri::command]
#[specta::specta]
pub async fn start_afresh(state: State<'_, AppState>) -> Result<SessionView, UserError> {
    Ok(state.core.start_afresh().await?)
}
