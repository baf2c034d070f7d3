//! The form builder (registry administrators): programmes, form designs kept on the device,
//! import and export as JSON files, publishing versions.

use doorstep_client::app::{
    AdminProgramme, AdminProgrammes, DesignOf, FormDesign, ProgrammeInput, PublishedForm,
};
use tauri::{AppHandle, Manager, State};

use crate::error::UserError;
use crate::AppState;

/// Where exported forms are written: `DOORSTEP_EXPORT_DIR` when set, else the person's
/// Downloads folder, else their home folder.
const ENV_EXPORT_DIR: &str = "DOORSTEP_EXPORT_DIR";

/// The programmes with their latest form version (from the registry; offline, the programmes
/// whose forms are being designed on this device).
#[tauri::command]
#[specta::specta]
pub async fn admin_programmes(state: State<'_, AppState>) -> Result<AdminProgrammes, UserError> {
    Ok(state.core.admin_programmes().await?)
}

/// Create or change a programme at the registry.
#[tauri::command]
#[specta::specta]
pub async fn save_programme(
    state: State<'_, AppState>,
    programme: ProgrammeInput,
) -> Result<AdminProgramme, UserError> {
    Ok(state.core.save_programme(programme).await?)
}

/// The design of a programme's form: kept on this device, else the latest published, else blank.
#[tauri::command]
#[specta::specta]
pub async fn form_design(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
) -> Result<FormDesign, UserError> {
    Ok(state.core.form_design(programme).await?)
}

/// Keep the design being built on this device; returns when it was kept.
#[tauri::command]
#[specta::specta]
pub async fn save_form_design(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
    of: DesignOf,
    schema: serde_json::Value,
    based_on: Option<u32>,
) -> Result<String, UserError> {
    Ok(state
        .core
        .save_form_design(programme, of, schema, based_on)
        .await?)
}

/// Give up the design kept on this device.
#[tauri::command]
#[specta::specta]
pub async fn discard_form_design(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
) -> Result<(), UserError> {
    Ok(state.core.discard_form_design(programme).await?)
}

/// Replace the design with a form from a JSON file's text.
#[tauri::command]
#[specta::specta]
pub async fn import_form(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
    of: DesignOf,
    text: String,
) -> Result<FormDesign, UserError> {
    Ok(state.core.import_form(programme, of, text).await?)
}

/// Write the design to a new JSON file; returns the file's path.
#[tauri::command]
#[specta::specta]
pub async fn export_form(
    app: AppHandle,
    state: State<'_, AppState>,
    programme: uuid::Uuid,
    code: String,
) -> Result<String, UserError> {
    let folder = std::env::var_os(ENV_EXPORT_DIR)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| app.path().download_dir().ok())
        .or_else(|| app.path().home_dir().ok())
        .ok_or_else(|| UserError::invalid_input("There is no folder to save the file in."))?;
    Ok(state.core.export_form(programme, code, folder).await?)
}

/// Publish the design as the next version of the programme's form.
#[tauri::command]
#[specta::specta]
pub async fn publish_form(
    state: State<'_, AppState>,
    programme: uuid::Uuid,
    after: Option<u32>,
) -> Result<PublishedForm, UserError> {
    Ok(state.core.publish_form(programme, after).await?)
}
