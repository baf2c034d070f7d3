//! The provider's metadata, read from `<issuer>/.well-known/openid-configuration` by the
//! `openidconnect` crate (which also checks that the document names the configured issuer
//! exactly, OpenID Connect Discovery §4.3, and fetches the key set).
//!
//! Nothing about endpoints is hard-coded: eSignet deployments put them under different paths,
//! and the document is the provider's own statement of what it supports. What stays ours: the
//! https-or-loopback rule for every endpoint, PKCE S256 being offered, and RFC 9207's flag.

use openidconnect::core::{
    CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, DiscoveryError, HttpClientError, IssuerUrl,
};
use serde::{Deserialize, Serialize};

use super::config::check_url;
use super::SignInError;

/// The discovery fields the `openidconnect` crate does not model and Doorstep checks.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider adds `iss` to authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Discovered = openidconnect::ProviderMetadata<
    ExtraMetadata,
    openidconnect::core::CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// What Doorstep uses from the discovery document.
#[derive(Debug, Clone)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider adds `iss` to authorization responses.
    pub authorization_response_iss_parameter_supported: bool,
    /// The key set fetched with the document.
    pub(crate) keys: CoreJsonWebKeySet,
    pub(crate) issuer_url: IssuerUrl,
    pub(crate) auth_url: AuthUrl,
}

/// Fetch and check the discovery document for `issuer` (and the provider's key set).
pub async fn discover(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<ProviderMetadata, SignInError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let bad = |reason: String| SignInError::ProviderResponse {
        url: url.clone(),
        reason,
    };
    let issuer_url = IssuerUrl::new(issuer.to_owned())
        .map_err(|e| SignInError::Config(format!("`issuer` {issuer:?} is not a URL: {e}")))?;
    let meta = Discovered::discover_async(issuer_url, http)
        .await
        .map_err(|e| discovery_error(&url, e))?;
    let found = ProviderMetadata {
        issuer: meta.issuer().as_str().to_owned(),
        authorization_endpoint: meta.authorization_endpoint().as_str().to_owned(),
        token_endpoint: meta
            .token_endpoint()
            .map(|u| u.as_str().to_owned())
            .ok_or_else(|| bad("the document has no token_endpoint".into()))?,
        userinfo_endpoint: meta.userinfo_endpoint().map(|u| u.as_str().to_owned()),
        jwks_uri: meta.jwks_uri().as_str().to_owned(),
        code_challenge_methods_supported: meta
            .additional_metadata()
            .code_challenge_methods_supported
            .clone(),
        authorization_response_iss_parameter_supported: meta
            .additional_metadata()
            .authorization_response_iss_parameter_supported,
        keys: meta.jwks().clone(),
        issuer_url: meta.issuer().clone(),
        auth_url: meta.authorization_endpoint().clone(),
    };
    for (name, value) in [
        (
            "authorization_endpoint",
            Some(&found.authorization_endpoint),
        ),
        ("token_endpoint", Some(&found.token_endpoint)),
        ("jwks_uri", Some(&found.jwks_uri)),
        ("userinfo_endpoint", found.userinfo_endpoint.as_ref()),
    ] {
        if let Some(value) = value {
            check_url(name, value).map_err(|e| bad(e.to_string()))?;
        }
    }
    if let Some(methods) = &found.code_challenge_methods_supported {
        if !methods.iter().any(|m| m == "S256") {
            return Err(bad(
                "the provider does not support PKCE with S256, which Doorstep requires".into(),
            ));
        }
    }
    Ok(found)
}

/// The crate's discovery (or key set) failure, worded for the integrator.
pub(crate) fn discovery_error(
    url: &str,
    err: DiscoveryError<HttpClientError<reqwest::Error>>,
) -> SignInError {
    let response = |reason: String| SignInError::ProviderResponse {
        url: url.to_owned(),
        reason,
    };
    match err {
        DiscoveryError::Request(HttpClientError::Reqwest(e)) => SignInError::unreachable(url, &e),
        DiscoveryError::Request(e) => SignInError::ProviderUnreachable {
            url: url.to_owned(),
            reason: e.to_string(),
        },
        DiscoveryError::Parse(e) => {
            response(format!("not an OpenID discovery document or key set: {e}"))
        }
        // A non-200 status, a wrong content type, or a document naming another issuer.
        other => response(other.to_string()),
    }
}
