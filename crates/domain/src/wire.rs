//! Types that travel between the app and the registry server as JSON.
//!
//! Field names are part of the public HTTP API: renaming one is a breaking change for every
//! deployed app, so they are spelled out with `serde(rename_all)` rather than left to Rust names.

use serde::{Deserialize, Serialize};

/// Major version of the registry HTTP API. Resource routes live under `/v{API_VERSION}`.
pub const API_VERSION: u32 = 1;

/// Which database engine backs a registry server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum StorageKind {
    /// An embedded SQLite file: the zero-setup default for one office or one laptop.
    Sqlite,
    /// A PostgreSQL server: for deployments that outgrow one machine.
    Postgres,
}

/// Overall state of a registry server as seen by its health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum HealthStatus {
    /// The server answers and its database answers.
    Ok,
    /// The server answers but its database does not; writes would fail.
    Degraded,
}

/// Body of `GET /health`.
///
/// Deliberately free of anything personal or deployment-secret: load balancers, monitoring and
/// the app's online/offline indicator call it without signing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HealthReport {
    pub status: HealthStatus,
    /// Server software version (the Cargo package version).
    pub version: String,
    /// Major version of the HTTP API this server speaks.
    pub api_version: u32,
    pub storage: StorageKind,
    /// Number of the newest database migration applied.
    pub schema_version: i64,
}

impl HealthReport {
    /// Whether a client built against [`API_VERSION`] can talk to this server.
    pub fn is_compatible(&self) -> bool {
        self.api_version == API_VERSION
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_report_wire_format_is_stable() {
        let report = HealthReport {
            status: HealthStatus::Ok,
            version: "1.2.3".into(),
            api_version: 1,
            storage: StorageKind::Sqlite,
            schema_version: 1,
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "status": "ok",
                "version": "1.2.3",
                "api_version": 1,
                "storage": "sqlite",
                "schema_version": 1
            })
        );
        let back: HealthReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
        assert!(back.is_compatible());
    }

    #[test]
    fn unknown_storage_kind_is_rejected() {
        let err = serde_json::from_str::<StorageKind>("\"oracle\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn other_api_version_is_incompatible() {
        let report = HealthReport {
            status: HealthStatus::Degraded,
            version: "9.0.0".into(),
            api_version: API_VERSION + 1,
            storage: StorageKind::Postgres,
            schema_version: 7,
        };
        assert!(!report.is_compatible());
    }
}
