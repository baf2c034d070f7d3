//! Binding, serving and graceful shutdown.
//!
//! Connections are accepted here rather than by `axum::serve`, so that each one can be timed:
//! a client gets `header_read_timeout` to send a request's headers and `idle_timeout` between
//! requests on a keep-alive connection, and at most `max_connections` are served at once (see
//! [`Connections`]). Request bodies and handlers are timed per route in `http.rs`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::limits::RateLimiter;
use crate::auth::{AuthError, Authenticator, ExchangeError, TokenExchange};
use crate::config::{Config, ConfigError, Connections};
use crate::uploads::{UploadConfig, UploadError, Uploads};

/// How often abandoned uploads (past their expiry) are removed.
const UPLOAD_SWEEP_PERIOD: Duration = Duration::from_secs(15 * 60);
use crate::http::router;
use crate::state::AppState;
use crate::storage::{self, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot set up sign-in: {0}")]
    Auth(#[from] AuthError),
    #[error("cannot set up document uploads: {0}")]
    Uploads(#[from] UploadError),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot set up messages beyond the app: {0}")]
    Outbound(String),
    #[error("cannot listen on {addr}: {source} (is another registry already running there?)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// A server that is accepting connections.
pub struct RunningServer {
    /// The address actually bound (useful when the configured port was 0).
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// Base URL clients should use, e.g. `http://127.0.0.1:8700`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting connections, let in-flight requests finish, close the database.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.expect("server task panicked")
    }
}

/// Open storage, load demo data if asked, bind, and start serving in a background task.
pub async fn start(config: &Config) -> Result<RunningServer, ServerError> {
    if config.dev_auth && !config.listen.ip().is_loopback() {
        return Err(ServerError::Config(ConfigError::DevAuthNotLoopback(
            config.listen,
        )));
    }
    let auth = Authenticator::from_config(config).await?;
    let exchange = match &config.signin {
        Some(signin) => TokenExchange::new(signin)?,
        None => TokenExchange::disabled(),
    };
    let storage = storage::open(&config.data_dir, &config.database).await?;
    let uploads = Uploads::open_with_fs_blobs(&config.data_dir, UploadConfig::default())?;
    tracing::info!(database = %config.database.redacted(), "database open");
    if config.demo {
        let summary = crate::demo::load(storage.as_ref()).await?;
        tracing::info!(
            added = summary.programmes_added,
            present = summary.programmes_present,
            "demo programmes loaded"
        );
        let households = crate::demo::households::load(
            storage.as_ref(),
            crate::demo::households::DEFAULT_HOUSEHOLDS,
            crate::demo::households::DEFAULT_SEED,
            &crate::demo::programme_ids(),
        )
        .await?;
        tracing::info!(
            added = households.households_added,
            present = households.households_present,
            "demo households loaded"
        );
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;
    let channels = crate::outbound::Channels::from_config(&config.outbound)
        .map_err(|e| ServerError::Outbound(e.to_string()))?;
    let (tx, rx) = oneshot::channel::<()>();
    auth.use_directory(std::sync::Arc::new(crate::api::staff::StoreDirectory(
        storage.clone(),
    )));
    let app = router(AppState {
        storage: storage.clone(),
        auth,
        limiter: std::sync::Arc::new(RateLimiter::new(
            config.limits.requests_per_minute,
            config.limits.burst,
        )),
        uploads: uploads.clone(),
        exchange,
        agents: config.agents,
        outbound: channels.enabled(),
        scheduler: config.scheduler,
        liveness: std::sync::Arc::new(config.liveness.clone()),
    });
    warn_if_the_file_limit_is_low(config.connections.max_connections);
    let sweeper = uploads.spawn_sweeper(UPLOAD_SWEEP_PERIOD);
    // The outbox's delivery worker and the reminders' scheduler: they stop with the server
    // (what they were doing is picked up again by the next process, see outbound/ and
    // scheduler.rs).
    let background = CancellationToken::new();
    let enabled = channels.enabled();
    let worker =
        crate::outbound::worker::Worker::new(storage.clone(), channels, config.outbound.clone())
            .spawn(background.clone());
    let scheduler = config.scheduler.enabled.then(|| {
        crate::scheduler::Scheduler::new(storage.clone(), config.scheduler, enabled)
            .spawn(background.clone())
    });
    let grace = config.shutdown_grace;
    let connections = config.connections;
    let task = tokio::spawn(async move {
        // A dropped RunningServer stops the server too.
        let stop = async move {
            let _ = rx.await;
        };
        serve(listener, app, connections, grace, stop).await;
        sweeper.abort();
        background.cancel();
        let _ = worker.await;
        if let Some(scheduler) = scheduler {
            let _ = scheduler.await;
        }
        storage.close().await;
        Ok(())
    });
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
    })
}

/// The accept loop: serve each connection over HTTP/1.1 with the router until `stop` completes,
/// then let in-flight requests finish for up to `grace` (idle connections close at once) and
/// close whatever is left.
///
/// axum::serve cannot time a connection's headers or its idle time, so connections are served by
/// hyper here, each with a watchdog ([`watchdog`]); at most `max_connections` at once.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Connections,
    grace: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer also runs while a keep-alive connection waits for its next
    // request, which would make the idle timeout the header timeout; the watchdog does both.
    http.header_read_timeout(None).keep_alive(true);
    let graceful = GracefulShutdown::new();
    // Closes the connections still open when the grace period is over.
    let closing = CancellationToken::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut full = false;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                full = false;
                slot
            }
            Err(_) => {
                if !full {
                    full = true;
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached; new connections wait until one closes (max_connections)"
                    );
                }
                tokio::select! {
                    _ = &mut stop => break,
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                }
            }
        };
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to be freed.
                    tracing::error!(error = %e, "cannot accept connections; retrying in a second");
                    tokio::select! {
                        _ = &mut stop => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        let activity = Arc::new(Activity::new());
        let io = hyper_util::rt::TokioIo::new(Tracked {
            io: stream,
            activity: activity.clone(),
        });
        let service = {
            let activity = activity.clone();
            let app = app.clone();
            hyper::service::service_fn(move |mut request: Request<Incoming>| {
                // Peer addresses feed the sign-in exchange's per-IP rate limit.
                request.extensions_mut().insert(ConnectInfo(peer));
                let busy = activity.request_started();
                let mut app = app.clone();
                async move {
                    let response = tower::Service::call(&mut app, request).await?;
                    // The request counts as in flight until its response body is sent (or dropped).
                    Ok::<_, Infallible>(response.map(|body| {
                        body.map_frame(move |frame| {
                            let _busy = &busy;
                            frame
                        })
                    }))
                }
            })
        };
        let connection = graceful.watch(http.serve_connection(io, service));
        let closing = closing.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                expired = watchdog(&activity, &limits) => {
                    tracing::debug!(%peer, timeout = expired.setting(), "connection timed out; closing it");
                }
                _ = closing.cancelled() => {}
            }
        });
    }
    drop(listener);
    // Graceful shutdown waits for open connections; a stuck client must not hold the server
    // hostage, so after the grace period we stop waiting.
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?grace,
            "connections still open after the grace period; closing anyway"
        );
        closing.cancel();
    }
}

