//! TEMPORARY stand-in until the auth branch lands: the Principal type only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Agent,
    Staff,
    Admin,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub issuer: String,
    pub subject: String,
    pub role: Role,
    pub area: Option<String>,
    pub individual_id: Option<String>,
    pub name: Option<String>,
}
impl Principal {
    pub fn actor_id(&self) -> String {
        format!("{:?}:{}", self.role, self.subject).to_lowercase()
    }
}
#[derive(Clone, Default)]
pub struct Authenticator;
#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub struct AuthError;
impl Authenticator {
    pub async fn authenticate(&self, _h: Option<&str>) -> Result<Principal, AuthError> {
        Err(AuthError)
    }
}
pub fn unauthenticated_response(_e: &AuthError) -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::http::StatusCode::UNAUTHORIZED.into_response()
}
