//! Redeeming the authorization code, and fetching the person's claims from userinfo.
//!
//! Both redemption paths return the provider's own token response: in `ViaRegistry` mode the
//! registry passes it through unchanged, so the app verifies the ID token itself either way and
//! never has to trust the registry about who signed in. The same holds for userinfo fetched
//! through the registry (which decrypts eSignet's encrypted userinfo): the app still verifies the
//! provider's signature on it.

use doorstep_domain::api::{paths, ExchangeRequest};
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;
use zeroize::Zeroizing;

use super::discovery::ProviderMetadata;
use super::error::{describe, SIGNIN_MISCONFIGURED_PROBLEM};
use super::jwks::JwksCache;
use super::verify::{check_userinfo_subject, verify_userinfo_jwt};
use super::{SignInError, TokenError};
use crate::registry::{RegistryClient, SendError};

/// The registry route that redeems codes with the client's private key (relative to its URL).
pub const TOKEN_EXCHANGE_PATH: &str = without_root(paths::TOKEN_EXCHANGE);
/// The registry route that fetches userinfo and decrypts it when the provider encrypted it.
pub const USERINFO_PATH: &str = without_root(paths::USERINFO);

const fn without_root(path: &str) -> &str {
    match path.as_bytes() {
        [b'/', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(rest) => rest,
            Err(_) => panic!("a path after its leading `/` is still UTF-8"),
        },
        _ => path,
    }
}

/// The token endpoint's answer (RFC 6749 §5.1). No refresh token: Doorstep never asks for one,
/// and one that arrives anyway is dropped unread.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: Zeroizing<String>,
    pub token_type: String,
    pub id_token: Option<String>,
    pub expires_in: Option<u64>,
}

/// The parts of a code redemption.
pub(crate) struct Redeem<'a> {
    pub code: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: &'a str,
    pub client_id: &'a str,
    pub resource: Option<&'a str>,
}

/// A public client's redemption: PKCE proves the app is the one that started the sign-in.
pub(crate) async fn redeem_direct(
    http: &reqwest::Client,
    meta: &ProviderMetadata,
    r: &Redeem<'_>,
) -> Result<TokenResponse, SignInError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", r.code),
        ("redirect_uri", r.redirect_uri),
        ("code_verifier", r.verifier),
        ("client_id", r.client_id),
    ];
    if let Some(resource) = r.resource {
        form.push(("resource", resource));
    }
    let url = &meta.token_endpoint;
    let response = http
        .post(url)
        .form(&form)
        .send()
        .await
        .map_err(|e| SignInError::unreachable(url, &e))?;
    read_token_response(url, response, false).await
}

/// The registry redeems the code with `private_key_jwt` and returns the provider's answer.
pub(crate) async fn redeem_via_registry(
    http: &reqwest::Client,
    registry: &Url,
    r: &Redeem<'_>,
) -> Result<TokenResponse, SignInError> {
    let request = ExchangeRequest {
        code: r.code.to_owned(),
        code_verifier: r.verifier.to_owned(),
        redirect_uri: r.redirect_uri.to_owned(),
        resource: r.resource.map(str::to_owned),
    };
    let client = RegistryClient::with_http(registry.clone(), http.clone());
    let (url, response) = sent_to_registry(client.token_exchange(&request).await)?;
    read_token_response(url.as_str(), response, true).await
}

/// The registry's answer; failing to reach it is named as such (not as the provider).
fn sent_to_registry(
    sent: Result<(Url, reqwest::Response), SendError>,
) -> Result<(Url, reqwest::Response), SignInError> {
    sent.map_err(|e| match e {
        SendError::Url(e) => SignInError::Config(format!("registry URL: {e}")),
        SendError::Network { url, error } => SignInError::RegistryUnreachable {
            url: url.to_string(),
            reason: describe(&error),
        },
    })
}

