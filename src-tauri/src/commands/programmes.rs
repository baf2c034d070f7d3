//! Programmes and applications: forms, drafts, submission.

use doorstep_client::app::{ApplicationForm, ApplicationView, ProgrammeView};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// Every programme on this device, with the person's applications to it.
#[tauri::command]
#[specta::specta]
pub async fn programmes(state: State<'_, AppState>) -> Result<Vec<ProgrammeView>, UserError> {
    Ok(state.core.programmes().await?)
}

/// The form to apply to a programme, with the answers saved so far.
#[tauri::command]
#[specta::specta]
pub async fn application_form(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
) -> Result<ApplicationForm, UserError> {
    Ok(state.core.application_form(programme).await?)
}

/// Keep the answers typed so far on this device; returns when they were saved.
#[tauri::command]
#[specta::specta]
pub async fn save_application_draft(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
    data: serde_json::Value,
) -> Result<String, UserError> {
    Ok(state.core.save_application_draft(programme, data).await?)
}

/// Forget the answers typed so far.
#[tauri::command]
#[specta::specta]
pub async fn discard_application_draft(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
) -> Result<(), UserError> {
    Ok(state.core.discard_application_draft(programme).await?)
}

/// Submit an application (queued when offline).
#[tauri::command]
#[specta::specta]
pub async fn submit_application(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
    data: serde_json::Value,
) -> Result<ApplicationView, UserError> {
    Ok(state.core.submit_application(programme, data).await?)
}