/// Accept errors that concern one connection only (the client gave up during the handshake).
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Which timeout closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    HeaderRead,
    Idle,
}

impl Expired {
    /// The setting an operator would change.
    fn setting(self) -> &'static str {
        match self {
            Expired::HeaderRead => "header_read_timeout_secs",
            Expired::Idle => "idle_timeout_secs",
        }
    }
}

/// What one connection is doing, as its watchdog needs to know: shared by the socket (which
/// notes the first byte of each request), the requests (in flight until their response is sent)
/// and the watchdog.
struct Activity {
    state: std::sync::Mutex<ActivityState>,
    /// Wakes the watchdog when its deadline may have moved earlier.
    changed: Notify,
}

struct ActivityState {
    /// Requests being handled or answered (HTTP/1.1: at most one at a time).
    in_flight: usize,
    /// Since when the connection has been waiting for the rest of a request's headers: its
    /// acceptance (first request), or the request's first byte. `None` while idle between
    /// requests or while a request is in flight.
    head_since: Option<Instant>,
    /// Since when the connection has been idle between requests.
    idle_since: Instant,
}

impl Activity {
    fn new() -> Self {
        let now = Instant::now();
        Activity {
            state: std::sync::Mutex::new(ActivityState {
                in_flight: 0,
                head_since: Some(now),
                idle_since: now,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        // The state stays consistent even if a holder panicked: every update is one assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes arrived from the client.
    fn received(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && state.head_since.is_none() {
            state.head_since = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// The headers of a request are in; it is in flight until the guard is dropped.
    fn request_started(self: &Arc<Self>) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.head_since = None;
        InFlight(self.clone())
    }

    /// When the connection must be closed if nothing changes, and why; `None` while a request is
    /// in flight (request bodies and handlers have their own timeouts, per route).
    fn deadline(&self, limits: &Connections) -> Option<(Instant, Expired)> {
        let state = self.state();
        if state.in_flight > 0 {
            return None;
        }
        Some(match state.head_since {
            Some(since) => (since + limits.header_read_timeout, Expired::HeaderRead),
            None => (state.idle_since + limits.idle_timeout, Expired::Idle),
        })
    }
}

/// A request in flight on its connection.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            state.head_since = None;
            drop(state);
            self.0.changed.notify_one();
        }
    }
}

/// Completes when the connection has waited too long for a request's headers, or has been idle
/// too long between requests.
async fn watchdog(activity: &Activity, limits: &Connections) -> Expired {
    loop {
        match activity.deadline(limits) {
            None => activity.changed.notified().await,
            Some((at, expired)) => {
                if at <= Instant::now() {
                    return expired;
                }
                tokio::select! {
                    _ = activity.changed.notified() => {}
                    _ = tokio::time::sleep_until(at.into()) => {}
                }
            }
        }
    }
}

/// The client's socket, noting when bytes arrive.
struct Tracked {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.received();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Each connection holds a file descriptor: a cap above the process's limit cannot be reached,
/// and the server runs out of descriptors first (accept fails, files cannot be opened).
fn warn_if_the_file_limit_is_low(max_connections: usize) {
    #[cfg(target_os = "linux")]
    {
        // Room for the database, uploads and the provider's HTTPS connections.
        const RESERVE: u64 = 64;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct it is given and reads nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0
            && limit.rlim_cur != libc::RLIM_INFINITY
            && (max_connections as u64).saturating_add(RESERVE) > limit.rlim_cur
        {
            tracing::warn!(
                max_connections,
                open_file_limit = limit.rlim_cur,
                "max_connections is close to or above the open-file limit: raise the limit (ulimit -n, systemd LimitNOFILE) or lower max_connections"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = max_connections;
}

/// Run until `signal` completes, then shut down gracefully.
pub async fn run(config: &Config, signal: impl Future<Output = ()>) -> Result<(), ServerError> {
    let server = start(config).await?;
    // Scripts read this line to learn the port; keep its shape stable.
    println!("doorstep-registry listening on {}", server.url());
    tracing::info!(addr = %server.addr, data = %config.data_dir.display(), "serving");
    signal.await;
    tracing::info!("shutdown requested; finishing in-flight requests");
    server.shutdown().await
}

/// Completes on Ctrl-C or SIGTERM (what systemd and container runtimes send).
pub fn shutdown_signal() -> impl Future<Output = ()> {
    // The handlers are installed now, not when the future is first polled: a SIGTERM sent
    // right after the "listening" line must already be caught (call this inside the runtime).
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        let terminate = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    }
}
