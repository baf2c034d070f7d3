//! Sync on demand, its status, and the changes a person must settle: refusals and conflicts.

use doorstep_client::app::{ConflictView, FieldChoice, RejectionView};
use doorstep_client::sync::service::SyncStatus;
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// "Sync now".
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), UserError> {
    Ok(state.core.sync_now().await?)
}

/// The sync indicator's current state (later changes arrive as `SyncStatusChanged` events).
#[tauri::command]
#[specta::specta]
pub fn sync_status(state: State<'_, AppState>) -> SyncStatus {
    state.core.sync_status().borrow().clone()
}

/// Changes the registry refused, with its reasons.
#[tauri::command]
#[specta::specta]
pub async fn rejections(state: State<'_, AppState>) -> Result<Vec<RejectionView>, UserError> {
    Ok(state.core.rejections().await?)
}

/// Drop a refused change (the record returns to the registry's version).
#[tauri::command]
#[specta::specta]
pub async fn discard_rejection(
    state: State<'_, AppState>,
    mutation_id: uuid::Uuid,
) -> Result<(), UserError> {
    Ok(state.core.discard_rejection(mutation_id).await?)
}

/// Conflicts waiting for the person, grouped by record.
#[tauri::command]
#[specta::specta]
pub async fn conflicts(state: State<'_, AppState>) -> Result<Vec<ConflictView>, UserError> {
    Ok(state.core.conflicts().await?)
}

/// Resolve every conflicting field of one record.
#[tauri::command]
#[specta::specta]
pub async fn resolve_conflict(
    state: State<'_, AppState>,
    kind: String,
    record_id: uuid::Uuid,
    choices: Vec<FieldChoice>,
) -> Result<(), UserError> {
    Ok(state
        .core
        .resolve_conflict(kind, record_id, choices)
        .await?)
}
