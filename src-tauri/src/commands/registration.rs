//! A field agent registers a household offline, step by step (crates/client/src/app/registration.rs).

use doorstep_client::app::{
    AreaPicker, DuplicateAnswer, Registration, RegistrationCheck, RegistrationSaved,
    RegistrationSummary,
};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// Agent: the registrations in progress on this device, to resume one.
#[tauri::command]
#[specta::specta]
pub async fn registrations(
    state: State<'_, AppState>,
) -> Result<Vec<RegistrationSummary>, UserError> {
    Ok(state.core.registrations().await?)
}

/// Agent: start registering a household.
#[tauri::command]
#[specta::specta]
pub async fn start_registration(state: State<'_, AppState>) -> Result<Registration, UserError> {
    Ok(state.core.start_registration().await?)
}

/// Agent: the areas a household's address may name (the registry's list as last synced).
#[tauri::command]
#[specta::specta]
pub async fn registration_areas(state: State<'_, AppState>) -> Result<AreaPicker, UserError> {
    Ok(state.core.registration_areas().await?)
}

/// Agent: a registration in progress.
#[tauri::command]
#[specta::specta]
pub async fn registration(
    state: State<'_, AppState>,
    id: String,
) -> Result<Registration, UserError> {
    Ok(state.core.registration(id).await?)
}

/// Agent: keep a step and check it (problems by field, or "Is this the same person?").
#[tauri::command]
#[specta::specta]
pub async fn save_registration(
    state: State<'_, AppState>,
    draft: Registration,
) -> Result<RegistrationCheck, UserError> {
    Ok(state.core.save_registration(draft).await?)
}

/// Agent: answer "Is this the same person?".
#[tauri::command]
#[specta::specta]
pub async fn answer_duplicate(
    state: State<'_, AppState>,
    id: String,
    person_key: String,
    answer: DuplicateAnswer,
) -> Result<Registration, UserError> {
    Ok(state.core.answer_duplicate(id, person_key, answer).await?)
}

/// Agent: save the household; it is sent with the next sync.
#[tauri::command]
#[specta::specta]
pub async fn finish_registration(
    state: State<'_, AppState>,
    id: String,
) -> Result<RegistrationSaved, UserError> {
    Ok(state.core.finish_registration(id).await?)
}

/// Agent: take a document out of a registration in progress (deleted from the device).
#[tauri::command]
#[specta::specta]
pub async fn remove_registration_document(
    state: State<'_, AppState>,
    id: String,
    document: String,
) -> Result<Registration, UserError> {
    Ok(state
        .core
        .remove_registration_document(id, document)
        .await?)
}

/// Agent: discard a registration in progress.
#[tauri::command]
#[specta::specta]
pub async fn discard_registration(state: State<'_, AppState>, id: String) -> Result<(), UserError> {
    Ok(state.core.discard_registration(id).await?)
}

/// Agent: the end-of-day summary since `since` (RFC 3339: the start of the local day).
#[tauri::command]
#[specta::specta]
pub async fn day_summary(
    state: State<'_, AppState>,
    since: String,
) -> Result<doorstep_client::app::DaySummary, UserError> {
    Ok(state.core.day_summary(since).await?)
}

/// Agent: the registry's "possible duplicate" notices still open on this device.
#[tauri::command]
#[specta::specta]
pub async fn duplicate_notices(
    state: State<'_, AppState>,
) -> Result<Vec<doorstep_client::app::DuplicateNotice>, UserError> {
    Ok(state.core.duplicate_notices().await?)
}

/// Agent: answer a "possible duplicate" notice: `same` person, or different people.
#[tauri::command]
#[specta::specta]
pub async fn answer_notice(
    state: State<'_, AppState>,
    id: String,
    same: bool,
) -> Result<(), UserError> {
    Ok(state.core.answer_notice(id, same).await?)
}
