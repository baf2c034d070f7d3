//! Sign-in against a real, certified OpenID Connect provider on loopback: panva's
//! `oidc-provider` (tests/oidc-provider/server.mjs), configured like eSignet. The "browser" is
//! headless: it follows the provider's redirects with its own cookie jar, and the provider logs
//! in the test account named by `login_hint` without a form.
//!
//! Needs `npm ci` in tests/oidc-provider (`./dev test` does it). Without `node_modules` these
//! tests are skipped with a message, unless `DOORSTEP_REQUIRE_OIDC` is set (as `./dev test` does),
//! in which case they fail.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod common;

use common::oidc::{
    follow_to_callback, redirect_uri_of, start_provider, Provider, INDIVIDUAL_ID, PERSON,
    PUBLIC_CLIENT,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doorstep_client::signin::{
    BrowserOpener, SignIn, SignInConfig, SignInError, TokenExchange as Redemption,
};
use doorstep_registry::auth::{exchange_routes, AuthConfig, ExchangeConfig, TokenExchange};
use doorstep_registry::{config::Config, server};
use serde_json::{json, Value};
use url::Url;

const ESIGNET_CLIENT: &str = "doorstep-esignet";
/// Like ESIGNET_CLIENT, but the provider encrypts its userinfo to the registry's `use: enc` key.
const JWE_CLIENT: &str = "doorstep-esignet-jwe";

fn test_key(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

/// The registry's `[signin]` section for `client_id`: the signing key and the userinfo
/// decryption key that the provider has registered for the eSignet-like clients.
fn exchange_config(issuer: &str, client_id: &str) -> ExchangeConfig {
    let mut config = ExchangeConfig::new(issuer, client_id, test_key("signin-client.pem"));
    config.userinfo_decryption_key_path = Some(test_key("signin-userinfo-enc.pem"));
    config
}

/// The registry's public JWKS (signing and encryption keys), before the issuer (and so the
/// exchange) is known.
fn client_jwks() -> Value {
    TokenExchange::new(&exchange_config(
        "https://placeholder.invalid",
        ESIGNET_CLIENT,
    ))
    .unwrap()
    .public_jwks()
    .unwrap()
}

/// The registry's sign-in routes (token exchange, userinfo) for the eSignet-like client.
async fn start_exchange(issuer: &str) -> Url {
    serve_exchange(exchange_config(issuer, ESIGNET_CLIENT)).await
}

/// The registry's sign-in routes with `config`, on their own loopback server (until they are
/// wired into the registry's router). Returns its base URL.
async fn serve_exchange(config: ExchangeConfig) -> Url {
    let exchange = TokenExchange::new(&config).unwrap();
    let app = exchange_routes::<TokenExchange>().with_state(exchange);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

/// What the headless browser does once the provider redirects to the app.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Act {
    /// Deliver the callback, then deliver it again (a replay within the attempt).
    LoginAndReplay,
    /// Deliver the callback with `state` altered.
    WrongState,
    /// Never come back.
    Nothing,
}

/// A browser without a screen: follows redirects with a cookie jar, adds `login_hint`.
struct Headless {
    login_hint: &'static str,
    act: Act,
    /// An earlier callback URL to deliver to this attempt instead of talking to the provider.
    replay_old: Option<Url>,
    log: Arc<Mutex<Log>>,
}

#[derive(Default, Debug)]
struct Log {
    callback: Option<Url>,
    statuses: Vec<(u16, String)>,
    error: Option<String>,
}

impl Headless {
    /// The answers to the first `n` callback deliveries; the browser may still be reading them
    /// when the sign-in call has already returned.
    async fn answers(&self, n: usize) -> Vec<(u16, String)> {
        for _ in 0..100 {
            let statuses = self.log.lock().unwrap().statuses.clone();
            if statuses.len() >= n {
                return statuses;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "the browser saw fewer than {n} callback answers: {:?}",
            self.log.lock().unwrap()
        );
    }

    fn new(login_hint: &'static str, act: Act) -> Self {
        Headless {
            login_hint,
            act,
            replay_old: None,
            log: Arc::default(),
        }
    }
}

impl BrowserOpener for Headless {
    fn open(&self, url: &Url) -> Result<(), String> {
        let mut url = url.clone();
        url.query_pairs_mut()
            .append_pair("login_hint", self.login_hint);
        let redirect_uri = redirect_uri_of(&url);
        let (act, log, old) = (self.act, self.log.clone(), self.replay_old.clone());
        tokio::spawn(async move {
            let result = drive(url, redirect_uri, act, old, log.clone()).await;
            if let Err(e) = result {
                eprintln!("headless browser: {e}");
                log.lock().unwrap().error = Some(e);
            }
        });
        Ok(())
    }
}

async fn drive(
    start: Url,
    redirect_uri: Url,
    act: Act,
    replay_old: Option<Url>,
    log: Arc<Mutex<Log>>,
) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let deliver = |url: Url| {
        let http = http.clone();
        let log = log.clone();
        async move {
            let r = http.get(url).send().await.map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            log.lock().unwrap().statuses.push((status, body));
            Ok::<(), String>(())
        }
    };
    if let Some(old) = replay_old {
        let mut url = redirect_uri.clone();
        url.set_query(old.query());
        return deliver(url).await;
    }
    let mut url = follow_to_callback(start, &redirect_uri).await?;
    log.lock().unwrap().callback = Some(url.clone());
    match act {
        Act::Nothing => Ok(()),
        Act::WrongState => {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "state" {
                        "forged".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
            deliver(url).await
        }
        Act::LoginAndReplay => {
            deliver(url.clone()).await?;
            deliver(url).await
        }
    }
}

fn esignet_config(issuer: &str, registry: Url) -> SignInConfig {
    let mut config = SignInConfig::new(
        issuer,
        ESIGNET_CLIENT,
        Redemption::ViaRegistry {
            registry_url: registry,
        },
    );
    config.scopes = vec!["openid".into(), "profile".into(), "phone".into()];
    config.acr_values = vec!["mosip:idp:acr:password".into()];
    config.ui_locales = vec!["en".into()];
    config.claims_locales = vec!["en".into()];
    config.callback_timeout = Duration::from_secs(20);
    config
}

/// The eSignet-like client whose userinfo is encrypted: userinfo through the registry.
fn jwe_config(issuer: &str, registry: Url) -> SignInConfig {
    let mut config = esignet_config(issuer, registry);
    config.client_id = JWE_CLIENT.into();
    config.userinfo_via_registry = true;
    config
}

fn public_config(provider: &Provider) -> SignInConfig {
    let mut config = SignInConfig::new(&provider.issuer, PUBLIC_CLIENT, Redemption::Direct);
    // The provider's userinfo refuses audience-bound (registry) tokens, so this client takes its
    // claims from the ID token.
    config.fetch_userinfo = false;
    config.resource = Some(provider.resource.clone());
    config.claims = Some(json!({
        "id_token": { "individual_id": { "essential": true }, "name": null }
    }));
    config.max_age = Some(60);
    config.prompt = Some("login".into());
    config.callback_timeout = Duration::from_secs(20);
    config
}

#[tokio::test]
async fn esignet_like_client_signs_in_through_the_registry_exchange() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let registry = start_exchange(&provider.issuer).await;
    let signin = SignIn::discover(esignet_config(&provider.issuer, registry))
        .await
        .unwrap();
    let browser = Headless::new(PERSON, Act::LoginAndReplay);
    let session = signin.sign_in(&browser).await.unwrap();
    let who = &session.identity;
    assert_eq!(who.subject, PERSON);
    assert_eq!(who.individual_id.as_deref(), Some(INDIVIDUAL_ID));
    assert_eq!(who.name.as_deref(), Some("Amina Njoroge"));
    assert_eq!(who.birthdate.as_deref(), Some("1988-04-12"));
    assert_eq!(who.phone_number.as_deref(), Some("+254712345678"));
    assert_eq!(who.acr.as_deref(), Some("mosip:idp:acr:password"));
    assert!(!session.is_expired(doorstep_client::signin::unix_now()));
    assert!(!format!("{session:?}").contains(session.access_token().secret()));

    // The replayed callback got an error page and changed nothing.
    let answers = browser.answers(2).await;
    assert_eq!(answers[0].0, 200);
    assert!(answers[0].1.contains("You can return to Doorstep now"));
    assert_eq!(answers[1].0, 400);
    assert!(answers[1].1.contains("already used"));
}

#[tokio::test]
async fn encrypted_userinfo_is_decrypted_by_the_registry_and_verified_by_the_app() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let registry = serve_exchange(exchange_config(&provider.issuer, JWE_CLIENT)).await;
    let signin = SignIn::discover(jwe_config(&provider.issuer, registry))
        .await
        .unwrap();
    let session = signin
        .sign_in(&Headless::new(PERSON, Act::LoginAndReplay))
        .await
        .unwrap();
    let who = &session.identity;
    assert_eq!(who.subject, PERSON);
    assert_eq!(who.individual_id.as_deref(), Some(INDIVIDUAL_ID));
    assert_eq!(who.name.as_deref(), Some("Amina Njoroge"));
}

#[tokio::test]
async fn encrypted_userinfo_with_the_wrong_key_or_without_the_registry_is_refused_clearly() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    // The registry decrypts with another key than the one registered at the provider: the
    // sign-in fails (no session) with both key ids named.
    let mut wrong = exchange_config(&provider.issuer, JWE_CLIENT);
    wrong.userinfo_decryption_key_path =
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry/tests/keys/rsa-2.pem"));
    let registry = serve_exchange(wrong).await;
    let browser = Headless::new(PERSON, Act::LoginAndReplay);
    let err = refused(jwe_config(&provider.issuer, registry), &browser).await;
    let text = err.to_string();
    assert!(matches!(err, SignInError::Registry(_)), "{text}");
    assert!(
        text.contains("another key") && text.contains("use: enc"),
        "{text}"
    );
    assert!(!text.contains(INDIVIDUAL_ID), "no personal data: {text}");

    // Fetched straight from the provider, the JWE is named with the setting that fixes it.
    let registry = serve_exchange(exchange_config(&provider.issuer, JWE_CLIENT)).await;
    let mut direct = jwe_config(&provider.issuer, registry);
    direct.userinfo_via_registry = false;
    let err = refused(direct, &browser).await;
    assert!(matches!(err, SignInError::EncryptedUserInfo), "{err}");
    assert!(err.to_string().contains("userinfo_via_registry"), "{err}");
}

