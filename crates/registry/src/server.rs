//! Binding, serving and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::limits::RateLimiter;
use crate::auth::{AuthError, Authenticator, ExchangeError, TokenExchange};
use crate::config::{Config, ConfigError};
use crate::uploads::{UploadConfig, UploadError, Uploads};

/// How often abandoned uploads (past their expiry) are removed.
const UPLOAD_SWEEP_PERIOD: std::time::Duration = std::time::Duration::from_secs(15 * 60);
use crate::http::{router, AppState};
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
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(AppState {
        storage: storage.clone(),
        auth,
        limiter: std::sync::Arc::new(RateLimiter::new(
            config.limits.requests_per_minute,
            config.limits.burst,
        )),
        uploads: uploads.clone(),
        exchange,
    });
    let sweeper = uploads.spawn_sweeper(UPLOAD_SWEEP_PERIOD);
    let grace = config.shutdown_grace;
    let task = tokio::spawn(async move {
        let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
        // Peer addresses feed the sign-in exchange's per-IP rate limit.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
            let _ = stopping_tx.send(());
        });
        let serve = std::pin::pin!(std::future::IntoFuture::into_future(serve));
        // Graceful shutdown waits for open connections; a stuck client must not hold the server
        // hostage, so after the grace period we stop waiting.
        let result = tokio::select! {
            r = serve => r.map_err(ServerError::Serve),
            _ = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(?grace, "connections still open after the grace period; closing anyway");
                Ok(())
            }
        };
        sweeper.abort();
        storage.close().await;
        result
    });
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
    })
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
