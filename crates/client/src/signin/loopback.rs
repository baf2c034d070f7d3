//! The one-shot loopback redirect listener of RFC 8252 §7.3.
//!
//! The browser hands the authorization response to `http://127.0.0.1:<port>/callback`. The port
//! is ephemeral (chosen by the OS) so two apps never clash, and it is bound to 127.0.0.1 only, so
//! nothing off this machine can reach it. Exactly one callback is accepted: the first request to
//! the callback path decides the attempt (success, cancel, or wrong `state`), and any later one,
//! such as a replayed link, gets an error page and changes nothing. Other paths (a browser asking
//! for `/favicon.ico`) get 404 and are otherwise ignored.
//!
//! The HTTP handling is deliberately minimal: one `GET` request line and headers, no body, the
//! connection closed after the answer.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;
use zeroize::Zeroizing;

use super::random::constant_time_eq;
use super::SignInError;

/// A browser that connects and then says nothing is dropped after this long.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest request head accepted; an authorization response is far smaller.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// What the provider sent back, once `state` matched.
#[derive(Debug)]
pub(crate) struct Callback {
    pub code: Zeroizing<String>,
    /// RFC 9207 `iss`, when the provider sends it (mix-up defence).
    pub iss: Option<String>,
}

type Outcome = Result<Callback, SignInError>;

/// A listening loopback redirect endpoint for one sign-in attempt. Stops listening when dropped.
pub(crate) struct CallbackListener {
    redirect_uri: Url,
    outcome: oneshot::Receiver<Outcome>,
    task: JoinHandle<()>,
}

struct Shared {
    path: String,
    state: Zeroizing<String>,
    /// Taken by the first callback; `None` afterwards, which is how replays are recognised.
    deliver: Mutex<Option<oneshot::Sender<Outcome>>>,
}

impl CallbackListener {
    /// Listen on an ephemeral 127.0.0.1 port for `GET <path>?…&state=<state>`.
    pub(crate) async fn bind(path: &str, state: Zeroizing<String>) -> Result<Self, SignInError> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(|e| SignInError::Listener(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SignInError::Listener(e.to_string()))?;
        let redirect_uri = Url::parse(&format!("http://{addr}{path}"))
            .map_err(|e| SignInError::Config(format!("`redirect_path` {path:?}: {e}")))?;
        let (tx, rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            path: path.to_owned(),
            state,
            deliver: Mutex::new(Some(tx)),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(REQUEST_READ_TIMEOUT, serve(stream, &shared)).await;
                });
            }
        });
        Ok(CallbackListener {
            redirect_uri,
            outcome: rx,
            task,
        })
    }

    /// The redirect URI to send in the authorization request.
    pub(crate) fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The first callback's outcome, or [`SignInError::Timeout`]. The listener keeps answering
    /// (replays get an error page) until it is dropped.
    pub(crate) async fn wait(&mut self, timeout: Duration) -> Result<Callback, SignInError> {
        match tokio::time::timeout(timeout, &mut self.outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(SignInError::Listener("the listener stopped".into())),
            Err(_) => Err(SignInError::Timeout {
                seconds: timeout.as_secs(),
            }),
        }
    }
}

impl Drop for CallbackListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, shared: &Shared) {
    let Some(target) = read_request_target(&mut stream).await else {
        let _ = respond(
            &mut stream,
            400,
            "Bad request",
            page_error("This is not a sign-in answer."),
        )
        .await;
        return;
    };
    let (method, target) = target;
    let url = match Url::parse(&format!("http://127.0.0.1{target}")) {
        Ok(url) => url,
        Err(_) => {
            let _ = respond(
                &mut stream,
                400,
                "Bad Request",
                page_error("This is not a sign-in answer."),
            )
            .await;
            return;
        }
    };
    if url.path() != shared.path {
        let _ = respond(&mut stream, 404, "Not Found", page_error("Nothing here.")).await;
        return;
    }
    if method != "GET" {
        let _ = respond(
            &mut stream,
            405,
            "Method Not Allowed",
            page_error("This is not a sign-in answer."),
        )
        .await;
        return;
    }
    let deliver = shared
        .deliver
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let Some(deliver) = deliver else {
        let _ = respond(
            &mut stream,
            400,
            "Bad Request",
            page_error("This sign-in link was already used. Return to Doorstep and start again if you are not signed in."),
        )
        .await;
        return;
    };
    let outcome = outcome_of(&url, &shared.state);
    let (status, reason, page) = match &outcome {
        Ok(_) => (200, "OK", page_success()),
        Err(SignInError::Cancelled { .. }) => (
            200,
            "OK",
            page_error("Sign-in was cancelled. You can close this tab and return to Doorstep."),
        ),
        Err(e) => (400, "Bad Request", page_error(&e.to_string())),
    };
    let _ = respond(&mut stream, status, reason, page).await;
    let _ = deliver.send(outcome);
}

