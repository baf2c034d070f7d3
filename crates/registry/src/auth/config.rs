//! The `[auth]` section of the registry's config file.

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::principal::ClaimNames;

/// The shortest `jwks_cache_seconds` accepted.
pub const MIN_JWKS_CACHE_SECONDS: u64 = 30;

/// How bearer tokens are checked. Every key is optional; without `issuer` only `--dev-auth`
/// tokens (if enabled) are accepted.
///
/// ```toml
/// [auth]
/// issuer = "https://esignet.example.org/v1/esignet"
/// audience = "doorstep-registry"      # the client id the tokens are issued for
/// # jwks_url = "..."                  # default: jwks_uri from the issuer's discovery document
/// # role_claim = "roles"              # string or array; a dotted path finds nested claims
/// # area_claim = "area"
/// # individual_id_claim = "individual_id"
/// # individual_id_type = "national_id"   # the ID type of the number in individual_id_claim
/// # allowed_algs = ["RS256", "PS256", "ES256"]
/// # leeway_seconds = 60
/// # jwks_cache_seconds = 600
/// # default_role_citizen = true       # tokens without a role claim are citizens (eSignet)
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The identity provider's issuer URL, compared exactly with the tokens' `iss`.
    pub issuer: Option<String>,
    /// What the tokens' `aud` must contain; required with `issuer`, so a token minted for another
    /// service of the same provider is never accepted here.
    pub audience: Option<String>,
    /// Where the provider's signing keys are published; discovered from
    /// `<issuer>/.well-known/openid-configuration` when unset.
    pub jwks_url: Option<String>,
    pub role_claim: String,
    pub area_claim: String,
    pub individual_id_claim: String,
    /// The ID type (an `id_types` code) of the number the provider vouches for in
    /// `individual_id_claim`. A citizen's sign-in is linked to the record holding an ID of this
    /// type with that number, never to a record holding the number under another type.
    pub individual_id_type: String,
    /// Signature algorithms accepted. Symmetric (HS*) and `none` are never accepted.
    pub allowed_algs: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_seconds: u64,
    /// How long fetched signing keys are trusted before they are fetched again.
    pub jwks_cache_seconds: u64,
    /// Treat a token without a role claim as a citizen (eSignet tokens carry none).
    pub default_role_citizen: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: None,
            audience: None,
            jwks_url: None,
            role_claim: "roles".into(),
            area_claim: "area".into(),
            individual_id_claim: "individual_id".into(),
            individual_id_type: "national_id".into(),
            allowed_algs: vec!["RS256".into(), "PS256".into(), "ES256".into()],
            leeway_seconds: 60,
            jwks_cache_seconds: 600,
            default_role_citizen: true,
        }
    }
}

impl AuthConfig {
    /// Check the settings hang together; the message names the key to fix.
    pub fn validate(&self) -> Result<(), String> {
        self.algorithms()?;
        match (&self.issuer, &self.audience) {
            (Some(_), None) => {
                return Err("`audience` is required when `issuer` is set: use the client id the provider issues the registry's tokens for".into())
            }
            (None, Some(_)) => return Err("`audience` is set but `issuer` is not".into()),
            (None, None) if self.jwks_url.is_some() => {
                return Err("`jwks_url` is set but `issuer` is not".into())
            }
            _ => {}
        }
        if let Some(issuer) = &self.issuer {
            check_url("issuer", issuer)?;
        }
        if let Some(jwks) = &self.jwks_url {
            check_url("jwks_url", jwks)?;
        }
        if self.jwks_cache_seconds < MIN_JWKS_CACHE_SECONDS {
            return Err(format!(
                "`jwks_cache_seconds` must be at least {MIN_JWKS_CACHE_SECONDS}: a shorter cache fetches the provider's keys on almost every request"
            ));
        }
        for (key, value) in [
            ("role_claim", &self.role_claim),
            ("area_claim", &self.area_claim),
            ("individual_id_claim", &self.individual_id_claim),
            ("individual_id_type", &self.individual_id_type),
        ] {
            if value.trim().is_empty() {
                return Err(format!("`{key}` must not be empty"));
            }
        }
        Ok(())
    }

