//! The test identity provider (tests/oidc-provider/server.mjs: panva's certified
//! `oidc-provider`, configured like eSignet) and a headless "browser" that signs in through it.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use doorstep_client::signin::BrowserOpener;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

/// The test account the provider logs in without a form.
pub const PERSON: &str = "person-1";
pub const INDIVIDUAL_ID: &str = "4918273645";
pub const PUBLIC_CLIENT: &str = "doorstep-public";

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider")
}

/// The provider process; killed when dropped.
pub struct Provider {
    _child: Child,
    pub issuer: String,
    pub resource: String,
    pub audience: String,
    _dir: tempfile::TempDir,
}

/// Start the provider, registering `client_jwks` (if any) for the eSignet-like client. `None`
/// when its npm packages are not installed and the test may be skipped (unless
/// `DOORSTEP_REQUIRE_OIDC` is set, as `./dev test` does).
pub async fn start_provider(client_jwks: Option<&Value>) -> Option<Provider> {
    let dir = provider_dir();
    if !dir.join("node_modules/oidc-provider").is_dir() {
        let hint = format!(
            "the test OpenID provider is not installed: run `npm ci` in {}",
            dir.display()
        );
        if std::env::var_os("DOORSTEP_REQUIRE_OIDC").is_some() {
            panic!("DOORSTEP_REQUIRE_OIDC is set but {hint}");
        }
        eprintln!("SKIPPED: {hint}");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut command = Command::new("node");
    command.arg(dir.join("server.mjs"));
    if let Some(jwks) = client_jwks {
        let jwks_path = tmp.path().join("client-jwks.json");
        std::fs::write(&jwks_path, jwks.to_string()).unwrap();
        command.arg("--client-jwks").arg(&jwks_path);
    }
    let mut child = command
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (Node.js 20 or newer is required)");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the provider starts within 30 s")
        .unwrap()
        .expect("the provider prints its address");
    let info: Value = serde_json::from_str(&line).unwrap();
    Some(Provider {
        _child: child,
        issuer: info["issuer"].as_str().unwrap().into(),
        resource: info["resource"].as_str().unwrap().into(),
        audience: info["audience"].as_str().unwrap().into(),
        _dir: tmp,
    })
}

/// Follow the provider's redirects with a cookie jar from `start` until the browser is sent to
/// the app's `redirect_uri`; return that callback URL without visiting it.
pub async fn follow_to_callback(start: Url, redirect_uri: &Url) -> Result<Url, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies: HashMap<String, String> = HashMap::new();
    let mut url = start;
    for _ in 0..20 {
        if url.path() == redirect_uri.path() && url.port() == redirect_uri.port() {
            return Ok(url);
        }
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = http.get(url.clone());
        if !cookie.is_empty() {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            if let Some((name, rest)) = text.split(';').next().and_then(|p| p.split_once('=')) {
                cookies.insert(name.trim().to_owned(), rest.to_owned());
            }
        }
        if !response.status().is_redirection() {
            let status = response.status();
            return Err(format!(
                "the provider answered {status} at {url}: {}",
                response.text().await.unwrap_or_default()
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

/// The redirect URI an authorization URL asks for.
pub fn redirect_uri_of(url: &Url) -> Url {
    url.query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| Url::parse(&v).unwrap())
        .expect("the authorization URL has a redirect_uri")
}

/// A browser without a screen that signs in as `login_hint` and returns to the app.
pub struct HeadlessLogin(pub &'static str);

impl BrowserOpener for HeadlessLogin {
    fn open(&self, url: &Url) -> Result<(), String> {
        let mut url = url.clone();
        url.query_pairs_mut().append_pair("login_hint", self.0);
        let redirect_uri = redirect_uri_of(&url);
        tokio::spawn(async move {
            match follow_to_callback(url, &redirect_uri).await {
                Ok(callback) => {
                    if let Err(e) = reqwest::get(callback).await {
                        eprintln!("headless browser: {e}");
                    }
                }
                Err(e) => eprintln!("headless browser: {e}"),
            }
        });
        Ok(())
    }
}
