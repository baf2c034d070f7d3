//! Liveness through the identity provider (issue 18), against the real test provider
//! (tests/oidc-provider, issuing the acr asked for, or a weaker one for `person-1:password`) and
//! a real registry: the registry verifies each step-up and records only what passes.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::app::*;
use common::oidc::{
    redirect_uri_of, start_provider, HeadlessLogin, Provider, INDIVIDUAL_ID, PERSON, PUBLIC_CLIENT,
};
use doorstep_client::app::PendingAction;
use doorstep_client::registry::RegistryClient;
use doorstep_client::signin::{BrowserOpener, SignIn, SignInConfig, TokenExchange};
use doorstep_domain::api::{LivenessChallenge, LivenessChallengeRequest, LivenessProof};
use doorstep_registry::auth::Role;
use doorstep_registry::liveness::{
    LivenessConfig, LivenessProvider, ProofMode, ESIGNET_BIOMETRICS,
};
use doorstep_registry::server::{self, RunningServer};
use doorstep_registry::storage::DatabaseLocation;
use serde_json::{json, Value};
use url::Url;
use uuid::Uuid;

const OTHER_PERSON: &str = "person-2";
const OTHER_ID: &str = "5550001112";

/// A registry trusting the provider for sign-in and liveness (biometrics required, no clock
/// skew allowed on auth_time so a reused session is told apart within seconds).
async fn registry(provider: &Provider, data: &std::path::Path) -> RunningServer {
    registry_with(provider, data, LivenessConfig::default().challenge_seconds).await
}

async fn registry_with(
    provider: &Provider,
    data: &std::path::Path,
    challenge_seconds: u64,
) -> RunningServer {
    server::start(&liveness_config(provider, data, challenge_seconds))
        .await
        .unwrap()
}

fn liveness_config(
    provider: &Provider,
    data: &std::path::Path,
    challenge_seconds: u64,
) -> doorstep_registry::config::Config {
    let mut config = trusting_config(provider, data, &DatabaseLocation::EmbeddedSqlite);
    config.liveness = LivenessConfig {
        challenge_seconds,
        auth_time_skew_seconds: 0,
        providers: vec![LivenessProvider {
            issuer: provider.issuer.clone(),
            client_id: PUBLIC_CLIENT.into(),
            code: "esignet".into(),
            acr_values: vec![ESIGNET_BIOMETRICS.into()],
            fresh_login_only: false,
            proof: ProofMode::IdToken,
        }],
    };
    config
}

