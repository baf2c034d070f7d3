//! Liveness through the identity provider: a step-up authentication the registry verifies.
//!
//! The app asks for a challenge (`POST /v1/liveness/challenges`: a nonce bound to one registrant
//! and to the caller, single use, a few minutes long), signs the person in again at the provider
//! with the challenge's nonce, the configured `acr_values`, `prompt=login` and `max_age=0`, and
//! sends the proof (`POST /v1/liveness/challenges/{id}/proof`): the ID token it redeemed, or the
//! code for the registry to redeem with its own client (`[signin]`, eSignet). The registry, never
//! the app, decides: the ID token's signature (the provider's keys, as for bearer tokens),
//! issuer, audience (the app's client id), expiry, the nonce, the `acr`, the `auth_time` and the
//! person ([`rules`]); only then is a passed `LivenessCheck` written through the one write
//! pipeline, so sync brings it to the person's devices.
//!
//! Map: [`LivenessConfig`] (the `[liveness]` section), [`rules`] (the checks on the claims, pure),
//! [`schedule`] (a passed check's due day and last day of grace, from the person's programmes),
//! `api/liveness.rs` (the two routes), the challenges in the `liveness_challenges` table.

pub mod rules;
pub mod schedule;

use serde::Deserialize;

/// eSignet's strongest authentication: the person's face or fingerprint.
pub const ESIGNET_BIOMETRICS: &str = "mosip:idp:acr:biometrics";

/// The `[liveness]` section. Without a provider listed, no check can be started (503 saying so).
///
/// ```toml
/// [liveness]
/// # challenge_seconds = 600          # how long the person has to authenticate
/// # auth_time_skew_seconds = 60      # clock skew allowed on auth_time
///
/// [[liveness.providers]]
/// issuer = "https://esignet.example.org/v1/esignet"   # one of the [auth] issuers
/// client_id = "doorstep"              # the app's client id there: the ID token's audience
/// # code = "esignet"                  # recorded as the check's provider
/// # acr_values = ["mosip:idp:acr:biometrics"]   # any one of them passes
/// # fresh_login_only = false          # true: no acr asked or checked, only a fresh auth_time
/// # proof = "id_token"                # or "code": the registry redeems with [signin]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LivenessConfig {
    pub challenge_seconds: u64,
    pub auth_time_skew_seconds: u64,
    pub providers: Vec<LivenessProvider>,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        LivenessConfig {
            challenge_seconds: 600,
            auth_time_skew_seconds: 60,
            providers: Vec::new(),
        }
    }
}

/// One provider liveness checks are done at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessProvider {
    pub issuer: String,
    pub client_id: String,
    #[serde(default = "default_code")]
    pub code: String,
    #[serde(default = "default_acr_values")]
    pub acr_values: Vec<String>,
    /// For providers without authentication context classes: require only that the person
    /// authenticated after the check started (`prompt=login`, `max_age=0`).
    #[serde(default)]
    pub fresh_login_only: bool,
    #[serde(default)]
    pub proof: ProofMode,
}

/// How the registry gets the ID token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofMode {
    /// The app redeems the code (a public client) and sends the ID token.
    #[default]
    IdToken,
    /// The app sends the code; the registry redeems it with its `[signin]` client.
    Code,
}

fn default_code() -> String {
    "esignet".into()
}

fn default_acr_values() -> Vec<String> {
    vec![ESIGNET_BIOMETRICS.into()]
}

impl LivenessConfig {
    /// Check the settings against the trusted issuers; the message names the key to fix.
    pub fn validate(&self, trusted: &[String], signin_issuer: Option<&str>) -> Result<(), String> {
        if !(60..=3600).contains(&self.challenge_seconds) {
            return Err("`liveness.challenge_seconds` must be between 60 and 3600".into());
        }
        if self.auth_time_skew_seconds > 300 {
            return Err("`liveness.auth_time_skew_seconds` must be at most 300: a larger skew lets an earlier sign-in count as the check".into());
        }
        for (i, p) in self.providers.iter().enumerate() {
            let at = |key: &str| format!("[[liveness.providers]] #{} `{key}`", i + 1);
            if !trusted.contains(&p.issuer) {
                return Err(format!(
                    "{} = {:?} is not a trusted [auth] issuer: the registry verifies the ID token with that issuer's keys",
                    at("issuer"),
                    p.issuer
                ));
            }
            if p.client_id.trim().is_empty() {
                return Err(format!(
                    "{} must be the app's client id at the provider",
                    at("client_id")
                ));
            }
            if p.code.is_empty()
                || !p
                    .code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            {
                return Err(format!(
                    "{} must be a lower-case code such as `esignet`",
                    at("code")
                ));
            }
            if p.acr_values.is_empty() && !p.fresh_login_only {
                return Err(format!(
                    "{} is empty: list the acceptable values, or set `fresh_login_only = true` for a provider without them",
                    at("acr_values")
                ));
            }
            if p.proof == ProofMode::Code && signin_issuer != Some(p.issuer.as_str()) {
                return Err(format!(
                    "{} = \"code\" needs a [signin] section for the same issuer: the registry redeems the code with that client",
                    at("proof")
                ));
            }
            if self.providers[..i].iter().any(|q| q.issuer == p.issuer) {
                return Err(format!("{} is listed twice", at("issuer")));
            }
        }
        Ok(())
    }

    /// The provider a check is done at: the caller's own issuer if listed, else the first.
    pub fn provider_for(&self, issuer: &str) -> Option<&LivenessProvider> {
        self.providers
            .iter()
            .find(|p| p.issuer == issuer)
            .or(self.providers.first())
    }

    pub fn provider(&self, issuer: &str) -> Option<&LivenessProvider> {
        self.providers.iter().find(|p| p.issuer == issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> LivenessConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_ask_esignet_for_biometrics() {
        let cfg =
            parse("[[providers]]\nissuer = \"https://id.example.org\"\nclient_id = \"app\"\n");
        let p = &cfg.providers[0];
        assert_eq!(p.acr_values, [ESIGNET_BIOMETRICS]);
        assert_eq!(p.code, "esignet");
        assert_eq!(p.proof, ProofMode::IdToken);
        assert!(!p.fresh_login_only);
        assert_eq!(cfg.challenge_seconds, 600);
        cfg.validate(&["https://id.example.org".into()], None)
            .unwrap();
    }

    #[test]
    fn bad_settings_name_their_key() {
        let one = "[[providers]]\nissuer = \"https://id.example.org\"\nclient_id = \"app\"\n";
        let trusted = ["https://id.example.org".to_string()];
        let err = |text: &str| parse(text).validate(&trusted, None).unwrap_err();
        assert!(
            err("[[providers]]\nissuer = \"https://other.example.org\"\nclient_id = \"a\"\n")
                .contains("not a trusted [auth] issuer")
        );
        assert!(err(&format!("{one}acr_values = []\n")).contains("fresh_login_only"));
        assert!(err(&format!("{one}proof = \"code\"\n")).contains("[signin]"));
        assert!(err(&format!("{one}code = \"eSignet\"\n")).contains("`code`"));
        assert!(err(&format!("challenge_seconds = 5\n{one}")).contains("challenge_seconds"));
        assert!(err(&format!("{one}{one}")).contains("twice"));
        parse(&format!("{one}acr_values = []\nfresh_login_only = true\n"))
            .validate(&trusted, None)
            .unwrap();
        parse(&format!("{one}proof = \"code\"\n"))
            .validate(&trusted, Some("https://id.example.org"))
            .unwrap();
    }
}