    /// `allowed_algs` parsed. Only asymmetric algorithms may be listed: with HS* a public key
    /// (which anyone can fetch) could be used as the HMAC secret to forge tokens.
    pub(crate) fn algorithms(&self) -> Result<Vec<Algorithm>, String> {
        if self.allowed_algs.is_empty() {
            return Err("`allowed_algs` must list at least one algorithm".into());
        }
        self.allowed_algs
            .iter()
            .map(|name| match name.parse::<Algorithm>() {
                Ok(Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) => Err(format!(
                    "`allowed_algs` lists `{name}`: symmetric algorithms are never accepted"
                )),
                Ok(alg) => Ok(alg),
                Err(_) => Err(format!(
                    "`allowed_algs` lists `{name}`, which is not a supported signature algorithm (RS256/384/512, PS256/384/512, ES256/384, EdDSA)"
                )),
            })
            .collect()
    }

    pub(crate) fn claim_names(&self) -> ClaimNames {
        ClaimNames {
            role: self.role_claim.clone(),
            area: self.area_claim.clone(),
            individual_id: self.individual_id_claim.clone(),
            default_role_citizen: self.default_role_citizen,
        }
    }
}

/// Keys are fetched from these URLs, so they must be HTTPS: over plain HTTP anyone on the path
/// could substitute their own keys. Loopback is exempt for local providers and tests.
pub(crate) fn check_url(key: &str, value: &str) -> Result<(), String> {
    let url =
        url::Url::parse(value).map_err(|e| format!("`{key}` = {value:?} is not a URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "`{key}` = {value:?} must be an https:// URL (plain http is only allowed on loopback)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AuthConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn empty_section_gives_the_defaults() {
        let cfg = parse("").unwrap();
        assert_eq!(cfg, AuthConfig::default());
        assert_eq!(cfg.role_claim, "roles");
        assert_eq!(cfg.allowed_algs, ["RS256", "PS256", "ES256"]);
        assert_eq!(cfg.leeway_seconds, 60);
        assert_eq!(cfg.jwks_cache_seconds, 600);
        assert!(cfg.default_role_citizen);
        cfg.validate().unwrap();
    }

    #[test]
    fn keys_override_defaults() {
        let cfg = parse(
            "issuer = \"https://id.example.org\"\naudience = \"reg\"\nrole_claim = \"realm_access.roles\"\nallowed_algs = [\"ES256\"]\nleeway_seconds = 5\ndefault_role_citizen = false\n",
        )
        .unwrap();
        assert_eq!(cfg.issuer.as_deref(), Some("https://id.example.org"));
        assert_eq!(cfg.role_claim, "realm_access.roles");
        assert_eq!(cfg.area_claim, "area", "unset keys keep their default");
        assert_eq!(cfg.algorithms().unwrap(), [Algorithm::ES256]);
        assert!(!cfg.default_role_citizen);
        cfg.validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = parse("isuer = \"https://id.example.org\"\n").unwrap_err();
        assert!(err.to_string().contains("isuer"), "{err}");
    }

    #[test]
    fn jwks_cache_cannot_be_shorter_than_the_refetch_interval() {
        let cfg = parse("jwks_cache_seconds = 0\n").unwrap();
        assert!(cfg.validate().unwrap_err().contains("jwks_cache_seconds"));
    }

    #[test]
    fn issuer_needs_an_audience() {
        let cfg = parse("issuer = \"https://id.example.org\"\n").unwrap();
        assert!(cfg.validate().unwrap_err().contains("audience"));
    }

    #[test]
    fn symmetric_and_unknown_algorithms_are_refused() {
        for alg in ["HS256", "none", "XS1"] {
            let cfg = AuthConfig {
                allowed_algs: vec!["RS256".into(), alg.into()],
                ..AuthConfig::default()
            };
            let err = cfg.validate().unwrap_err();
            assert!(err.contains(alg), "{err}");
        }
    }

    #[test]
    fn provider_urls_must_be_https_except_on_loopback() {
        let with = |issuer: &str| AuthConfig {
            issuer: Some(issuer.into()),
            audience: Some("reg".into()),
            ..AuthConfig::default()
        };
        assert!(with("http://id.example.org")
            .validate()
            .unwrap_err()
            .contains("https"));
        with("http://127.0.0.1:8080/realms/x").validate().unwrap();
        with("http://localhost:8080").validate().unwrap();
        with("https://id.example.org").validate().unwrap();
    }
}
