//! Doorstep's engine, usable and testable without a window.
//!
//! The desktop shell (`src-tauri`) only translates between IPC calls and this crate.
//!
//! Map:
//! - [`app`]: the life cycle the shell drives: sign in, unlock, open data, sync; the UI's views.
//! - [`settings`]: where the app keeps its data and which registry it talks to.
//! - [`registry`]: the HTTP client for the registry API.
//! - [`info`]: the facts the UI shows about this installation.
//! - [`desktop`]: desktop alerts through the system notification service.
//! - [`vault`]: the encrypted offline store (records, outbox, drafts, documents, audit log).
//! - [`sync`]: push the outbox, pull the change feed, upload documents; the background service.
//! - [`signin`]: signing in with the identity provider (OpenID Connect, eSignet) → a session.

pub mod app;
pub mod desktop;
pub mod info;
pub mod registry;
pub mod settings;
pub mod signin;
pub mod sync;
pub mod vault;
