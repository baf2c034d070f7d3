//! Documents: listing, adding (chunks arrive through `bytes.rs`), deleting.

use doorstep_client::app::{DocumentsView, NewUpload};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// The person's documents and what the programmes require.
#[tauri::command]
#[specta::specta]
pub async fn documents(state: State<'_, AppState>) -> Result<DocumentsView, UserError> {
    Ok(state.core.documents().await?)
}

/// Start adding a document; returns the token its chunks are sent with (see `bytes.rs`).
#[tauri::command]
#[specta::specta]
pub async fn begin_upload(
    state: State<'_, AppState>,
    upload: NewUpload,
) -> Result<String, UserError> {
    Ok(state.core.begin_upload(upload).await?.to_string())
}

/// Every chunk sent: store the document.
#[tauri::command]
#[specta::specta]
pub async fn finish_upload(
    state: State<'_, AppState>,
    token: uuid::Uuid,
) -> Result<DocumentsView, UserError> {
    Ok(state.core.finish_upload(token).await?)
}

/// Stop adding a document; nothing of it is kept.
#[tauri::command]
#[specta::specta]
pub async fn cancel_upload(state: State<'_, AppState>, token: uuid::Uuid) -> Result<(), UserError> {
    state.core.cancel_upload(token).await;
    Ok(())
}

/// Delete a document.
#[tauri::command]
#[specta::specta]
pub async fn delete_document(
    state: State<'_, AppState>,
    id: uuid::Uuid,
) -> Result<DocumentsView, UserError> {
    Ok(state.core.delete_document(id).await?)
}