/// The authorization response in the query, checked against this attempt's `state`.
fn outcome_of(url: &Url, expected_state: &str) -> Outcome {
    let mut state = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    let mut iss = None;
    for (k, v) in url.query_pairs() {
        match &*k {
            "state" => state = Some(Zeroizing::new(v.into_owned())),
            "code" => code = Some(Zeroizing::new(v.into_owned())),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            "iss" => iss = Some(v.into_owned()),
            _ => {}
        }
    }
    // `state` first, even for errors: an unsolicited "cancelled" must not end a real attempt
    // silently either, but it is reported as what it is.
    match &state {
        Some(s) if constant_time_eq(s, expected_state) => {}
        _ => return Err(SignInError::StateMismatch),
    }
    if let Some(error) = error {
        return Err(if error == "access_denied" {
            SignInError::Cancelled { description }
        } else {
            SignInError::refused(error, description)
        });
    }
    match code {
        Some(code) if !code.is_empty() => Ok(Callback { code, iss }),
        _ => Err(SignInError::ProviderResponse {
            url: "the sign-in callback".into(),
            reason: "neither `code` nor `error` in the answer".into(),
        }),
    }
}

/// Method and request target of the request line; headers are read and ignored.
async fn read_request_target(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST_BYTES {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().next()?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    if !target.starts_with('/') {
        return None;
    }
    Some((method, target))
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    reason: &str,
    body: String,
) -> std::io::Result<()> {
    // no-referrer: the page must not leak the callback URL (with its code) to anything it loads;
    // it loads nothing anyway (default-src 'none').
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nreferrer-policy: no-referrer\r\nx-content-type-options: nosniff\r\n\
         content-security-policy: default-src 'none'; style-src 'unsafe-inline'\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

fn page(title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}</style>\
         </head><body><h1>{title}</h1><p>{}</p></body></html>",
        html_escape(message)
    )
}

fn page_success() -> String {
    page(
        "Signed in",
        "You can return to Doorstep now. This tab can be closed.",
    )
}

fn page_error(message: &str) -> String {
    page("Sign-in did not complete", message)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> (u16, String) {
        let r = reqwest::get(url).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    fn state() -> Zeroizing<String> {
        Zeroizing::new("expected-state".into())
    }

    #[tokio::test]
    async fn first_callback_wins_and_a_replay_is_refused() {
        let mut l = CallbackListener::bind("/callback", state()).await.unwrap();
        let base = l.redirect_uri().clone();
        assert_eq!(base.host_str(), Some("127.0.0.1"));
        let (status, _) = get(&format!("{}", base.join("/favicon.ico").unwrap())).await;
        assert_eq!(status, 404);
        let url = format!("{base}?code=abc&state=expected-state&iss=x");
        let (status, body) = get(&url).await;
        assert_eq!(status, 200);
        assert!(body.contains("You can return to Doorstep now"), "{body}");
        let (status, body) = get(&url).await;
        assert_eq!(status, 400);
        assert!(body.contains("already used"), "{body}");
        let cb = l.wait(Duration::from_secs(5)).await.unwrap();
        assert_eq!(cb.code.as_str(), "abc");
        assert_eq!(cb.iss.as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn wrong_state_ends_the_attempt() {
        let mut l = CallbackListener::bind("/callback", state()).await.unwrap();
        let (status, body) = get(&format!("{}?code=abc&state=other", l.redirect_uri())).await;
        assert_eq!(status, 400);
        assert!(body.contains("state mismatch"), "{body}");
        assert!(matches!(
            l.wait(Duration::from_secs(5)).await,
            Err(SignInError::StateMismatch)
        ));
    }

    #[tokio::test]
    async fn access_denied_is_a_cancel() {
        let mut l = CallbackListener::bind("/callback", state()).await.unwrap();
        let (status, _) = get(&format!(
            "{}?error=access_denied&error_description=no%20thanks&state=expected-state",
            l.redirect_uri()
        ))
        .await;
        assert_eq!(status, 200);
        match l.wait(Duration::from_secs(5)).await {
            Err(SignInError::Cancelled { description }) => {
                assert_eq!(description.as_deref(), Some("no thanks"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refused_client_is_a_misconfiguration_not_a_refusal_to_retry() {
        let outcome = |query: &str| {
            let url = Url::parse(&format!("http://127.0.0.1/callback?{query}")).unwrap();
            outcome_of(&url, "expected-state").err().unwrap()
        };
        let err =
            outcome("error=invalid_client&error_description=unknown%20key&state=expected-state");
        match &err {
            SignInError::ServiceMisconfigured { detail } => {
                assert_eq!(detail, "invalid_client: unknown key")
            }
            other => panic!("{other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("contact the office"), "{text}");
        assert!(!text.contains("try again,"), "{text}");
        assert!(matches!(
            outcome("error=unauthorized_client&state=expected-state"),
            SignInError::ServiceMisconfigured { .. }
        ));
        assert!(matches!(
            outcome("error=invalid_scope&state=expected-state"),
            SignInError::ProviderRefused { .. }
        ));
    }

    #[tokio::test]
    async fn nobody_comes_back_in_time() {
        let mut l = CallbackListener::bind("/callback", state()).await.unwrap();
        let err = l.wait(Duration::from_millis(100)).await.unwrap_err();
        assert!(matches!(err, SignInError::Timeout { .. }), "{err}");
    }

    #[test]
    fn pages_escape_messages() {
        assert!(!page_error("<script>").contains("<script>"));
    }
}
