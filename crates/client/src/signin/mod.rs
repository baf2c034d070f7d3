//! Signing in with the national identity provider (eSignet, or any OpenID Connect provider).
//!
//! The flow is the authorization code flow for native apps (RFC 8252) with PKCE S256, `state`
//! and `nonce`: Doorstep opens the system browser at the provider, the person signs in there,
//! and the provider sends the browser back to a one-shot listener on `127.0.0.1`. The code is
//! then redeemed either by the app itself (a public client) or by the registry server, which
//! holds the client's private key for eSignet's `private_key_jwt` (see [`TokenExchange`]). The
//! app always verifies the ID token itself. Userinfo that the provider encrypts (eSignet's JWE)
//! is fetched through the registry, which holds the decryption key too
//! ([`SignInConfig::userinfo_via_registry`]); the app verifies the signed JWT it gets back.
//!
//! Map:
//! - [`SignIn`]: discovery once, then [`SignIn::sign_in`] per attempt → [`Session`].
//! - [`SignInConfig`] / [`TokenExchange`]: everything deployment-specific.
//! - [`BrowserOpener`] / [`SystemBrowser`]: how the provider's page is shown.
//! - [`SessionStore`]: the session in memory, and in the OS keyring for "stay signed in".
//! - [`verify_id_token`], [`JwksCache`]: ID token and signed-userinfo checks, provider keys.
//! - [`SignInError`] / [`TokenError`]: every failure, worded for the person or integrator.
//!
//! The OpenID Connect protocol work (discovery, the authorization request with PKCE and nonce,
//! ID token and signed-userinfo verification) is the `openidconnect` crate's; see
//! ARCHITECTURE.md ("Sign-in") for what stays Doorstep's own and why.

mod browser;
mod config;
mod discovery;
mod error;
mod jwks;
mod loopback;
mod random;
mod session;
mod stepup;
mod token;
mod verify;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

pub use browser::{BrowserOpener, CommandBrowser, SystemBrowser};
pub use config::{SignInConfig, TokenExchange};
pub use discovery::{discover, ProviderMetadata};
pub use error::{SignInError, TokenError};
pub use jwks::{JwksCache, UNKNOWN_KID_REFETCH_INTERVAL};
pub use session::{AccessToken, Identity, Session, SessionStore, SESSION_ACCOUNT};
pub use token::{TOKEN_EXCHANGE_PATH, USERINFO_PATH};
pub use verify::{
    verify_id_token, verify_userinfo_jwt, IdTokenClaims, IdTokenExpectations, ALLOWED_ALGS,
};

use loopback::CallbackListener;
use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet};
use openidconnect::{
    AuthenticationContextClass, ClientId, CsrfToken, LanguageTag, Nonce, PkceCodeChallenge,
    RedirectUrl, Scope,
};
pub(crate) use random::random_token;
use token::Redeem;

/// Requests to the provider and the registry that take longer than this fail as unreachable.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// An access token whose lifetime the provider does not state is assumed to last this long.
const DEFAULT_TOKEN_LIFETIME: i64 = 300;

/// A configured provider, discovered and ready for sign-in attempts.
pub struct SignIn {
    config: SignInConfig,
    http: reqwest::Client,
    metadata: ProviderMetadata,
    keys: JwksCache,
}

impl SignIn {
    /// Check the configuration and read the provider's discovery document.
    pub async fn discover(config: SignInConfig) -> Result<SignIn, SignInError> {
        config.validate()?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            // A redirect from the token or userinfo endpoint is a misconfiguration, and
            // following it could carry the code or token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("doorstep/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SignInError::Config(format!("cannot create the HTTP client: {e}")))?;
        let metadata = discover(&http, &config.issuer).await?;
        let keys = JwksCache::with_keys(
            http.clone(),
            metadata.jwks_uri.clone(),
            metadata.keys.clone(),
        );
        Ok(SignIn {
            config,
            http,
            metadata,
            keys,
        })
    }

    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    pub fn config(&self) -> &SignInConfig {
        &self.config
    }

