//! The one error type the web UI sees.
//!
//! Library errors are detailed and typed (`thiserror`); at the IPC edge they become a message a
//! person can act on plus a stable code the UI can branch on.

use serde::Serialize;

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UserError {
    /// Stable, machine-readable; the UI may branch on it.
    pub code: UserErrorCode,
    /// Plain-language explanation with what to do next.
    pub message: String,
}

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UserErrorCode {
    /// Something the person typed or chose is not acceptable.
    InvalidInput,
}

impl UserError {
    pub fn invalid_input(message: impl Into<String>) -> Self {
        UserError {
            code: UserErrorCode::InvalidInput,
            message: message.into(),
        }
    }
}
