//! The commands that carry file bytes: a document's chunks in, a document's content out (the
//! person's own, or one a reviewer opens at the registry).
//!
//! They use Tauri's raw IPC bodies (no JSON: a 100 MB scan would be 400 MB of number arrays),
//! which tauri-specta cannot describe, so they are registered beside the generated handler (see
//! `lib.rs`) and called through `ui/src/lib/bytes.ts`. Only bytes and a token cross here; every
//! structured type stays generated.

use tauri::ipc::{InvokeBody, Request, Response};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// Header naming the upload a chunk belongs to (from `begin_upload`).
const UPLOAD_HEADER: &str = "doorstep-upload";

/// Commands served by [`handler`].
pub const COMMANDS: &[&str] = &[
    "upload_chunk",
    "document_content",
    "review_document_content",
];

/// The next piece of a document being added; the body is the raw bytes. Returns the bytes
/// received so far.
#[tauri::command]
pub async fn upload_chunk(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<u64, UserError> {
    let token = request
        .headers()
        .get(UPLOAD_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| UserError::invalid_input("The upload is not named; add the file again."))?;
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(UserError::invalid_input(
            "A piece of the file arrived in the wrong form; add the file again.",
        ));
    };
    Ok(state.core.upload_chunk(token, bytes.clone()).await?)
}

/// A document's content (decrypted in memory), for the preview.
#[tauri::command]
pub async fn document_content(
    state: State<'_, AppState>,
    id: String,
) -> Result<Response, UserError> {
    let id = id
        .parse()
        .map_err(|_| UserError::invalid_input("That record id is not valid."))?;
    Ok(Response::new(state.core.document_content(id).await?))
}

/// A document's content from the registry, for a reviewer (held in memory only, never kept).
#[tauri::command]
pub async fn review_document_content(
    state: State<'_, AppState>,
    id: String,
) -> Result<Response, UserError> {
    let id = id
        .parse()
        .map_err(|_| UserError::invalid_input("That record id is not valid."))?;
    Ok(Response::new(state.core.review_document_content(id).await?))
}

/// The handler for [`COMMANDS`].
pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![upload_chunk, document_content, review_document_content]
}
