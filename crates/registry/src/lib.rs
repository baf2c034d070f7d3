//! Doorstep's registry API server.
//!
//! The server is a library first so tests (and, later, other binaries) can start it in-process on
//! a random loopback port; `main.rs` is only the command line around [`server::run`].
//!
//! Map:
//! - [`auth`]: who is calling: bearer tokens from the identity provider (or `--dev-auth`).
//! - [`config`]: where settings come from (file, environment, command line) and how they combine.
//! - [`storage`]: the database, opened through the migrations in `migrations/server/`.
//! - [`demo`]: the demo programmes the README's run command loads.
//! - [`state`]: what every handler shares ([`state::AppState`]).
//! - [`api`]: the `/v1` handlers; [`api::write`] is the one pipeline every record write goes through.
//! - [`duplicates`]: the registry's duplicate check of the individuals it is sent, by index
//!   lookups only, flagged for staff and told to the agent.
//! - [`messages`]: every message the registry writes to applicants itself, in en/fr/ar.
//! - [`outbound`]: messages beyond the app (e-mail over SMTP, a webhook for SMS): the outbox's
//!   channels and its delivery worker.
//! - [`scheduler`]: the registry's own reminders on a timer (liveness due soon and overdue),
//!   one process per job, each person told once per event.
//! - [`liveness`]: liveness through the identity provider: the step-up the registry verifies
//!   (`[liveness]`, the rules on the ID token; the routes are `api/liveness.rs`).
//! - [`http`]: the axum router, the service handlers and the OpenAPI document describing them.
//! - [`openapi`]: the document's shared parts: record schemas, typed per-collection operations,
//!   the errors of every signed-in route.
//! - [`problem`]: errors as RFC 9457 problem+json.
//! - [`blobs`]: content-addressed storage of document bytes (by SHA-256).
//! - [`uploads`]: resumable document uploads (tus 1.0) that end in the blob store.
//! - [`server`]: binding, serving and graceful shutdown.

pub mod access;
pub mod api;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod demo;
pub mod duplicates;
pub mod http;
pub mod liveness;
pub mod messages;
pub mod openapi;
pub mod outbound;
pub mod problem;
pub mod resources;
pub mod scheduler;
pub mod server;
pub mod staff_cli;
pub mod state;
pub mod storage;
pub mod uploads;
