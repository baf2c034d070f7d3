//! The staff directory, as administrators manage it from the app (and staff read it): who holds
//! which role (agent, staff, admin) in which areas. It lives at the registry, which checks every
//! change (crates/registry/src/api/staff.rs), so this is online only and keeps nothing on the
//! device: a copy would go stale, and it names people.

use doorstep_domain::api::StaffQuery;
pub use doorstep_domain::api::{StaffChange, StaffEntry, StaffGrant, StaffRole};
use serde::Serialize;
use uuid::Uuid;

use super::refusal::{from_registry, refused};
use super::roles::Role;
use super::{AppError, Doorstep};
use crate::signin::Session;
use crate::sync::SyncTransport;

/// Entries per page on the screen.
const PAGE: u32 = 50;

/// One page of the directory, for the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StaffDirectory {
    /// In grant order.
    pub entries: Vec<StaffEntry>,
    /// Pass back as `after` for the next page; absent on the last.
    pub next_after: Option<String>,
    /// Administrators change the directory; staff only read it.
    pub can_change: bool,
    /// The signed-in person's identity provider: the usual one for a new colleague.
    pub own_issuer: String,
}

impl Doorstep {
    /// A page of the directory (`include_revoked`: also the entries kept as the trail).
    pub async fn staff_directory(
        &self,
        after: Option<Uuid>,
        include_revoked: bool,
    ) -> Result<StaffDirectory, AppError> {
        let (session, transport) = self.online().await?;
        let token = transport.token().await;
        let query = StaffQuery {
            after,
            limit: Some(PAGE),
            include_revoked: Some(include_revoked),
        };
        let page = transport
            .registry()
            .staff_list(&token, &query)
            .await
            .map_err(from_registry)?;
        Ok(StaffDirectory {
            entries: page.items,
            next_after: page.next_after.map(|id| id.to_string()),
            can_change: self.role().await == Role::Admin,
            own_issuer: session.identity.issuer,
        })
    }

    /// Give an identity a role (administrators).
    pub async fn grant_staff(&self, grant: StaffGrant) -> Result<StaffEntry, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        transport
            .registry()
            .staff_grant(&token, &grant)
            .await
            .map_err(from_registry)
    }

    /// A new role and areas for an entry (administrators).
    pub async fn change_staff(
        &self,
        id: Uuid,
        change: StaffChange,
    ) -> Result<StaffEntry, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        transport
            .registry()
            .staff_change(&token, id, &change)
            .await
            .map_err(from_registry)
    }

    /// Revoke an entry (administrators); the registry keeps it as the trail.
    pub async fn revoke_staff(&self, id: Uuid) -> Result<StaffEntry, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        transport
            .registry()
            .staff_revoke(&token, id)
            .await
            .map_err(from_registry)
    }

    /// The session and a way to the registry, for a screen that works online only.
    pub(super) async fn online(&self) -> Result<(Session, SyncTransport), AppError> {
        let session = self.session().ok_or_else(|| {
            refused(
                "signInAgain",
                "Your sign-in has expired. Sign in again, then try once more.",
            )
        })?;
        let transport = SyncTransport::for_device(
            self.settings.registry_url.clone(),
            session.access_token().secret(),
            Some(self.device),
        );
        Ok((session, transport))
    }

    /// The open person's role (see roles.rs).
    pub(super) async fn role(&self) -> Role {
        let stage = self.stage.lock().await;
        self.role_in(&stage)
    }
}