#[tokio::test]
async fn public_client_signs_in_directly_and_the_registry_accepts_its_token() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let signin = SignIn::discover(public_config(&provider)).await.unwrap();
    let session = signin
        .sign_in(&Headless::new(PERSON, Act::LoginAndReplay))
        .await
        .unwrap();
    assert_eq!(session.identity.subject, PERSON);
    assert_eq!(
        session.identity.individual_id.as_deref(),
        Some(INDIVIDUAL_ID)
    );
    assert!(session.identity.auth_time.is_some());

    // The registry, trusting this provider, accepts the access token.
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.auth = AuthConfig {
        issuer: Some(provider.issuer.clone()),
        audience: Some(provider.audience.clone()),
        ..AuthConfig::default()
    };
    let registry = server::start(&config).await.unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/v1/me", registry.url()))
        .bearer_auth(session.access_token().secret())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "citizen");
    registry.shutdown().await.unwrap();
}

async fn attempt(provider: &Provider, browser: &Headless, timeout: Duration) -> SignInError {
    let mut config = public_config(provider);
    config.callback_timeout = timeout;
    refused(config, browser).await
}

/// The error of a sign-in attempt that must fail.
async fn refused(config: SignInConfig, browser: &Headless) -> SignInError {
    let signin = SignIn::discover(config).await.unwrap();
    signin.sign_in(browser).await.unwrap_err()
}