async fn read_token_response(
    url: &str,
    response: reqwest::Response,
    via_registry: bool,
) -> Result<TokenResponse, SignInError> {
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| SignInError::ProviderResponse {
            url: url.to_owned(),
            reason: format!("HTTP {status}, not JSON: {}", describe(&e)),
        })?;
    if !status.is_success() {
        // The provider's OAuth error (passed through by the registry), or the registry's own
        // problem+json.
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        if let Some(error) = text("error") {
            return Err(SignInError::refused(error, text("error_description")));
        }
        let detail = problem_detail(&body, status);
        // The registry's own problem: the provider refused its client (registration or keys).
        if via_registry && text("type").as_deref() == Some(SIGNIN_MISCONFIGURED_PROBLEM) {
            return Err(SignInError::ServiceMisconfigured { detail });
        }
        return Err(if via_registry {
            SignInError::Registry(detail)
        } else {
            SignInError::ProviderResponse {
                url: url.to_owned(),
                reason: detail,
            }
        });
    }
    let tokens: TokenResponse =
        serde_json::from_value(body).map_err(|e| SignInError::ProviderResponse {
            url: url.to_owned(),
            reason: format!("the token response is incomplete: {e}"),
        })?;
    if !tokens.token_type.eq_ignore_ascii_case("bearer") {
        return Err(SignInError::ProviderResponse {
            url: url.to_owned(),
            reason: format!(
                "token_type {:?}; only Bearer tokens are supported",
                tokens.token_type
            ),
        });
    }
    Ok(tokens)
}

/// What a userinfo fetch needs besides the HTTP client, the provider and its keys.
pub(crate) struct UserinfoRequest<'a> {
    pub access_token: &'a str,
    pub client_id: &'a str,
    /// The ID token's `sub`; userinfo about anyone else is refused.
    pub subject: &'a str,
    pub leeway: u64,
    /// Fetch through this registry (`POST /v1/auth/userinfo`, which decrypts encrypted userinfo)
    /// instead of from the provider directly.
    pub registry: Option<&'a Url>,
}

/// The person's claims from the userinfo endpoint: a signed JWT (`application/jwt`, eSignet) is
/// verified against the provider's keys; plain JSON is accepted as it came over TLS with our
/// access token. Either way `sub` must be the ID token's. Through the registry the answer is the
/// provider's own (the JWT from inside its JWE when it was encrypted) and is checked the same way,
/// so the registry cannot make up claims.
pub(crate) async fn fetch_userinfo(
    http: &reqwest::Client,
    meta: &ProviderMetadata,
    keys: &JwksCache,
    r: &UserinfoRequest<'_>,
) -> Result<Map<String, Value>, SignInError> {
    let (url, response) = match r.registry {
        None => {
            let Some(url) = &meta.userinfo_endpoint else {
                return Err(SignInError::ProviderResponse {
                    url: meta.issuer.clone(),
                    reason: "the provider publishes no userinfo_endpoint; set fetch_userinfo to false and ask for claims in the ID token".into(),
                });
            };
            let response = http
                .get(url)
                .bearer_auth(r.access_token)
                .send()
                .await
                .map_err(|e| SignInError::unreachable(url, &e))?;
            (url.clone(), response)
        }
        Some(registry) => {
            let client = RegistryClient::with_http(registry.clone(), http.clone());
            let (url, response) = sent_to_registry(client.userinfo(r.access_token).await)?;
            (url.to_string(), response)
        }
    };
    let status = response.status();
    if !status.is_success() {
        if r.registry.is_some() {
            // The registry's problem+json says what failed (at the provider, or decrypting).
            let body: Value = response.json().await.unwrap_or_default();
            return Err(SignInError::Registry(problem_detail(&body, status)));
        }
        return Err(SignInError::ProviderResponse {
            url,
            reason: format!("HTTP {status} from the userinfo endpoint"),
        });
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = response
        .text()
        .await
        .map_err(|e| SignInError::unreachable(&url, &e))?;
    if content_type.starts_with("application/jwt") {
        let verified = verify_userinfo_jwt(
            body.trim(),
            keys,
            &meta.issuer,
            r.client_id,
            r.subject,
            r.leeway,
        )
        .await;
        match verified {
            // The registry decrypts; a JWE from it means it did not, and the setting is on.
            Err(SignInError::EncryptedUserInfo) if r.registry.is_some() => Err(
                SignInError::Registry("it returned the userinfo still encrypted".into()),
            ),
            other => other,
        }
    } else if content_type.starts_with("application/json") {
        let claims: Map<String, Value> =
            serde_json::from_str(&body).map_err(|e| SignInError::ProviderResponse {
                url: url.clone(),
                reason: format!("userinfo is not a JSON object: {e}"),
            })?;
        check_userinfo_subject(&claims, r.subject).map_err(SignInError::UserInfo)?;
        Ok(claims)
    } else {
        Err(SignInError::UserInfo(TokenError::Malformed(format!(
            "unexpected content type {content_type:?}"
        ))))
    }
}

/// The `detail` of the registry's problem+json, or the status when there is none.
fn problem_detail(body: &Value, status: reqwest::StatusCode) -> String {
    body.get("detail")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {status}"))
}
