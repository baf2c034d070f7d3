//! Intentionally empty: see `tests/`. This crate exists so client-against-server tests have a home
//! that depends on both, without `doorstep-client` and `doorstep-registry` depending on each other.