#[tokio::test]
async fn wrong_state_is_refused() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let browser = Headless::new(PERSON, Act::WrongState);
    let err = attempt(&provider, &browser, Duration::from_secs(20)).await;
    assert!(matches!(err, SignInError::StateMismatch), "{err}");
    assert!(err.to_string().contains("Start again"), "{err}");
    assert_eq!(browser.answers(1).await[0].0, 400);
}

#[tokio::test]
async fn an_old_callback_replayed_into_a_new_attempt_is_refused() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let first = Headless::new(PERSON, Act::LoginAndReplay);
    let signin = SignIn::discover(public_config(&provider)).await.unwrap();
    signin.sign_in(&first).await.unwrap();
    let old = first.log.lock().unwrap().callback.clone().unwrap();

    let mut replay = Headless::new(PERSON, Act::Nothing);
    replay.replay_old = Some(old);
    let err = attempt(&provider, &replay, Duration::from_secs(20)).await;
    assert!(matches!(err, SignInError::StateMismatch), "{err}");
}

#[tokio::test]
async fn cancelling_at_the_provider_is_reported_as_cancelled() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let browser = Headless::new("cancel", Act::LoginAndReplay);
    let err = attempt(&provider, &browser, Duration::from_secs(20)).await;
    match &err {
        SignInError::Cancelled { description } => {
            assert!(description
                .as_deref()
                .unwrap_or_default()
                .contains("cancelled"))
        }
        other => panic!("expected a cancel, got {other}"),
    }
    assert!(browser.answers(1).await[0].1.contains("cancelled"));
}

