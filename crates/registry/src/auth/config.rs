//! The `[auth]` section of the registry's config file.

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::principal::{ClaimNames, Role};
use super::roles::IssuerPolicy;

/// The shortest `jwks_cache_seconds` accepted.
pub const MIN_JWKS_CACHE_SECONDS: u64 = 30;

/// How bearer tokens are checked. Every key is optional; without an issuer only `--dev-auth`
/// tokens (if enabled) are accepted.
///
/// Several identity providers may be trusted at once, each for what it may grant: citizens
/// through eSignet, staff through the ministry's own provider. A token is matched to its issuer
/// by `iss`, exactly; a token from any other issuer is refused (401). A caller's role is then,
/// in this order (see `roles.rs`): their live entry in the staff directory (by subject, or by an
/// e-mail the provider marks `email_verified`), if the issuer `grants` that role; else the
/// token's role claim, only where the issuer has `trust_role_claim`; else citizen, where the
/// issuer grants citizen and `default_role_citizen` is on; else 403.
///
/// The single-issuer keys describe one issuer, as before, and keep their behaviour: trusted for
/// its role claim and granting every role, unless `trust_role_claim` / `grants` say otherwise.
///
/// ```toml
/// [auth]
/// issuer = "https://esignet.example.org/v1/esignet"
/// audience = "doorstep-registry"      # the client id the tokens are issued for
/// # jwks_url = "..."                  # default: jwks_uri from the issuer's discovery document
/// # role_claim = "roles"              # string or array; a dotted path finds nested claims
/// # area_claim = "area"
/// # individual_id_claim = "individual_id"
/// # email_claim = "email"             # matched with the directory only when email_verified
/// # individual_id_type = "national_id"   # the ID type of the number in individual_id_claim
/// # allowed_algs = ["RS256", "PS256", "ES256"]
/// # leeway_seconds = 60
/// # jwks_cache_seconds = 600
/// # default_role_citizen = true       # tokens without a role claim are citizens (eSignet)
/// # trust_role_claim = true           # this single issuer only; false ignores its role claim
/// # grants = ["citizen", "agent", "staff", "admin"]   # this single issuer only
///
/// # More issuers (or all of them, without the single-issuer keys above):
/// [[auth.issuers]]
/// issuer = "https://esignet.example.org/v1/esignet"
/// audience = "doorstep-registry"
/// # grants = ["citizen"]              # default: citizens only
/// # trust_role_claim = false          # default: a role claim from this issuer is ignored
///
/// [[auth.issuers]]
/// issuer = "https://keycloak.ministry.example/realms/staff"
/// audience = "doorstep-registry"
/// grants = ["agent", "staff", "admin"]  # roles come from the staff directory
/// # jwks_url, role_claim, area_claim, individual_id_claim, email_claim, default_role_citizen
/// # as above; allowed_algs, leeway_seconds, jwks_cache_seconds and individual_id_type are shared
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
    /// The claim holding the person's e-mail address (matched with the staff directory only
    /// when the token's `email_verified` is `true`).
    pub email_claim: String,
    /// Whether the single issuer's role claim is believed (default: yes, as before issuers
    /// could be listed).
    pub trust_role_claim: Option<bool>,
    /// The roles the single issuer's identities may hold at most (default: every role).
    pub grants: Option<Vec<String>>,
    /// Further trusted issuers, each with its own policy (`[[auth.issuers]]`).
    pub issuers: Vec<IssuerConfig>,
}

