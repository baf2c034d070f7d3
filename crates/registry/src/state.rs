//! What every handler shares: the store, the authenticator, the rate limiter, the uploads and
//! the sign-in exchange. Its own module (not `http.rs`, which builds the router from the
//! handlers) so that handlers depend on the state and the router on the handlers, never in a
//! circle.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::api::limits::RateLimiter;
use crate::auth::{Authenticator, TokenExchange};
use crate::storage::Store;
use crate::uploads::Uploads;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Store>,
    pub auth: Authenticator,
    pub limiter: Arc<RateLimiter>,
    pub uploads: Uploads,
    pub exchange: TokenExchange,
    /// What field agents must do (consent before acting for someone).
    pub agents: crate::config::AgentRules,
    /// The channels notifications are also sent by, beyond the app (`[outbound]`).
    pub outbound: crate::outbound::Enabled,
    /// When reminders are due (`[scheduler]`): a passed liveness check's default interval.
    pub scheduler: crate::outbound::SchedulerConfig,
    /// Where liveness step-ups are done and what they must prove (`[liveness]`).
    pub liveness: std::sync::Arc<crate::liveness::LivenessConfig>,
}

impl FromRef<AppState> for TokenExchange {
    fn from_ref(state: &AppState) -> TokenExchange {
        state.exchange.clone()
    }
}

impl FromRef<AppState> for Uploads {
    fn from_ref(state: &AppState) -> Uploads {
        state.uploads.clone()
    }
}

impl FromRef<AppState> for Authenticator {
    fn from_ref(state: &AppState) -> Authenticator {
        state.auth.clone()
    }
}
