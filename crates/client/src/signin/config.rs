//! What to ask the identity provider for, and how to redeem the code: everything that differs
//! between eSignet deployments (and other providers) is configuration, never code.

use std::time::Duration;

use serde_json::{json, Value};
use url::Url;

use super::SignInError;

/// How the authorization code is turned into tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenExchange {
    /// The app redeems the code itself as a public native client (PKCE only, no client secret).
    /// For providers that register Doorstep as a public client.
    Direct,
    /// The registry server redeems it with `private_key_jwt` (`POST /v1/auth/token-exchange`):
    /// eSignet accepts only signed client assertions, and a desktop app must not hold the
    /// client's private key, so the key stays on the server and the app sends only the code and
    /// its PKCE verifier (useless without each other).
    ViaRegistry { registry_url: Url },
}

/// One provider and one client registration.
#[derive(Debug, Clone)]
pub struct SignInConfig {
    /// The provider's issuer URL, compared exactly with the discovery document and the tokens.
    pub issuer: String,
    pub client_id: String,
    /// Path of the loopback redirect URI, e.g. `/callback` → `http://127.0.0.1:<port>/callback`.
    /// Register `http://127.0.0.1/callback` with the provider (the port is ignored, RFC 8252 §7.3).
    pub redirect_path: String,
    /// `openid` is always sent, whether listed or not.
    pub scopes: Vec<String>,
    /// The OpenID `claims` request parameter (eSignet releases `individual_id`, `name`… only when
    /// asked for here); see [`SignInConfig::esignet_claims`].
    pub claims: Option<Value>,
    /// Authentication methods asked for, best first (eSignet: `mosip:idp:acr:…`). When set, the
    /// ID token's `acr` must contain one of them.
    pub acr_values: Vec<String>,
    pub prompt: Option<String>,
    /// Maximum age in seconds of the person's authentication; when set, `auth_time` is checked.
    pub max_age: Option<u64>,
    pub ui_locales: Vec<String>,
    pub claims_locales: Vec<String>,
    /// RFC 8707 resource indicator, for providers that bind access tokens to a resource server.
    pub resource: Option<String>,
    /// Fetch the userinfo endpoint for the person's claims (eSignet puts none in the ID token).
    pub fetch_userinfo: bool,
    /// Fetch userinfo through the registry (`POST /v1/auth/userinfo`) instead of from the
    /// provider directly. Needed when the provider encrypts userinfo (an eSignet client registered
    /// with a `use: enc` key): the registry holds the decryption key, as it holds the signing
    /// key, and hands back the provider's signed JWT from inside the JWE, which the app verifies
    /// as always. Only with [`TokenExchange::ViaRegistry`]; default false.
    pub userinfo_via_registry: bool,
    pub token_exchange: TokenExchange,
    /// How long the person has to finish signing in in the browser.
    pub callback_timeout: Duration,
    /// Clock skew tolerated on the ID token's times.
    pub leeway: Duration,
}