/// One `[[auth.issuers]]` entry: a trusted identity provider and what it may grant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    pub issuer: String,
    pub audience: String,
    #[serde(default)]
    pub jwks_url: Option<String>,
    #[serde(default = "defaults::role_claim")]
    pub role_claim: String,
    #[serde(default = "defaults::area_claim")]
    pub area_claim: String,
    #[serde(default = "defaults::individual_id_claim")]
    pub individual_id_claim: String,
    #[serde(default = "defaults::email_claim")]
    pub email_claim: String,
    /// Believe this issuer's role claim. Off by default: a national ID provider vouches for who
    /// someone is, not for what they may do in the registry.
    #[serde(default)]
    pub trust_role_claim: bool,
    /// The roles this issuer's identities may hold at most, from the directory or a trusted
    /// claim. Default: citizens only.
    #[serde(default = "defaults::grants")]
    pub grants: Vec<String>,
    #[serde(default = "defaults::yes")]
    pub default_role_citizen: bool,
}

mod defaults {
    pub fn role_claim() -> String {
        "roles".into()
    }
    pub fn area_claim() -> String {
        "area".into()
    }
    pub fn individual_id_claim() -> String {
        "individual_id".into()
    }
    pub fn email_claim() -> String {
        "email".into()
    }
    pub fn grants() -> Vec<String> {
        vec!["citizen".into()]
    }
    pub fn yes() -> bool {
        true
    }
}

/// A trusted issuer with everything needed to check its tokens and give their roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    pub names: ClaimNames,
    pub policy: IssuerPolicy,
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
            email_claim: defaults::email_claim(),
            trust_role_claim: None,
            grants: None,
            issuers: Vec::new(),
        }
    }
}

impl AuthConfig {
    /// Check the settings hang together; the message names the key to fix.
    pub fn validate(&self) -> Result<(), String> {
        self.issuer_settings().map(|_| ())
    }

    /// Every trusted issuer: the single-issuer keys first (if `issuer` is set), then
    /// `[[auth.issuers]]`, checked; the message names the key to fix.
    pub(crate) fn issuer_settings(&self) -> Result<Vec<IssuerSettings>, String> {
        self.validate_single()?;
        let mut all = Vec::new();
        if let (Some(issuer), Some(audience)) = (&self.issuer, &self.audience) {
            let grants = match &self.grants {
                Some(names) => parse_grants("grants", names)?,
                None => Role::ALL.to_vec(),
            };
            all.push(IssuerSettings {
                issuer: issuer.clone(),
                audience: audience.clone(),
                jwks_url: self.jwks_url.clone(),
                names: self.claim_names(),
                policy: IssuerPolicy {
                    trust_role_claim: self.trust_role_claim.unwrap_or(true),
                    grants,
                    default_role_citizen: self.default_role_citizen,
                },
            });
        }
        for (i, entry) in self.issuers.iter().enumerate() {
            let at = |key: &str| format!("[[auth.issuers]] #{} `{key}`", i + 1);
            check_url(
                &format!("[[auth.issuers]] #{} issuer", i + 1),
                &entry.issuer,
            )?;
            if entry.audience.trim().is_empty() {
                return Err(format!("{} must not be empty: use the client id the provider issues the registry's tokens for", at("audience")));
            }
            if let Some(jwks) = &entry.jwks_url {
                check_url(&format!("[[auth.issuers]] #{} jwks_url", i + 1), jwks)?;
            }
            for (key, value) in [
                ("role_claim", &entry.role_claim),
                ("area_claim", &entry.area_claim),
                ("individual_id_claim", &entry.individual_id_claim),
                ("email_claim", &entry.email_claim),
            ] {
                if value.trim().is_empty() {
                    return Err(format!("{} must not be empty", at(key)));
                }
            }
            if all
                .iter()
                .any(|s: &IssuerSettings| s.issuer == entry.issuer)
            {
                return Err(format!(
                    "{} = {:?} is trusted twice: list each issuer once (the single-issuer `[auth] issuer` counts as one)",
                    at("issuer"),
                    entry.issuer
                ));
            }
            all.push(IssuerSettings {
                issuer: entry.issuer.clone(),
                audience: entry.audience.clone(),
                jwks_url: entry.jwks_url.clone(),
                names: ClaimNames {
                    role: entry.role_claim.clone(),
                    area: entry.area_claim.clone(),
                    individual_id: entry.individual_id_claim.clone(),
                    email: entry.email_claim.clone(),
                },
                policy: IssuerPolicy {
                    trust_role_claim: entry.trust_role_claim,
                    grants: parse_grants(&at("grants"), &entry.grants)?,
                    default_role_citizen: entry.default_role_citizen,
                },
            });
        }
        Ok(all)
    }

