//! Checking records before they are saved or accepted from the wire.
//!
//! Every entity implements [`Validate`]. A check collects *all* problems into
//! [`ValidationErrors`] rather than stopping at the first, so a form can mark every field that
//! needs attention in one go. Each [`FieldError`] names the field by a dotted path
//! (`phones[1].number_e164`), carries a stable machine [`code`] for the app to key on, and a
//! message in plain language that tells a person what to do.
//!
//! The format checks behind the rules (phone numbers, IBANs, e-mail addresses, language tags, ID
//! patterns, codes) live in the submodules and are public so the app can check a field while it
//! is being typed.

pub mod code;
pub mod email;
pub mod iban;
pub mod id_pattern;
pub mod language;
pub mod phone;
pub mod text;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use email::is_valid_email;
pub use iban::{validate_iban, IbanError};
pub use id_pattern::compile_id_pattern;
pub use language::is_valid_language_tag;
pub use phone::{is_e164, normalize_phone_number};
pub use text::{is_sha256_hex, is_valid_bic, is_valid_code, is_valid_country_code};

/// A record that can check its own fields.
///
/// Rules that need more than the record itself (today's date, the ID types configured on the
/// server, the other members of a group) are separate functions next to the entity.
pub trait Validate {
    /// Checks every rule and returns all problems found.
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldError {
    /// Dotted path of the field, e.g. `reg_ids[0].value`; empty for the record as a whole.
    pub field: String,
    /// Stable machine-readable reason, one of the constants in [`code`].
    pub code: String,
    /// What is wrong and how to fix it, written for the person filling in the form.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// All the problems a check found. Empty means valid; [`ValidationErrors::into_result`] turns
/// it into the `Result` that [`Validate::validate`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ValidationErrors {
    /// The problems, in the order the fields were checked.
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The problems, in the order found.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.errors.iter()
    }

    /// Records a problem with `field`.
    pub fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    /// Adds the problems of a nested value, prefixing their paths with `prefix`
    /// (`phones[1]` + `number_e164` → `phones[1].number_e164`).
    pub fn nest(&mut self, prefix: &str, result: Result<(), ValidationErrors>) {
        if let Err(inner) = result {
            self.errors
                .extend(inner.errors.into_iter().map(|mut error| {
                    error.field = join_path(prefix, &error.field);
                    error
                }));
        }
    }

    /// Adds problems found by another check on the same record, paths unchanged.
    pub fn merge(&mut self, result: Result<(), ValidationErrors>) {
        if let Err(other) = result {
            self.errors.extend(other.errors);
        }
    }

    /// Whether a problem with this `field` and `code` was recorded.
    pub fn has(&self, field: &str, code: &str) -> bool {
        self.errors
            .iter()
            .any(|error| error.field == field && error.code == code)
    }

    /// The problems recorded for one field.
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.errors.iter().filter(move |error| error.field == field)
    }

    /// `Ok(())` if empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [] => f.write_str("no problems"),
            [only] => fmt::Display::fmt(only, f),
            all => {
                write!(f, "{} problems: ", all.len())?;
                for (index, error) in all.iter().enumerate() {
                    if index > 0 {
                        f.write_str("; ")?;
                    }
                    fmt::Display::fmt(error, f)?;
                }
                Ok(())
            }
        }
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

/// `prefix` + `field` as a dotted path; index segments (`[2]`) attach without a dot.
pub(crate) fn join_path(prefix: &str, field: &str) -> String {
    match (prefix.is_empty(), field.is_empty()) {
        (true, _) => field.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if field.starts_with('[') => format!("{prefix}{field}"),
        (false, false) => format!("{prefix}.{field}"),
    }
}

/// Path of the `index`th element of the list field `field`: `phones[1]`.
pub(crate) fn indexed(field: &str, index: usize) -> String {
    format!("{field}[{index}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_errors_get_dotted_paths() {
        let mut inner = ValidationErrors::new();
        inner.push(
            "number_e164",
            code::INVALID_FORMAT,
            "Write the number with +.",
        );
        inner.push("", code::REQUIRED, "Whole thing.");
        let mut outer = ValidationErrors::new();
        outer.nest(&indexed("phones", 1), Err(inner));
        assert!(outer.has("phones[1].number_e164", code::INVALID_FORMAT));
        assert!(outer.has("phones[1]", code::REQUIRED));
        assert_eq!(join_path("", "name"), "name");
        assert_eq!(join_path("address", "[0]"), "address[0]");
    }

    #[test]
    fn empty_list_is_ok() {
        assert_eq!(ValidationErrors::new().into_result(), Ok(()));
        let mut errors = ValidationErrors::new();
        errors.merge(Ok(()));
        errors.nest("x", Ok(()));
        assert!(errors.is_empty());
    }

    #[test]
    fn display_lists_every_problem() {
        let mut errors = ValidationErrors::new();
        errors.push("a", code::REQUIRED, "Enter a.");
        assert_eq!(errors.to_string(), "a: Enter a.");
        errors.push("b", code::REQUIRED, "Enter b.");
        assert_eq!(errors.to_string(), "2 problems: a: Enter a.; b: Enter b.");
    }

    #[test]
    fn wire_format_is_an_object_with_a_list() {
        let mut errors = ValidationErrors::new();
        errors.push("given_name", code::REQUIRED, "Enter the given name.");
        assert_eq!(
            serde_json::to_value(&errors).unwrap(),
            serde_json::json!({"errors": [{
                "field": "given_name",
                "code": "required",
                "message": "Enter the given name."
            }]})
        );
    }
}
