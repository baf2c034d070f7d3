//! The registry's shared vocabulary.
//!
//! Everything in this crate is pure data and pure functions: no files, no network, no clock reads.
//! Both the desktop app (`doorstep-client`) and the registry server (`doorstep-registry`) depend on it,
//! so a type defined here means the same thing on both ends of the wire.
//!
//! Today it holds the wire types of the service-level endpoints; the registry data model, its
//! validation rules and the three-way merge used by sync land here next.

pub mod wire;

/// Version of this build of Doorstep, shared by the app and the server so either can report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