#[tokio::test]
async fn nobody_coming_back_times_out() {
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let browser = Headless::new(PERSON, Act::Nothing);
    let err = attempt(&provider, &browser, Duration::from_secs(2)).await;
    assert!(matches!(err, SignInError::Timeout { seconds: 2 }), "{err}");
}

#[tokio::test]
async fn an_unreachable_provider_is_named() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = format!("http://127.0.0.1:{port}");
    let config = SignInConfig::new(&issuer, PUBLIC_CLIENT, Redemption::Direct);
    let err = SignIn::discover(config).await.err().unwrap();
    assert!(
        matches!(err, SignInError::ProviderUnreachable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

#[tokio::test]
async fn the_exchange_passes_the_providers_refusal_through() {
    // A code the provider does not know (made up, expired or already used) is refused by the
    // provider, and its OAuth error reaches the app unchanged.
    let Some(provider) = start_provider(Some(&client_jwks())).await else {
        return;
    };
    let registry = start_exchange(&provider.issuer).await;
    let response = reqwest::Client::new()
        .post(registry.join("v1/auth/token-exchange").unwrap())
        .json(&json!({
            "code": "not-a-real-code",
            "code_verifier": "a".repeat(43),
            "redirect_uri": "http://127.0.0.1:9/callback",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

/// Ids a deployment registered its keys under at the provider, instead of their thumbprints.
const SIGNING_KID: &str = "doorstep-sig-2025";
const ENCRYPTION_KID: &str = "doorstep-enc-2025";

fn with_key_ids(mut config: ExchangeConfig) -> ExchangeConfig {
    config.key_id = Some(SIGNING_KID.into());
    config.userinfo_decryption_key_id = Some(ENCRYPTION_KID.into());
    config
}

#[tokio::test]
async fn keys_registered_under_their_own_ids_need_key_id_and_without_it_the_service_is_misconfigured(
) {
    // The JWKS the operator registers (`doorstep-registry signin-jwks`), under the ids they chose.
    let jwks = TokenExchange::new(&with_key_ids(exchange_config(
        "https://placeholder.invalid",
        ESIGNET_CLIENT,
    )))
    .unwrap()
    .public_jwks()
    .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], SIGNING_KID);
    assert_eq!(jwks["keys"][1]["kid"], ENCRYPTION_KID);
    let Some(provider) = start_provider(Some(&jwks)).await else {
        return;
    };

    // With key_id set, the provider finds the key the assertion names, and the encrypted userinfo
    // (sealed to the key registered as ENCRYPTION_KID) is decrypted.
    let registry =
        serve_exchange(with_key_ids(exchange_config(&provider.issuer, JWE_CLIENT))).await;
    let session = SignIn::discover(jwe_config(&provider.issuer, registry))
        .await
        .unwrap()
        .sign_in(&Headless::new(PERSON, Act::LoginAndReplay))
        .await
        .unwrap();
    assert_eq!(session.identity.subject, PERSON);
    assert_eq!(
        session.identity.individual_id.as_deref(),
        Some(INDIVIDUAL_ID)
    );

    // Without key_id the assertion names the key's thumbprint, which the provider does not know:
    // it refuses the client, and the person is told the service is misconfigured, not to retry.
    let registry = serve_exchange(exchange_config(&provider.issuer, ESIGNET_CLIENT)).await;
    let err = refused(
        esignet_config(&provider.issuer, registry),
        &Headless::new(PERSON, Act::LoginAndReplay),
    )
    .await;
    let text = err.to_string();
    assert!(
        matches!(err, SignInError::ServiceMisconfigured { .. }),
        "{text}"
    );
    assert!(text.contains("invalid_client"), "{text}");
    assert!(text.contains("contact the office"), "{text}");
    assert!(!text.contains("try again,"), "{text}");
}
