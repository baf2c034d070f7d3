//! The one error type the web UI sees.
//!
//! Library errors are detailed and typed (`thiserror`); at the IPC edge they become a message a
//! person can act on plus a stable code the UI can branch on.

use doorstep_client::app::AppError;
use doorstep_client::signin::SignInError;
use doorstep_client::vault::VaultError;
use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UserError {
    /// Stable, machine-readable; the UI may branch on it.
    pub code: UserErrorCode,
    /// Plain-language explanation with what to do next.
    pub message: String,
    /// Per-field problems of a form, when the input broke a record's rules.
    pub fields: Vec<FieldProblem>,
    /// For a refused input: the reason's stable name; the UI words it from its catalogs
    /// (`problem.<key>`) in the person's language, with `params` filled in.
    pub key: Option<String>,
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct FieldProblem {
    pub field: String,
    /// The domain's stable reason (`required`, `invalid_format`…), for other languages.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UserErrorCode {
    /// Something the person typed or chose is not acceptable.
    InvalidInput,
    /// The passphrase did not open the data (or too many tries: wait).
    WrongPassphrase,
    /// Signing in did not work (cancelled, timed out, provider unreachable or misbehaving).
    SignIn,
    /// No identity provider is configured on this device.
    SignInNotConfigured,
    /// The identity provider refuses the service itself (its registration or keys are wrong):
    /// trying again will not help, the office must fix it.
    SignInMisconfigured,
    /// The offline unlock period is over: the person must sign in online once.
    SignInRequired,
    /// Sign-out would lose changes not yet sent; ask, then call again with `discardUnsent`.
    UnsentChanges,
    /// This device holds another person's open data.
    OtherPerson,
    /// The call does not fit the current screen (e.g. data not open yet).
    WrongStage,
    /// Reading or writing this device's data failed.
    Storage,
}

impl UserError {
    pub fn new(code: UserErrorCode, message: impl Into<String>) -> Self {
        UserError {
            code,
            message: message.into(),
            fields: Vec::new(),
            key: None,
            params: BTreeMap::new(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(UserErrorCode::InvalidInput, message)
    }
}

impl From<AppError> for UserError {
    fn from(e: AppError) -> Self {
        use UserErrorCode as C;
        let message = e.to_string();
        match e {
            AppError::SignInNotConfigured => UserError::new(C::SignInNotConfigured, message),
            AppError::SignIn(SignInError::Cancelled { .. }) => UserError::new(
                C::SignIn,
                "Sign-in was cancelled. You can try again when you are ready.",
            ),
            AppError::SignIn(SignInError::ServiceMisconfigured { detail }) => {
                // For whoever supports the office: what the provider or the registry said.
                tracing::error!(%detail, "the identity provider refuses this service's sign-in client");
                UserError::new(
                    C::SignInMisconfigured,
                    "Sign-in is not set up correctly for this service, so trying again will not help. Please contact the office: they need to fix it.",
                )
            }
            AppError::SignIn(_) => UserError::new(C::SignIn, message),
            AppError::Vault(VaultError::WrongPassphrase { .. })
            | AppError::Vault(VaultError::TooManyAttempts { .. }) => {
                UserError::new(C::WrongPassphrase, capitalised(&message))
            }
            AppError::Vault(VaultError::PassphraseTooShort) => {
                UserError::invalid_input(capitalised(&message))
            }
            AppError::Vault(VaultError::Invalid(errors)) => UserError {
                code: C::InvalidInput,
                message: "Some details need fixing; see the marked fields.".into(),
                fields: errors
                    .iter()
                    .map(|f| FieldProblem {
                        field: f.field.clone(),
                        code: f.code.clone(),
                        message: f.message.clone(),
                    })
                    .collect(),
                key: None,
                params: BTreeMap::new(),
            },
            AppError::Vault(VaultError::MigrationFailed { .. }) => {
                // After an update: the new version could not upgrade the data; it is untouched.
                tracing::error!(error = %message, "the data's schema upgrade failed");
                UserError {
                    key: Some("dataUpgradeFailed".into()),
                    ..UserError::new(C::Storage, capitalised(&message))
                }
            }
            AppError::Vault(_) | AppError::KeyStore(_) => {
                tracing::error!(error = %message, "storage failure");
                UserError::new(
                    C::Storage,
                    format!("This device's data could not be read or written: {message}"),
                )
            }
            AppError::InvalidInput(refusal) => UserError {
                key: Some(refusal.key.to_owned()),
                params: refusal
                    .params
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value))
                    .collect(),
                ..UserError::invalid_input(message)
            },
            AppError::UnsentChanges { .. } => UserError::new(C::UnsentChanges, message),
            AppError::OtherPerson => UserError::new(C::OtherPerson, message),
            AppError::SignInRequired { .. } => UserError::new(C::SignInRequired, message),
            AppError::WrongStage(_) => UserError::new(C::WrongStage, message),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI words a refused field by its domain code (`validation.<code>` in each catalog):
    /// a code without words in every language would show the person an English sentence.
    #[test]
    fn every_domain_refusal_code_is_worded_in_every_language() {
        let catalogs = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/i18n");
        for language in ["en", "fr", "ar"] {
            let path = format!("{catalogs}/{language}.json");
            let text = std::fs::read_to_string(&path).unwrap();
            let catalog: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&text).unwrap();
            for code in doorstep_domain::validate::code::ALL {
                let key = format!("validation.{code}");
                assert!(
                    catalog
                        .get(&key)
                        .and_then(|v| v.as_str())
                        .is_some_and(|w| !w.is_empty()),
                    "{path} has no words for {key}"
                );
            }
        }
    }

    #[test]
    fn a_refused_sign_in_client_is_its_own_code_and_not_worded_as_retryable() {
        let error = UserError::from(AppError::SignIn(SignInError::ServiceMisconfigured {
            detail: "invalid_client".into(),
        }));
        assert!(matches!(error.code, UserErrorCode::SignInMisconfigured));
        assert!(
            error.message.contains("contact the office"),
            "{}",
            error.message
        );
        assert!(
            !error.message.to_lowercase().contains("try again"),
            "{}",
            error.message
        );
        let other = UserError::from(AppError::SignIn(SignInError::Timeout { seconds: 5 }));
        assert!(matches!(other.code, UserErrorCode::SignIn));
    }
}
