//! The home screen and the person's own details (their registration).

use doorstep_client::app::{HomeView, MyDetails};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// The home screen, from the vault.
#[tauri::command]
#[specta::specta]
pub async fn home(state: State<'_, AppState>) -> Result<HomeView, UserError> {
    Ok(state.core.home().await?)
}

/// Save the person's own details (their registration the first time).
#[tauri::command]
#[specta::specta]
pub async fn save_my_details(
    state: State<'_, AppState>,
    details: MyDetails,
) -> Result<HomeView, UserError> {
    Ok(state.core.save_my_details(details).await?)
}