impl SignInConfig {
    /// Defaults for an eSignet-like provider: `openid profile` scopes, the claims Doorstep needs,
    /// userinfo fetched, five minutes to sign in, one minute of clock skew.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        exchange: TokenExchange,
    ) -> Self {
        SignInConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            redirect_path: "/callback".into(),
            scopes: vec!["openid".into(), "profile".into()],
            claims: Some(Self::esignet_claims()),
            acr_values: Vec::new(),
            prompt: None,
            max_age: None,
            ui_locales: Vec::new(),
            claims_locales: Vec::new(),
            resource: None,
            fetch_userinfo: true,
            userinfo_via_registry: false,
            token_exchange: exchange,
            callback_timeout: Duration::from_secs(300),
            leeway: Duration::from_secs(60),
        }
    }

    /// The `claims` request Doorstep makes: the person's ID number, name, birth date and phone,
    /// released through userinfo (eSignet's ID token carries no personal claims).
    pub fn esignet_claims() -> Value {
        json!({
            "userinfo": {
                "individual_id": { "essential": true },
                "name": { "essential": false },
                "birthdate": { "essential": false },
                "phone_number": { "essential": false }
            },
            "id_token": {}
        })
    }

    /// Check the settings hang together; the message names the setting to fix.
    pub fn validate(&self) -> Result<(), SignInError> {
        let bad = |m: String| Err(SignInError::Config(m));
        check_url("issuer", &self.issuer)?;
        if self.client_id.trim().is_empty() {
            return bad(
                "`client_id` is empty: use the client id the provider registered for Doorstep"
                    .into(),
            );
        }
        if !self.redirect_path.starts_with('/') || self.redirect_path.contains(['?', '#']) {
            return bad(format!(
                "`redirect_path` {:?} must be a path starting with `/`, without query or fragment",
                self.redirect_path
            ));
        }
        if let Some(claims) = &self.claims {
            if !claims.is_object() {
                return bad("`claims` must be a JSON object like {\"userinfo\": {...}}".into());
            }
        }
        if self.callback_timeout.is_zero() {
            return bad("`callback_timeout` must be longer than zero".into());
        }
        match &self.token_exchange {
            TokenExchange::ViaRegistry { registry_url } => {
                check_url("registry_url", registry_url.as_str())?;
            }
            TokenExchange::Direct if self.userinfo_via_registry => {
                return bad("`userinfo_via_registry` needs the registry's token exchange (`token_exchange` ViaRegistry): only a registry that redeems the code holds the client's keys".into());
            }
            TokenExchange::Direct => {}
        }
        Ok(())
    }

    /// Where userinfo is fetched through: the registry's base URL, or `None` for the provider
    /// directly.
    pub(crate) fn userinfo_registry(&self) -> Option<&Url> {
        match &self.token_exchange {
            TokenExchange::ViaRegistry { registry_url } if self.userinfo_via_registry => {
                Some(registry_url)
            }
            _ => None,
        }
    }

    /// The scopes as sent: `openid` first, no duplicates.
    pub(crate) fn scope_param(&self) -> String {
        let mut scopes = vec!["openid"];
        for s in &self.scopes {
            if !scopes.contains(&s.as_str()) {
                scopes.push(s);
            }
        }
        scopes.join(" ")
    }
}

/// Provider URLs must be https, except on loopback (tests and local development): sign-in over
/// plain HTTP would hand codes and tokens to anyone on the network path.
pub(crate) fn check_url(name: &str, value: &str) -> Result<Url, SignInError> {
    let url = Url::parse(value)
        .map_err(|e| SignInError::Config(format!("`{name}` {value:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(SignInError::Config(format!(
            "`{name}` {value:?} must use https (plain http is accepted only on loopback)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_always_starts_with_openid() {
        let mut c = SignInConfig::new("https://id.example.org", "app", TokenExchange::Direct);
        c.scopes = vec!["profile".into(), "openid".into(), "phone".into()];
        assert_eq!(c.scope_param(), "openid profile phone");
        c.validate().unwrap();
    }

    #[test]
    fn userinfo_via_registry_needs_the_registry_exchange() {
        let mut c = SignInConfig::new("https://id.example.org", "app", TokenExchange::Direct);
        c.userinfo_via_registry = true;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("userinfo_via_registry"), "{err}");
        let registry = Url::parse("https://registry.example.org/").unwrap();
        c.token_exchange = TokenExchange::ViaRegistry {
            registry_url: registry.clone(),
        };
        c.validate().unwrap();
        assert_eq!(c.userinfo_registry(), Some(&registry));
        c.userinfo_via_registry = false;
        assert_eq!(c.userinfo_registry(), None);
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let c = SignInConfig::new("http://id.example.org", "app", TokenExchange::Direct);
        assert!(c.validate().unwrap_err().to_string().contains("https"));
        SignInConfig::new("http://127.0.0.1:9000", "app", TokenExchange::Direct)
            .validate()
            .unwrap();
    }
}