    /// One sign-in: open the browser at the provider, wait for the callback, redeem the code,
    /// verify the ID token (and userinfo). Nothing is kept on failure.
    pub async fn sign_in(&self, browser: &dyn BrowserOpener) -> Result<Session, SignInError> {
        let cfg = &self.config;
        let state = random_token();
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut listener = CallbackListener::bind(&cfg.redirect_path, state.clone()).await?;
        let redirect_uri = listener.redirect_uri().to_string();
        let requested_at = unix_now();
        let (url, nonce) =
            authorization_request(cfg, &self.metadata, &redirect_uri, &state, pkce_challenge)?;
        browser.open(&url).map_err(SignInError::Browser)?;
        // The listener stays up (answering replays with an error page) until this returns.
        let callback = listener.wait(cfg.callback_timeout).await?;
        // RFC 9207: the answer must come from our provider (mix-up defence). Required when the
        // provider says it sends `iss`.
        match &callback.iss {
            Some(iss) if *iss != self.metadata.issuer => {
                return Err(SignInError::IssuerMismatch { found: iss.clone() })
            }
            None if self.metadata.authorization_response_iss_parameter_supported => {
                return Err(SignInError::IssuerMismatch {
                    found: "nothing (no `iss` in the answer)".into(),
                })
            }
            _ => {}
        }

        let redeem = Redeem {
            code: &callback.code,
            verifier: pkce_verifier.secret(),
            redirect_uri: &redirect_uri,
            client_id: &cfg.client_id,
            resource: cfg.resource.as_deref(),
        };
        let tokens = match &cfg.token_exchange {
            TokenExchange::Direct => {
                token::redeem_direct(&self.http, &self.metadata, &redeem).await?
            }
            TokenExchange::ViaRegistry { registry_url } => {
                token::redeem_via_registry(&self.http, registry_url, &redeem).await?
            }
        };
        drop(listener);
        let id_token = tokens.id_token.as_deref().ok_or_else(|| {
            SignInError::IdToken(TokenError::Malformed(
                "the token response has no id_token (is `openid` among the scopes?)".into(),
            ))
        })?;
        let leeway = cfg.leeway.as_secs();
        let claims = verify_id_token(
            id_token,
            &self.keys,
            &IdTokenExpectations {
                issuer: &self.metadata.issuer,
                client_id: &cfg.client_id,
                nonce: nonce.secret(),
                acr_values: &cfg.acr_values,
                max_age: cfg.max_age,
                requested_at,
                now: unix_now(),
                leeway,
                access_token: Some(tokens.access_token.as_str()),
            },
        )
        .await?;
        let userinfo = if cfg.fetch_userinfo {
            let request = token::UserinfoRequest {
                access_token: &tokens.access_token,
                client_id: &cfg.client_id,
                subject: &claims.subject,
                leeway,
                registry: cfg.userinfo_registry(),
            };
            token::fetch_userinfo(&self.http, &self.metadata, &self.keys, &request).await?
        } else {
            Map::new()
        };
        let identity = identity(&self.metadata.issuer, &claims, &userinfo);
        let expires_at = now_plus(tokens.expires_in);
        Ok(Session::new(
            identity,
            AccessToken::new(tokens.access_token),
            expires_at,
        ))
    }
}

/// The authorization request (RFC 6749 §4.1.1 with OpenID Connect's parameters), built by
/// the `openidconnect` crate: PKCE S256, `state`, a fresh `nonce` (returned), the scopes
/// (`openid` first), `acr_values`, `prompt`, `max_age`, `ui_locales`, `claims_locales`, and
/// as extra parameters the `claims` request (eSignet's `individual_id`) and RFC 8707's
/// `resource`.
fn authorization_request(
    cfg: &SignInConfig,
    meta: &ProviderMetadata,
    redirect_uri: &str,
    state: &str,
    pkce_challenge: PkceCodeChallenge,
) -> Result<(url::Url, Nonce), SignInError> {
    let redirect_uri = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| SignInError::Config(format!("redirect URI: {e}")))?;
    let client = CoreClient::new(
        ClientId::new(cfg.client_id.clone()),
        meta.issuer_url.clone(),
        CoreJsonWebKeySet::new(Vec::new()),
    )
    .set_auth_uri(meta.auth_url.clone())
    .set_redirect_uri(redirect_uri);
    let (state, nonce) = (CsrfToken::new(state.to_owned()), random_token());
    let nonce = Nonce::new(nonce.to_string());
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || state,
            move || nonce,
        )
        .set_pkce_challenge(pkce_challenge)
        // The crate sends `openid` itself.
        .add_scopes(
            cfg.scope_param()
                .split(' ')
                .filter(|s| *s != "openid")
                .map(|s| Scope::new(s.to_owned())),
        );
    for acr in &cfg.acr_values {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    for prompt in cfg.prompt.iter().flat_map(|p| p.split_whitespace()) {
        let prompt: CoreAuthPrompt = serde_json::from_value(Value::String(prompt.into()))
            .map_err(|e| SignInError::Config(format!("`prompt`: {e}")))?;
        request = request.add_prompt(prompt);
    }
    if let Some(max_age) = cfg.max_age {
        request = request.set_max_age(Duration::from_secs(max_age));
    }
    for locale in &cfg.ui_locales {
        request = request.add_ui_locale(LanguageTag::new(locale.clone()));
    }
    for locale in &cfg.claims_locales {
        request = request.add_claims_locale(LanguageTag::new(locale.clone()));
    }
    if let Some(claims) = &cfg.claims {
        request = request.add_extra_param("claims", claims.to_string());
    }
    if let Some(resource) = &cfg.resource {
        request = request.add_extra_param("resource", resource.clone());
    }
    let (url, _, nonce) = request.url();
    Ok((url, nonce))
}

