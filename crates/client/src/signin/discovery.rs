//! The provider's metadata, read from `<issuer>/.well-known/openid-configuration`.
//!
//! Nothing about endpoints is hard-coded: eSignet deployments put them under different paths,
//! and the document is the provider's own statement of what it supports.

use serde::Deserialize;
use url::Url;

use super::config::check_url;
use super::error::describe;
use super::SignInError;

/// What Doorstep uses from the discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider adds `iss` to authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// Fetch and check the discovery document for `issuer`.
pub async fn discover(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<ProviderMetadata, SignInError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|e| SignInError::unreachable(&url, &e))?;
    if !response.status().is_success() {
        return Err(SignInError::ProviderResponse {
            url,
            reason: format!(
                "HTTP {} for the discovery document (is the issuer URL right?)",
                response.status()
            ),
        });
    }
    let meta: ProviderMetadata =
        response
            .json()
            .await
            .map_err(|e| SignInError::ProviderResponse {
                url: url.clone(),
                reason: format!("not an OpenID discovery document: {}", describe(&e)),
            })?;
    let bad = |reason: String| SignInError::ProviderResponse {
        url: url.clone(),
        reason,
    };
    // OpenID Connect Discovery §4.3: a document naming another issuer is the wrong (or a
    // spoofed) provider.
    if meta.issuer != issuer {
        return Err(bad(format!(
            "the document is for issuer {:?}, but Doorstep is configured for {issuer:?}",
            meta.issuer
        )));
    }
    for (name, value) in [
        ("authorization_endpoint", Some(&meta.authorization_endpoint)),
        ("token_endpoint", Some(&meta.token_endpoint)),
        ("jwks_uri", Some(&meta.jwks_uri)),
        ("userinfo_endpoint", meta.userinfo_endpoint.as_ref()),
    ] {
        if let Some(value) = value {
            check_url(name, value).map_err(|e| bad(e.to_string()))?;
        }
    }
    if let Some(methods) = &meta.code_challenge_methods_supported {
        if !methods.iter().any(|m| m == "S256") {
            return Err(bad(
                "the provider does not support PKCE with S256, which Doorstep requires".into(),
            ));
        }
    }
    Ok(meta)
}

impl ProviderMetadata {
    pub(crate) fn authorization_url(&self) -> Result<Url, SignInError> {
        Url::parse(&self.authorization_endpoint).map_err(|e| SignInError::ProviderResponse {
            url: self.issuer.clone(),
            reason: format!("authorization_endpoint is not a URL: {e}"),
        })
    }
}
