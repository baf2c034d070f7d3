//! Who is calling: the [`Principal`] a verified token describes, and how its [`Role`] is chosen.

use serde_json::{Map, Value};

use super::AuthError;

/// What a caller may do in the registry. Ordered from least to most privileged, so `max` picks
/// the most privileged of several.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A registrant acting on their own record.
    Citizen,
    /// A field agent enrolling and updating registrants in their assigned area.
    Agent,
    /// Programme staff reviewing and deciding.
    Staff,
    /// Administrators of the registry itself.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Citizen, Role::Agent, Role::Staff, Role::Admin];

    /// The lowercase name used in tokens, actor ids and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Agent => "agent",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    /// Case-insensitive; `None` for names this registry does not know.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::parse(s).ok_or_else(|| {
            format!("unknown role `{s}`: expected one of citizen, agent, staff, admin")
        })
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub issuer: String,
    pub subject: String,
    pub role: Role,
    /// Admin-area code an agent is assigned to (claim configurable, default "area", or the staff
    /// directory); None for others.
    pub area: Option<String>,
    /// Staff limited to these areas by the staff directory; empty: every area (and for everyone
    /// who is not staff).
    pub areas: Vec<String>,
    /// The registrant's national/individual id from the provider (claim configurable, default
    /// "individual_id"), used to link a citizen to their record.
    pub individual_id: Option<String>,
    pub name: Option<String>,
}

impl Principal {
    /// `<role>:<subject>`: the stable actor string written to the audit trail. The role is part
    /// of it because the same person acting as staff and as a citizen are different actors.
    pub fn actor_id(&self) -> String {
        format!("{}:{}", self.role, self.subject)
    }
}

/// Which claims carry the role, area and individual id. Providers differ (eSignet has no role
/// claim at all; Keycloak nests roles under `realm_access.roles`), so they are configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimNames {
    pub role: String,
    pub area: String,
    pub individual_id: String,
    pub email: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            role: "roles".into(),
            area: "area".into(),
            individual_id: "individual_id".into(),
            email: "email".into(),
        }
    }
}

/// What a verified token says about its holder, before any role is given: the part that is
/// worth remembering per token (`verified.rs`), while the role is worked out on every request
/// from the staff directory as it is then (`roles.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub issuer: String,
    pub subject: String,
    /// The e-mail address in lower case, only when the token's `email_verified` is `true`: an
    /// unverified address is whatever the person typed, so it never matches the directory.
    pub verified_email: Option<String>,
    pub claimed: Claimed,
    /// The area claim, for an agent whose role comes from a trusted claim.
    pub claimed_area: Option<String>,
    pub individual_id: Option<String>,
    pub name: Option<String>,
}

/// The token's role claim, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claimed {
    /// No role claim (or null): eSignet's tokens.
    Absent,
    /// A role claim naming these known roles; empty when it names none this registry knows (or
    /// is not a string or a list), which is not the same as no claim.
    Roles(Vec<Role>),
}

/// The role claim as found in the claims.
pub(crate) fn claimed_roles(claims: &Map<String, Value>, name: &str) -> Claimed {
    match claim(claims, name) {
        None | Some(Value::Null) => Claimed::Absent,
        Some(Value::String(s)) => Claimed::Roles(Role::parse(s).into_iter().collect()),
        Some(Value::Array(items)) => Claimed::Roles(
            items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(Role::parse)
                .collect(),
        ),
        Some(_) => Claimed::Roles(Vec::new()),
    }
}

/// The identity verified claims describe (signature, issuer, audience and times are already
/// checked by the caller).
pub(crate) fn identity_from_claims(
    claims: &Map<String, Value>,
    names: &ClaimNames,
) -> Result<Identity, AuthError> {
    let issuer = claim_text(claims, "iss")
        .ok_or_else(|| AuthError::Malformed("the token has no `iss` claim".into()))?;
    let subject = claim_text(claims, "sub")
        .ok_or_else(|| AuthError::Malformed("the token has no `sub` claim".into()))?;
    // Only the JSON value `true`: a string "true" is not how OpenID Connect says it.
    let verified_email = match claims.get("email_verified") {
        Some(Value::Bool(true)) => claim_text(claims, &names.email).map(|e| e.to_lowercase()),
        _ => None,
    };
    Ok(Identity {
        issuer,
        subject,
        verified_email,
        claimed: claimed_roles(claims, &names.role),
        claimed_area: claim_text(claims, &names.area),
        individual_id: claim_text(claims, &names.individual_id),
        name: claim_text(claims, "name"),
    })
}

/// Find a claim by name; a name with dots that is not itself a claim is looked up as a path
/// into nested objects (`realm_access.roles`).
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// A claim as text: strings as they are, numbers written out (some providers send numeric ids);
/// empty strings count as absent.
fn claim_text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claim(claims, name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn claimed(value: Value) -> Claimed {
        claimed_roles(&claims(value), "roles")
    }

    #[test]
    fn role_names_parse_case_insensitively() {
        assert_eq!(Role::parse("ADMIN"), Some(Role::Admin));
        assert_eq!(Role::parse(" Agent "), Some(Role::Agent));
        assert_eq!(Role::parse("wizard"), None);
        assert!("wizard"
            .parse::<Role>()
            .unwrap_err()
            .contains("citizen, agent"));
    }

    #[test]
    fn role_claim_may_be_a_string_or_an_array_and_unknown_names_are_dropped() {
        assert_eq!(
            claimed(json!({"roles": "Staff"})),
            Claimed::Roles(vec![Role::Staff])
        );
        assert_eq!(
            claimed(json!({"roles": ["citizen", "offline_access", "STAFF"]})),
            Claimed::Roles(vec![Role::Citizen, Role::Staff])
        );
        assert_eq!(claimed(json!({})), Claimed::Absent);
        assert_eq!(claimed(json!({"roles": null})), Claimed::Absent);
        assert_eq!(claimed(json!({"roles": "wizard"})), Claimed::Roles(vec![]));
        assert_eq!(claimed(json!({"roles": 7})), Claimed::Roles(vec![]));
    }

    #[test]
    fn nested_role_claim_is_found_by_dotted_path() {
        let c = claims(json!({"realm_access": {"roles": ["uma_authorization", "admin"]}}));
        assert_eq!(
            claimed_roles(&c, "realm_access.roles"),
            Claimed::Roles(vec![Role::Admin])
        );
    }

    #[test]
    fn identity_takes_the_email_only_when_verified() {
        let names = ClaimNames::default();
        let id = |extra: Value| {
            let mut c = json!({"iss": "i", "sub": "s", "email": "Amina@Example.org",
                "individual_id": 123456, "name": "Amina", "area": "KE-047"});
            c.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            identity_from_claims(&claims(c), &names).unwrap()
        };
        let verified = id(json!({"email_verified": true}));
        assert_eq!(
            verified.verified_email.as_deref(),
            Some("amina@example.org")
        );
        assert_eq!(verified.individual_id.as_deref(), Some("123456"));
        assert_eq!(verified.claimed_area.as_deref(), Some("KE-047"));
        assert_eq!(id(json!({})).verified_email, None);
        assert_eq!(id(json!({"email_verified": false})).verified_email, None);
        assert_eq!(id(json!({"email_verified": "true"})).verified_email, None);
        assert!(matches!(
            identity_from_claims(&claims(json!({"iss": "i"})), &names),
            Err(AuthError::Malformed(_))
        ));
    }
}
