//! The liveness step-up (issue 18): the person signs in again at the provider, now, with the
//! authentication the registry asks for, and the registry — not the app — verifies the answer.
//!
//! The authorization request is a sign-in's (the `openidconnect` crate's: PKCE S256, a new
//! `state`) with the registry's challenge in it: its `nonce`, its `acr_values`, `prompt=login`
//! and `max_age=0` so no earlier session counts, the person's `ui_locales`. The app does not
//! verify the result itself beyond the callback's `state` and `iss`: it hands the proof on —
//! the ID token it redeemed (a public client), or the code, verifier and redirect URI for the
//! registry to redeem with its own client (eSignet) — and the registry decides.

use doorstep_domain::api::{LivenessChallenge, LivenessProof, LivenessProofKind};
use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet};
use openidconnect::{
    AuthenticationContextClass, ClientId, CsrfToken, LanguageTag, Nonce, PkceCodeChallenge,
    RedirectUrl, Scope,
};
use serde_json::json;

use super::loopback::CallbackListener;
use super::token::{self, Redeem};
use super::{random_token, SignIn, SignInError, TokenError, TokenExchange};

impl SignIn {
    /// Run the step-up for `challenge` through `browser` and return the proof to send to the
    /// registry. `ui_locales`: the person's languages, best first.
    pub async fn step_up(
        &self,
        browser: &dyn super::BrowserOpener,
        challenge: &LivenessChallenge,
        ui_locales: &[String],
    ) -> Result<LivenessProof, SignInError> {
        let cfg = &self.config;
        if challenge.issuer != self.metadata.issuer {
            return Err(SignInError::Config(format!(
                "the registry asks for a liveness check at {}, but this app signs in at {}",
                challenge.issuer, self.metadata.issuer
            )));
        }
        let state = random_token();
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut listener = CallbackListener::bind(&cfg.redirect_path, state.clone()).await?;
        let redirect_uri = listener.redirect_uri().to_string();
        let url = step_up_request(
            &cfg.client_id,
            &self.metadata,
            &redirect_uri,
            &state,
            pkce_challenge,
            challenge,
            ui_locales,
        )?;
        browser.open(&url).map_err(SignInError::Browser)?;
        let callback = listener.wait(cfg.callback_timeout).await?;
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
        let proof = match challenge.proof {
            LivenessProofKind::Code => LivenessProof {
                code: Some((*callback.code).clone()),
                code_verifier: Some(pkce_verifier.secret().clone()),
                redirect_uri: Some(redirect_uri),
                ..LivenessProof::default()
            },
            LivenessProofKind::IdToken => {
                let redeem = Redeem {
                    code: &callback.code,
                    verifier: pkce_verifier.secret(),
                    redirect_uri: &redirect_uri,
                    client_id: &cfg.client_id,
                    resource: None,
                };
                let tokens = match &cfg.token_exchange {
                    TokenExchange::Direct => {
                        token::redeem_direct(&self.http, &self.metadata, &redeem).await?
                    }
                    TokenExchange::ViaRegistry { registry_url } => {
                        token::redeem_via_registry(&self.http, registry_url, &redeem).await?
                    }
                };
                let id_token = tokens.id_token.ok_or_else(|| {
                    SignInError::IdToken(TokenError::Malformed(
                        "the token response has no id_token".into(),
                    ))
                })?;
                LivenessProof {
                    id_token: Some(id_token),
                    ..LivenessProof::default()
                }
            }
        };
        drop(listener);
        Ok(proof)
    }
}

/// The step-up's authorization request: the challenge's nonce and acr values, a fresh login
/// (`prompt=login`, `max_age`), the person's ID number asked for in the ID token (providers
/// that release it there; the registry also knows people by their linked sign-in).
fn step_up_request(
    client_id: &str,
    meta: &super::ProviderMetadata,
    redirect_uri: &str,
    state: &str,
    pkce_challenge: PkceCodeChallenge,
    challenge: &LivenessChallenge,
    ui_locales: &[String],
) -> Result<url::Url, SignInError> {
    let redirect_uri = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| SignInError::Config(format!("redirect URI: {e}")))?;
    let client = CoreClient::new(
        ClientId::new(client_id.to_owned()),
        meta.issuer_url.clone(),
        CoreJsonWebKeySet::new(Vec::new()),
    )
    .set_auth_uri(meta.auth_url.clone())
    .set_redirect_uri(redirect_uri);
    let state = CsrfToken::new(state.to_owned());
    let nonce = Nonce::new(challenge.nonce.clone());
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || state,
            move || nonce,
        )
        .set_pkce_challenge(pkce_challenge)
        .add_scope(Scope::new("profile".into()))
        .add_prompt(CoreAuthPrompt::Login)
        .set_max_age(std::time::Duration::from_secs(challenge.max_age));
    for acr in &challenge.acr_values {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    for locale in ui_locales {
        request = request.add_ui_locale(LanguageTag::new(locale.clone()));
    }
    // `auth_time` asked for by name too: a provider adds it on its own only with `max_age`.
    let claims = json!({
        "id_token": { "individual_id": { "essential": true }, "auth_time": { "essential": true } }
    });
    request = request.add_extra_param("claims", claims.to_string());
    let (url, _, _) = request.url();
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use openidconnect::{AuthUrl, IssuerUrl};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_request_carries_the_challenge_and_asks_for_a_fresh_login() {
        let issuer = "https://id.example.org";
        let meta = super::super::ProviderMetadata {
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
        let challenge = LivenessChallenge {
            id: Uuid::now_v7(),
            nonce: "challenge-nonce".into(),
            individual_id: Uuid::now_v7(),
            issuer: issuer.into(),
            acr_values: vec!["mosip:idp:acr:biometrics".into()],
            max_age: 0,
            proof: LivenessProofKind::IdToken,
            not_before: "2026-01-01T00:00:00Z".into(),
            expires: "2026-01-01T00:10:00Z".into(),
        };
        let (pkce, _) = PkceCodeChallenge::new_random_sha256();
        let url = step_up_request(
            "app",
            &meta,
            "http://127.0.0.1:4711/callback",
            "st",
            pkce,
            &challenge,
            &["fr".into(), "en".into()],
        )
        .unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        for (name, value) in [
            ("nonce", "challenge-nonce"),
            ("acr_values", "mosip:idp:acr:biometrics"),
            ("prompt", "login"),
            ("max_age", "0"),
            ("ui_locales", "fr en"),
            ("state", "st"),
            ("code_challenge_method", "S256"),
            ("client_id", "app"),
        ] {
            assert_eq!(q.get(name).map(String::as_str), Some(value), "{name}");
        }
        assert!(q["scope"].split(' ').any(|s| s == "openid"));
    }
}