    /// The single-issuer keys and the shared ones.
    fn validate_single(&self) -> Result<(), String> {
        self.algorithms()?;
        if self.issuer.is_none() && (self.trust_role_claim.is_some() || self.grants.is_some()) {
            return Err("`trust_role_claim` and `grants` under [auth] describe the single `issuer`, which is not set: put them in its [[auth.issuers]] entry".into());
        }
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
            ("email_claim", &self.email_claim),
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
            email: self.email_claim.clone(),
        }
    }
}

/// `grants` as roles: at least one, each a role this registry knows.
fn parse_grants(key: &str, names: &[String]) -> Result<Vec<Role>, String> {
    if names.is_empty() {
        return Err(format!(
            "{key} is empty: list the roles this issuer's identities may hold, e.g. [\"citizen\"] or [\"agent\", \"staff\", \"admin\"]"
        ));
    }
    let mut roles = Vec::new();
    for name in names {
        let role = Role::parse(name).ok_or_else(|| {
            format!("{key} lists `{name}`, which is not a role: use citizen, agent, staff or admin")
        })?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
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
    fn the_single_issuer_keeps_trusting_its_role_claim_and_granting_every_role() {
        let cfg = parse("issuer = \"https://id.example.org\"\naudience = \"reg\"\n").unwrap();
        let all = cfg.issuer_settings().unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].policy.trust_role_claim);
        assert_eq!(all[0].policy.grants, Role::ALL.to_vec());
    }

    #[test]
    fn listed_issuers_trust_no_role_claim_and_grant_citizens_by_default() {
        let cfg = parse(
            "[[issuers]]\nissuer = \"https://esignet.example.org\"\naudience = \"reg\"\n\n\
             [[issuers]]\nissuer = \"https://kc.example.org/realms/staff\"\naudience = \"reg\"\n\
             grants = [\"agent\", \"Staff\", \"admin\"]\ntrust_role_claim = true\nrole_claim = \"realm_access.roles\"\n",
        )
        .unwrap();
        let all = cfg.issuer_settings().unwrap();
        assert_eq!(all.len(), 2);
        assert!(!all[0].policy.trust_role_claim);
        assert_eq!(all[0].policy.grants, [Role::Citizen]);
        assert_eq!(
            all[1].policy.grants,
            [Role::Agent, Role::Staff, Role::Admin]
        );
        assert_eq!(all[1].names.role, "realm_access.roles");
        assert_eq!(all[1].names.email, "email");
    }

    #[test]
    fn issuer_list_errors_name_the_entry_and_the_key() {
        let bad = |text: &str| parse(text).unwrap().validate().unwrap_err();
        let one = "[[issuers]]\nissuer = \"https://a.example.org\"\naudience = \"reg\"\n";
        assert!(
            bad(&format!("{one}grants = [\"wizard\"]\n")).contains("#1 `grants` lists `wizard`")
        );
        assert!(bad(&format!("{one}grants = []\n")).contains("#1 `grants` is empty"));
        let twice = bad(&format!(
            "issuer = \"https://a.example.org\"\naudience = \"r\"\n{one}"
        ));
        assert!(twice.contains("trusted twice"), "{twice}");
        assert!(
            bad("[[issuers]]\nissuer = \"http://a.example.org\"\naudience = \"r\"\n")
                .contains("#1 issuer")
        );
        assert!(bad("grants = [\"citizen\"]\n").contains("[[auth.issuers]]"));
        assert!(
            parse("[[issuers]]\nissuer = \"https://a.example.org\"\n").is_err(),
            "audience is required"
        );
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
