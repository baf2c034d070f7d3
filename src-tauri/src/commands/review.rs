//! The review desk (registry staff and administrators); online only.

use doorstep_client::app::{
    AnnouncementReceipt, AnnouncementRequest, ApplicationStatus, DocumentStatus, ProgrammeChoice,
    ReviewCase, ReviewFilter, ReviewQueueView, SentMessagesView, VerificationStatus,
};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// A page of the applications waiting for a decision; `after` is the previous page's `nextAfter`.
#[tauri::command]
#[specta::specta]
pub async fn review_queue(
    state: State<'_, AppState>,
    filter: ReviewFilter,
    after: Option<String>,
) -> Result<ReviewQueueView, UserError> {
    Ok(state.core.review_queue(filter, after).await?)
}

/// The programmes, by name.
#[tauri::command]
#[specta::specta]
pub async fn review_programmes(
    state: State<'_, AppState>,
) -> Result<Vec<ProgrammeChoice>, UserError> {
    Ok(state.core.review_programmes().await?)
}

/// One application, opened for review.
#[tauri::command]
#[specta::specta]
pub async fn review_case(
    state: State<'_, AppState>,
    application: uuid::Uuid,
) -> Result<ReviewCase, UserError> {
    Ok(state.core.review_case(application).await?)
}

/// Verify a document, or reject it with a reason; answers with the application as it is now.
#[tauri::command]
#[specta::specta]
pub async fn decide_document(
    state: State<'_, AppState>,
    application: uuid::Uuid,
    document: uuid::Uuid,
    rev: u32,
    status: DocumentStatus,
    reason: Option<String>,
) -> Result<ReviewCase, UserError> {
    Ok(state
        .core
        .decide_document(application, document, u64::from(rev), status, reason)
        .await?)
}

/// Verify a payment account, or mark it failed with a reason.
#[tauri::command]
#[specta::specta]
pub async fn decide_account(
    state: State<'_, AppState>,
    application: uuid::Uuid,
    account: uuid::Uuid,
    rev: u32,
    status: VerificationStatus,
    reason: Option<String>,
) -> Result<ReviewCase, UserError> {
    Ok(state
        .core
        .decide_account(application, account, u64::from(rev), status, reason)
        .await?)
}

/// Move an application on (review, ask for more, approve, reject) with a note.
#[tauri::command]
#[specta::specta]
pub async fn decide_application(
    state: State<'_, AppState>,
    application: uuid::Uuid,
    to: ApplicationStatus,
    note: Option<String>,
) -> Result<ReviewCase, UserError> {
    Ok(state.core.decide_application(application, to, note).await?)
}

/// Send a message to everyone in a programme.
#[tauri::command]
#[specta::specta]
pub async fn announce(
    state: State<'_, AppState>,
    announcement: AnnouncementRequest,
) -> Result<AnnouncementReceipt, UserError> {
    Ok(state.core.announce(announcement).await?)
}

/// A page of the messages sent beyond the app and how their delivery went; `before` is the
/// previous page's `nextBefore`.
#[tauri::command]
#[specta::specta]
pub async fn messages_sent(
    state: State<'_, AppState>,
    before: Option<String>,
) -> Result<SentMessagesView, UserError> {
    Ok(state.core.messages_sent(before).await?)
}
