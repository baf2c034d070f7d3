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
