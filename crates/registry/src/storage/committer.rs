//! Where PostgreSQL write groups are committed: a thread of their own.
//!
//! A group's round trips (read, then the guarded write: see `sql.rs`) are this server's critical
//! section: none of its other writers can commit meanwhile. On the server's shared runtime the
//! task waiting for the database's answer is queued behind request handling when it wakes, and
//! under load that wait was as long as the database's own work (`./dev bench registry` measured
//! a group at 1.8 ms there and 1.35 ms here). A thread with its own current-thread runtime and
//! its own connections is woken as soon as the answer arrives.

use std::future::Future;

use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database, Pool};
use tokio::sync::oneshot;

/// Connections of the commit thread: a group uses one; the second serves a group's writes tried
/// one by one while the first is still being given back.
const CONNECTIONS: u32 = 2;

pub(crate) struct Committer<DB: Database> {
    runtime: tokio::runtime::Handle,
    pool: Pool<DB>,
    /// Dropped with the committer: the thread's runtime then ends, and the thread with it.
    _stop: oneshot::Sender<()>,
}

impl<DB: Database> Committer<DB> {
    /// Start the thread and connect its pool with `options` (the server pool's).
    pub(crate) async fn start(
        options: <DB::Connection as Connection>::Options,
    ) -> Result<Self, sqlx::Error> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, started) = oneshot::channel();
        std::thread::Builder::new()
            .name("doorstep-commits".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(runtime.handle().clone()));
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(sqlx::Error::Io)?;
        let runtime = started
            .await
            .map_err(|_| sqlx::Error::Io(std::io::Error::other("the commit thread ended")))?
            .map_err(sqlx::Error::Io)?;
        let pool = runtime
            .spawn(async move {
                PoolOptions::<DB>::new()
                    .max_connections(CONNECTIONS)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await
            })
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??;
        Ok(Committer {
            runtime,
            pool,
            _stop: stop,
        })
    }

    /// Run `commit` (given the thread's pool) on the commit thread.
    pub(crate) fn spawn<F>(&self, commit: impl FnOnce(Pool<DB>) -> F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(commit(self.pool.clone()))
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}