/// An individual registered by an agent of KE.30, holding `national_id`.
async fn registered(url: &str, data: &std::path::Path, given: &str, national_id: &str) -> Uuid {
    let id = Uuid::now_v7();
    let now = "2026-01-05T09:00:00Z";
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/individuals"))
        .bearer_auth(dev_token(data, Role::Agent, "seed-agent", Some("KE.30")))
        .json(&json!({
            "id": id, "created_at": now, "updated_at": now, "created_by": "agent:seed-agent",
            "given_name": given, "family_name": "Test",
            "reg_ids": [{"id_type": "national_id", "value": national_id}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    id
}

/// The app's sign-in as `./dev run` configures it: the public client, registry-bound tokens.
fn signin_config(provider: &Provider) -> SignInConfig {
    let mut config = SignInConfig::new(&provider.issuer, PUBLIC_CLIENT, TokenExchange::Direct);
    config.fetch_userinfo = false;
    config.resource = Some(provider.resource.clone());
    config.claims = Some(json!({ "id_token": { "individual_id": { "essential": true } } }));
    config.callback_timeout = Duration::from_secs(20);
    config
}

/// A "browser" with one cookie jar for all its sign-ins (so the provider's session carries
/// over), which may also change the request so the provider reuses that session: a tampered app
/// trying to pass an earlier sign-in off as a new check.
#[derive(Clone)]
struct JarBrowser {
    login_hint: &'static str,
    reuse_session: bool,
    jar: Arc<Mutex<HashMap<String, String>>>,
}

impl BrowserOpener for JarBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let mut url = url.clone();
        // Reusing the session: no `prompt=login`, and an hour's `max_age` instead of none, so
        // the provider still states `auth_time` (it always does with `max_age`).
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| !(self.reuse_session && k == "prompt"))
            .map(|(k, v)| match (self.reuse_session, k.as_str()) {
                (true, "max_age") => (k, "3600".to_owned()),
                _ => (k, v),
            })
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("login_hint", self.login_hint);
        let redirect_uri = redirect_uri_of(&url);
        let jar = self.jar.clone();
        tokio::spawn(async move {
            match follow(url, &redirect_uri, &jar).await {
                Ok(callback) => {
                    let _ = reqwest::get(callback).await;
                }
                Err(e) => eprintln!("jar browser: {e}"),
            }
        });
        Ok(())
    }
}

async fn follow(
    start: Url,
    redirect_uri: &Url,
    jar: &Mutex<HashMap<String, String>>,
) -> Result<Url, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut url = start;
    for _ in 0..20 {
        if url.path() == redirect_uri.path() && url.port() == redirect_uri.port() {
            return Ok(url);
        }
        let cookie = {
            let jar = jar.lock().unwrap();
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut request = http.get(url.clone());
        if !cookie.is_empty() {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            if let Some((name, rest)) = text.split(';').next().and_then(|p| p.split_once('=')) {
                jar.lock()
                    .unwrap()
                    .insert(name.trim().to_owned(), rest.to_owned());
            }
        }
        if !response.status().is_redirection() {
            return Err(format!(
                "the provider answered {} at {url}",
                response.status()
            ));
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or("redirect without Location")?;
        url = url.join(location).map_err(|e| e.to_string())?;
    }
    Err("too many redirects".into())
}

struct Person {
    signin: SignIn,
    registry: RegistryClient,
    token: String,
}

impl Person {
    /// person-1 signed in through the app's sign-in, talking to the registry at `url`.
    async fn sign_in(provider: &Provider, url: &str) -> Person {
        let signin = SignIn::discover(signin_config(provider)).await.unwrap();
        let session = signin.sign_in(&HeadlessLogin(PERSON)).await.unwrap();
        Person {
            signin,
            registry: RegistryClient::new(Url::parse(url).unwrap()),
            token: session.access_token().secret().to_owned(),
        }
    }

    async fn challenge(&self) -> LivenessChallenge {
        self.registry
            .liveness_challenge(&self.token, &LivenessChallengeRequest::default())
            .await
            .unwrap()
    }

    async fn proof(
        &self,
        challenge: &LivenessChallenge,
        browser: &dyn BrowserOpener,
    ) -> LivenessProof {
        self.signin
            .step_up(browser, challenge, &["en".into()])
            .await
            .unwrap()
    }

    /// The registry's verdict: the recorded check, or the refusal's reason code.
    async fn send(
        &self,
        challenge: &LivenessChallenge,
        proof: &LivenessProof,
    ) -> Result<Value, String> {
        self.registry
            .liveness_proof(&self.token, challenge.id, proof)
            .await
            .unwrap()
            .map_err(|(code, _)| code)
    }
}

async fn checks_of(url: &str, data: &std::path::Path, individual: Uuid) -> Vec<Value> {
    let page: Value = reqwest::Client::new()
        .get(format!("{url}/v1/liveness-checks"))
        .bearer_auth(dev_token(data, Role::Staff, "auditor", None))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["individual_id"] == individual.to_string())
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_registry_verifies_each_step_up_and_records_only_what_passes() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = registry(&provider, data.path()).await;
    let url = server.url();
    let me = registered(&url, data.path(), "Amina", INDIVIDUAL_ID).await;
    let person = Person::sign_in(&provider, &url).await;

    // A fresh biometric sign-in with the challenge's nonce: recorded, due again in a year.
    let first = person.challenge().await;
    assert_eq!(first.individual_id, me);
    assert_eq!(first.acr_values, [ESIGNET_BIOMETRICS]);
    let proof = person.proof(&first, &HeadlessLogin(PERSON)).await;
    let check = person.send(&first, &proof).await.unwrap();
    assert_eq!(check["outcome"], "passed");
    assert_eq!(check["acr"], ESIGNET_BIOMETRICS);
    assert_eq!(check["individual_id"], me.to_string());
    assert_eq!(check["provider"], "esignet");
    assert!(check.get("assisted_by").is_none(), "{check}");
    let performed = time::OffsetDateTime::parse(
        check["performed_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        check["next_due"],
        doorstep_domain::date_format::format(
            doorstep_domain::liveness::next_due_date(performed, 365).unwrap()
        )
    );

    // The same token again, on the same challenge or a new one: refused.
    assert_eq!(person.send(&first, &proof).await.unwrap_err(), "replayed");
    let second = person.challenge().await;
    assert_eq!(
        person.send(&second, &proof).await.unwrap_err(),
        "nonce_mismatch"
    );
    // ... and the challenge it was tried on is spent.
    let fresh = person.proof(&second, &HeadlessLogin(PERSON)).await;
    assert_eq!(person.send(&second, &fresh).await.unwrap_err(), "replayed");

    // A weaker way of signing in than biometrics.
    let c = person.challenge().await;
    let weak = person.proof(&c, &HeadlessLogin("person-1:password")).await;
    assert_eq!(person.send(&c, &weak).await.unwrap_err(), "acr_too_weak");

    // Someone else signs in at the provider.
    let c = person.challenge().await;
    let other = person.proof(&c, &HeadlessLogin(OTHER_PERSON)).await;
    assert_eq!(person.send(&c, &other).await.unwrap_err(), "other_person");

    // A token whose signature was altered.
    let c = person.challenge().await;
    let mut forged = person.proof(&c, &HeadlessLogin(PERSON)).await;
    let token = forged.id_token.take().unwrap();
    let (head, signature) = token.rsplit_once('.').unwrap();
    let mut signature: Vec<char> = signature.chars().collect();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == 'A' { 'B' } else { 'A' };
    forged.id_token = Some(format!(
        "{head}.{}",
        signature.into_iter().collect::<String>()
    ));
    assert_eq!(person.send(&c, &forged).await.unwrap_err(), "token_invalid");

    // The provider's earlier session passed off as a new check (no prompt=login, no max_age):
    // its auth_time is older than the challenge.
    let jar = JarBrowser {
        login_hint: PERSON,
        reuse_session: false,
        jar: Arc::default(),
    };
    let c = person.challenge().await;
    let fresh = person.proof(&c, &jar).await;
    assert!(
        person.send(&c, &fresh).await.is_ok(),
        "a fresh login through this browser passes"
    );
    // auth_time is in whole seconds: let the next challenge start in a later second.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let c = person.challenge().await;
    let reused = person
        .proof(
            &c,
            &JarBrowser {
                reuse_session: true,
                ..jar.clone()
            },
        )
        .await;
    assert_eq!(
        person.send(&c, &reused).await.unwrap_err(),
        "auth_time_stale"
    );

    // A citizen checks only themself; nothing refused was recorded.
    let someone = registered(&url, data.path(), "Other", "7777777777").await;
    let refused = person
        .registry
        .liveness_challenge(
            &person.token,
            &LivenessChallengeRequest {
                individual_id: Some(someone),
            },
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    assert_eq!(checks_of(&url, data.path(), me).await.len(), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_app_runs_the_check_keeps_it_and_says_offline_that_it_needs_the_network() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = registry(&provider, data.path()).await;
    let url = server.url();
    registered(&url, data.path(), "Amina", INDIVIDUAL_ID).await;
    let device = tempfile::tempdir().unwrap();
    let app = app(&provider, &url, device.path(), "personal");
    app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    app.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    wait_for(&app, "the first sync", synced).await;

    // Never checked: a registry that wants a first check within 10 days of registering
    // reminds her of it, and her home screen asks for it, from that reminder.
    let first_due = time::OffsetDateTime::now_utc().date() + time::Duration::days(10);
    let store = doorstep_registry::storage::open(data.path(), &DatabaseLocation::EmbeddedSqlite)
        .await
        .unwrap();
    let scheduler = doorstep_registry::scheduler::Scheduler::new(
        store.clone(),
        doorstep_registry::outbound::SchedulerConfig {
            liveness_first_check_days: Some(10),
            ..Default::default()
        },
        Default::default(),
    );
    let report = scheduler
        .liveness(time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(report.written, 1);
    store.close().await;
    let before = mark(&app);
    app.sync_now().await.unwrap();
    wait_synced_since(&app, "the reminder arrived", before).await;
    let first = |pending: &[PendingAction]| {
        pending.iter().find_map(|a| match a {
            PendingAction::LivenessDue { due, overdue } => Some((due.clone(), *overdue)),
            _ => None,
        })
    };
    assert_eq!(
        first(&app.home().await.unwrap().pending),
        Some((first_due.to_string(), false))
    );

    let check = app
        .check_liveness(&HeadlessLogin(PERSON), &["en".into()])
        .await
        .unwrap();
    assert!(check.is_passed());
    assert_eq!(check.acr.as_deref(), Some(ESIGNET_BIOMETRICS));
    // Her check set the next day, a year on: nothing to do now.
    assert_eq!(first(&app.home().await.unwrap().pending), None);
    let due = doorstep_domain::date_format::format(check.next_due.unwrap());
    // The registry gone: the check cannot be done, and the person is told why and when it is
    // due (from the check kept on the device just now).
    server.shutdown().await.unwrap();
    let err = app
        .check_liveness(&HeadlessLogin(PERSON), &["en".into()])
        .await
        .unwrap_err();
    match err {
        doorstep_client::app::AppError::InvalidInput(r) => {
            assert_eq!(r.key, "livenessNeedsNetwork", "{r:?}");
            assert!(r.english.contains(&due), "{}", r.english);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_agent_assists_a_beneficiary_who_authenticates_themself() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = registry(&provider, data.path()).await;
    let url = server.url();
    // The beneficiary never signed in to the registry: the provider's ID number names them.
    let beneficiary = registered(&url, data.path(), "Jabari", OTHER_ID).await;
    let laptop = tempfile::tempdir().unwrap();
    let agent = agent_laptop(&provider, &url, laptop.path()).await;
    agent.act_for(Some(beneficiary)).await.unwrap();

    // Someone other than the beneficiary at the provider: refused.
    let err = agent
        .check_liveness(&HeadlessLogin(PERSON), &[])
        .await
        .unwrap_err();
    match &err {
        doorstep_client::app::AppError::InvalidInput(r) => {
            assert_eq!(r.key, "livenessRefused", "{r:?}");
            assert!(
                r.params
                    .iter()
                    .any(|(k, v)| *k == "code" && v == "other_person"),
                "{r:?}"
            );
        }
        other => panic!("{other:?}"),
    }

    let check = agent
        .check_liveness(&HeadlessLogin(OTHER_PERSON), &[])
        .await
        .unwrap();
    assert_eq!(check.individual_id.to_string(), beneficiary.to_string());
    assert_eq!(check.assisted_by.as_deref(), Some("agent:agent-1"));
    // The audit trail names the agent as the actor and the beneficiary as on-behalf-of.
    let trail: Value = reqwest::Client::new()
        .get(format!(
            "{url}/v1/liveness-checks/{}/history",
            check.meta.id
        ))
        .bearer_auth(dev_token(data.path(), Role::Staff, "auditor", None))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &trail
        .as_array()
        .map(|a| a[0].clone())
        .unwrap_or_else(|| trail["items"][0].clone());
    assert_eq!(entry["actor"], "agent:agent-1", "{trail}");
    assert_eq!(entry["on_behalf_of"], beneficiary.to_string(), "{trail}");
    assert_eq!(checks_of(&url, data.path(), beneficiary).await.len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_challenge_answered_too_late_is_refused() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    // A one-second challenge (the configuration's minimum is a minute; set here directly).
    let server = registry_with(&provider, data.path(), 1).await;
    let url = server.url();
    let me = registered(&url, data.path(), "Amina", INDIVIDUAL_ID).await;
    let person = Person::sign_in(&provider, &url).await;
    let c = person.challenge().await;
    let proof = person.proof(&c, &HeadlessLogin(PERSON)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        person.send(&c, &proof).await.unwrap_err(),
        "challenge_expired"
    );
    assert!(checks_of(&url, data.path(), me).await.is_empty());
    server.shutdown().await.unwrap();
}

const ESIGNET_CLIENT: &str = "doorstep-esignet";

/// The registry's `[signin]` client for the eSignet-like client (its keys are registered at the
/// test provider through `client_jwks`).
fn exchange_config(issuer: &str) -> doorstep_registry::auth::ExchangeConfig {
    let key = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name)
    };
    let mut config = doorstep_registry::auth::ExchangeConfig::new(
        issuer,
        ESIGNET_CLIENT,
        key("signin-client.pem"),
    );
    config.userinfo_decryption_key_path = Some(key("signin-userinfo-enc.pem"));
    config
}

fn client_jwks() -> Value {
    doorstep_registry::auth::TokenExchange::new(&exchange_config("https://placeholder.invalid"))
        .unwrap()
        .public_jwks()
        .unwrap()
}

/// eSignet's way: the app sends the code, and the registry redeems it with its own client
/// (`private_key_jwt`) and sees the ID token straight from the provider.
#[tokio::test]
async fn with_an_esignet_like_client_the_registry_redeems_the_code_itself() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mut config = liveness_config(&provider, data.path(), 600);
    config.signin = Some(exchange_config(&provider.issuer));
    config.liveness.providers[0].client_id = ESIGNET_CLIENT.into();
    config.liveness.providers[0].proof = ProofMode::Code;
    let server = server::start(&config).await.unwrap();
    let url = server.url();
    let me = registered(&url, data.path(), "Amina", INDIVIDUAL_ID).await;

    let mut signin_config = SignInConfig::new(
        &provider.issuer,
        ESIGNET_CLIENT,
        TokenExchange::ViaRegistry {
            registry_url: Url::parse(&url).unwrap(),
        },
    );
    signin_config.fetch_userinfo = false;
    signin_config.resource = Some(provider.resource.clone());
    signin_config.claims = Some(json!({ "id_token": { "individual_id": { "essential": true } } }));
    signin_config.callback_timeout = Duration::from_secs(20);
    let signin = SignIn::discover(signin_config).await.unwrap();
    let session = signin.sign_in(&HeadlessLogin(PERSON)).await.unwrap();
    let person = Person {
        signin,
        registry: RegistryClient::new(Url::parse(&url).unwrap()),
        token: session.access_token().secret().to_owned(),
    };

    let c = person.challenge().await;
    assert_eq!(c.proof, doorstep_domain::api::LivenessProofKind::Code);
    let proof = person.proof(&c, &HeadlessLogin(PERSON)).await;
    assert!(
        proof.id_token.is_none() && proof.code.is_some(),
        "the app sends the code only"
    );
    let check = person.send(&c, &proof).await.unwrap();
    assert_eq!(check["acr"], ESIGNET_BIOMETRICS);
    assert_eq!(person.send(&c, &proof).await.unwrap_err(), "replayed");
    // A weaker method through the same path.
    let c = person.challenge().await;
    let weak = person.proof(&c, &HeadlessLogin("person-1:password")).await;
    assert_eq!(person.send(&c, &weak).await.unwrap_err(), "acr_too_weak");
    assert_eq!(checks_of(&url, data.path(), me).await.len(), 1);
    server.shutdown().await.unwrap();
}
