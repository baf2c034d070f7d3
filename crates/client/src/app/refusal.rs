//! Why the app refused an input, in a form every language can word.
//!
//! The app core writes English; the person may read French or Arabic. So a refusal carries a
//! stable key (the UI's catalogs hold `problem.<key>` in every language), the values its sentence
//! names, and the English sentence itself (for logs, English, and callers without a catalog).

use std::fmt;

use super::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable name of the reason, e.g. `alreadyApplied`.
    pub key: &'static str,
    /// The values the sentence names, e.g. `programme` → "Child Benefit".
    pub params: Vec<(&'static str, String)>,
    pub english: String,
}

impl Refusal {
    pub fn new(key: &'static str, english: impl Into<String>) -> Self {
        Refusal {
            key,
            params: Vec::new(),
            english: english.into(),
        }
    }

    /// Name a value the sentence uses (`{name}` in the catalogs).
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

/// An [`AppError::InvalidInput`] for `key`, worded in English as `english`.
pub(super) fn refused(key: &'static str, english: impl Into<String>) -> AppError {
    AppError::InvalidInput(Refusal::new(key, english))
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::InvalidInput(r)
    }
}

/// A call to the registry that did not work, for a screen that needs the network (the staff
/// directory, the review desk): what to do about it, in words every language can hold. The
/// registry's own reason (English) is named for the person when it refused the request.
pub(super) fn from_registry(error: crate::registry::TransportError) -> AppError {
    use crate::registry::TransportError as E;
    match error {
        E::Offline(_) | E::CursorReset => refused(
            "needsNetwork",
            "This needs the registry, and it cannot be reached. Connect to the network and try again.",
        ),
        E::Unauthorized => refused(
            "signInAgain",
            "Your sign-in has expired. Sign in again, then try once more.",
        ),
        E::Server { status: 403, .. } => refused(
            "notYourRole",
            "Your role does not allow this. If it should, ask an administrator to change your entry in the staff directory.",
        ),
        E::Revoked(reason) | E::Server { message: reason, .. } => Refusal::new(
            "registryRefused",
            format!("The registry refused this: {reason}"),
        )
        .with("reason", reason)
        .into(),
    }
}
