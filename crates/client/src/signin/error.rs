//! Everything that can stop a sign-in, each with what the person (or the integrator setting up
//! the provider) can do about it. Messages never contain codes, tokens or personal claims.

use crate::vault::KeyStoreError;

/// Why a token (ID token or signed userinfo) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("it is not a well-formed signed JWT: {0}")]
    Malformed(String),
    #[error("it is encrypted (JWE), which this version of Doorstep cannot read yet; register the client without an encryption key")]
    Encrypted,
    #[error("it is signed with algorithm `{alg}`, which is not accepted{hint}")]
    DisallowedAlg { alg: String, hint: String },
    #[error("it names signing key `{kid}`, which the provider does not publish")]
    UnknownKid { kid: String },
    #[error("its signature does not verify: it was altered or not issued by the provider")]
    BadSignature,
    #[error("it has expired (check this device's clock if this keeps happening)")]
    Expired,
    #[error("it was issued in the future (check this device's clock)")]
    IssuedInFuture,
    #[error("it was issued by `{found}`, not by the configured provider `{expected}`")]
    WrongIssuer { expected: String, found: String },
    #[error("it was issued for another application (its audience does not include `{expected}`)")]
    WrongAudience { expected: String },
    #[error(
        "it was issued to another application (authorized party `{found}`, expected `{expected}`)"
    )]
    WrongAuthorizedParty { expected: String, found: String },
    #[error("its nonce does not match this sign-in attempt (a replayed or injected response)")]
    NonceMismatch,
    #[error("it does not belong with the access token it came with (`at_hash` mismatch)")]
    AccessTokenHashMismatch,
    #[error("it is for a different person than the ID token")]
    SubjectMismatch,
    #[error("the person signed in with `{found}`, but one of [{requested}] was required")]
    AcrNotSatisfied { requested: String, found: String },
    #[error("the person's authentication is older than the {max_age} s allowed")]
    AuthTooOld { max_age: u64 },
    #[error("it has no `{0}` claim")]
    MissingClaim(String),
}

/// Why signing in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("sign-in is not set up correctly: {0}")]
    Config(String),
    #[error("cannot reach the identity provider ({url}: {reason}); check the internet connection and try again")]
    ProviderUnreachable { url: String, reason: String },
    #[error("the identity provider at {url} sent an answer Doorstep does not understand: {reason}; its administrator should check the configuration")]
    ProviderResponse { url: String, reason: String },
    #[error("cannot start the sign-in listener on this computer: {0}")]
    Listener(String),
    #[error("cannot open the web browser ({0}); open a browser and try again")]
    Browser(String),
    #[error("sign-in was not finished within {seconds} s; start again when ready")]
    Timeout { seconds: u64 },
    #[error("the sign-in answer does not belong to this attempt (state mismatch); it may be an old or forged link. Start again from Doorstep")]
    StateMismatch,
    #[error(
        "the sign-in answer came from `{found}`, not from the configured provider; start again"
    )]
    IssuerMismatch { found: String },
    #[error("sign-in was cancelled{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Cancelled { description: Option<String> },
    #[error("the identity provider refused the sign-in ({error}{}); try again, or contact support if it persists", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    ProviderRefused {
        error: String,
        description: Option<String>,
    },
    /// The identity provider refuses the service's client itself (`invalid_client`,
    /// `unauthorized_client`): its registration or keys are wrong. Every attempt fails the same
    /// way until the office fixes it, so the person must not be told to try again.
    #[error("sign-in is not set up correctly for this service: the identity provider does not accept it ({detail}). Trying again will not help; contact the office that runs this service")]
    ServiceMisconfigured { detail: String },
    #[error("cannot reach the registry to finish signing in ({url}: {reason}); check the connection and try again")]
    RegistryUnreachable { url: String, reason: String },
    #[error("the registry could not finish the sign-in: {0}")]
    Registry(String),
    #[error("the identity provider's ID token was refused: {0}. Sign in again")]
    IdToken(#[source] TokenError),
    #[error("the identity provider's user information was refused: {0}. Sign in again")]
    UserInfo(#[source] TokenError),
    /// Userinfo came encrypted (JWE) straight from the provider; only the registry holds the key.
    #[error("the identity provider sends encrypted user information (JWE), which only the registry can decrypt: turn on `userinfo_via_registry` in the sign-in settings (it needs the registry's token exchange, and the registry's [signin] section needs `userinfo_decryption_key_path`)")]
    EncryptedUserInfo,
    #[error("cannot keep the session in the system keyring: {0}")]
    Keyring(#[from] KeyStoreError),
}

/// The OAuth errors (RFC 6749 §4.1.2.1, §5.2) that refuse the client rather than this attempt.
const CLIENT_REFUSED: &[&str] = &["invalid_client", "unauthorized_client"];

/// The problem type the registry answers when the provider refuses its sign-in client.
pub(crate) const SIGNIN_MISCONFIGURED_PROBLEM: &str = "/problems/signin-misconfigured";

impl SignInError {
    /// The provider's OAuth `error` (at the redirect or the token endpoint) as a sign-in error: a
    /// refused client is a misconfiguration, anything else a refusal of this attempt.
    pub(crate) fn refused(error: String, description: Option<String>) -> SignInError {
        if CLIENT_REFUSED.contains(&error.as_str()) {
            let detail = match description {
                Some(d) if !d.is_empty() => format!("{error}: {d}"),
                _ => error,
            };
            return SignInError::ServiceMisconfigured { detail };
        }
        SignInError::ProviderRefused { error, description }
    }

    pub(crate) fn unreachable(url: &str, err: &reqwest::Error) -> SignInError {
        SignInError::ProviderUnreachable {
            url: url.to_owned(),
            reason: describe(err),
        }
    }
}

/// reqwest's Display hides the root cause ("error sending request"); walk the chain, without
/// repeating the URL the error already names.
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
