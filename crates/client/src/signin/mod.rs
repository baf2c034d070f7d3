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

mod browser;
mod config;
mod discovery;
mod error;
mod jwks;
mod loopback;
mod random;
mod session;
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
pub(crate) use random::random_token;
use random::Pkce;
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
        let keys = JwksCache::new(http.clone(), metadata.jwks_uri.clone());
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
        let nonce = random_token();
        let pkce = Pkce::new();
        let mut listener = CallbackListener::bind(&cfg.redirect_path, state.clone()).await?;
        let redirect_uri = listener.redirect_uri().to_string();
        let requested_at = unix_now();

        let mut url = self.metadata.authorization_url()?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &cfg.client_id)
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("scope", &cfg.scope_param())
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(claims) = &cfg.claims {
                q.append_pair("claims", &claims.to_string());
            }
            let joined = |v: &[String]| (!v.is_empty()).then(|| v.join(" "));
            for (name, value) in [
                ("acr_values", joined(&cfg.acr_values)),
                ("prompt", cfg.prompt.clone()),
                ("max_age", cfg.max_age.map(|m| m.to_string())),
                ("ui_locales", joined(&cfg.ui_locales)),
                ("claims_locales", joined(&cfg.claims_locales)),
                ("resource", cfg.resource.clone()),
            ] {
                if let Some(value) = value {
                    q.append_pair(name, &value);
                }
            }
        }
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
            verifier: &pkce.verifier,
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
                nonce: &nonce,
                acr_values: &cfg.acr_values,
                max_age: cfg.max_age,
                requested_at,
                now: unix_now(),
                leeway,
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