/// Personal claims come from userinfo first (eSignet), then from the ID token (providers that
/// put them there when asked through `claims`).
fn identity(issuer: &str, id: &IdTokenClaims, userinfo: &Map<String, Value>) -> Identity {
    let claim = |name: &str| {
        userinfo
            .get(name)
            .or_else(|| id.raw.get(name))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    Identity {
        issuer: issuer.to_owned(),
        subject: id.subject.clone(),
        individual_id: claim("individual_id"),
        name: claim("name"),
        birthdate: claim("birthdate"),
        phone_number: claim("phone_number"),
        acr: id.acr.clone(),
        auth_time: id.auth_time,
    }
}

fn now_plus(expires_in: Option<u64>) -> i64 {
    let lifetime = expires_in
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX / 2))
        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
    unix_now().saturating_add(lifetime)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use openidconnect::{AuthUrl, IssuerUrl};

    use super::*;

    /// Every parameter eSignet needs reaches the URL the crate builds.
    #[test]
    fn the_authorization_request_carries_what_esignet_needs() {
        let issuer = "https://id.example.org";
        let mut cfg = SignInConfig::new(issuer, "app", TokenExchange::Direct);
        cfg.scopes = vec!["profile".into(), "openid".into()];
        cfg.acr_values = vec![
            "mosip:idp:acr:biometrics".into(),
            "mosip:idp:acr:password".into(),
        ];
        cfg.prompt = Some("login".into());
        cfg.max_age = Some(0);
        cfg.ui_locales = vec!["fr".into(), "en".into()];
        cfg.claims_locales = vec!["fr".into()];
        cfg.resource = Some("https://registry.example.org".into());
        let meta = ProviderMetadata {
            issuer: issuer.into(),
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: format!("{issuer}/token"),
            userinfo_endpoint: None,
            jwks_uri: format!("{issuer}/jwks"),
            code_challenge_methods_supported: None,
            authorization_response_iss_parameter_supported: false,
            keys: CoreJsonWebKeySet::new(Vec::new()),
            issuer_url: IssuerUrl::new(issuer.into()).unwrap(),
            auth_url: AuthUrl::new(format!("{issuer}/authorize")).unwrap(),
        };
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let redirect = "http://127.0.0.1:4711/callback";
        let (url, nonce) = authorization_request(&cfg, &meta, redirect, "st", challenge).unwrap();
        assert_eq!(url.path(), "/authorize");
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let expected_challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier)
            .as_str()
            .to_owned();
        for (name, value) in [
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", redirect),
            ("scope", "openid profile"),
            ("state", "st"),
            ("nonce", nonce.secret().as_str()),
            ("code_challenge", expected_challenge.as_str()),
            ("code_challenge_method", "S256"),
            (
                "acr_values",
                "mosip:idp:acr:biometrics mosip:idp:acr:password",
            ),
            ("prompt", "login"),
            ("max_age", "0"),
            ("ui_locales", "fr en"),
            ("claims_locales", "fr"),
            ("resource", "https://registry.example.org"),
        ] {
            assert_eq!(q.get(name).map(String::as_str), Some(value), "{name}");
        }
        assert_eq!(nonce.secret().len(), 43);
        let claims: Value = serde_json::from_str(&q["claims"]).unwrap();
        assert_eq!(claims["userinfo"]["individual_id"]["essential"], true);
    }
}
