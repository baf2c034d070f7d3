//! Doorstep's engine, usable and testable without a window.
//!
//! The desktop shell (`src-tauri`) only translates between IPC calls and this crate.
//!
//! Map:
//! - [`app`]: the life cycle the shell drives: sign in, unlock, open data, sync; the UI's views.
//! - [`settings`]: where the app keeps its data and which registry it talks to.
//! - [`device_config`]: the configuration files and build defaults, merged, with clear errors.
//! - [`registry`]: the HTTP client for the registry API.
//! - [`info`]: the facts the UI shows about this installation.
//! - [`support`]: the "Copy support details" text (nothing personal).
//! - [`kiosk`]: the kiosk's operator exit behind a PIN.
//! - [`desktop`]: desktop alerts through the system notification service.
//! - [`updates`]: when to look for and install app updates, per device mode; what went wrong.
//! - [`vault`]: the encrypted offline store (records, outbox, drafts, documents, audit log).
//! - [`sync`]: push the outbox, pull the change feed, upload documents; the background service.
//! - [`signin`]: signing in with the identity provider (OpenID Connect, eSignet) → a session.

pub mod app;

/// This build's version (the workspace's, in Cargo.toml: the one place it is set).
pub use doorstep_domain::VERSION;
pub mod desktop;
pub mod device_config;
pub mod info;
pub mod kiosk;
pub mod registry;
pub mod settings;
pub mod signin;
pub mod support;
pub mod sync;
pub mod updates;
pub mod vault;
