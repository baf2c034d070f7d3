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
    /// Admin-area code an agent is assigned to (claim configurable, default "area"); None for others.
    pub area: Option<String>,
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
    pub default_role_citizen: bool,
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            role: "roles".into(),
            area: "area".into(),
            individual_id: "individual_id".into(),
            default_role_citizen: true,
        }
    }
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

/// The role a token grants.
///
/// - Claim absent (or null): `citizen` when `default_role_citizen` is set, because eSignet and
///   similar national-ID providers only ever sign in registrants and carry no role claim;
///   otherwise no role.
/// - Claim present: a string or an array of strings; names are matched case-insensitively and
///   unknown names (other applications' roles share the claim) are ignored. If no known role
///   remains, there is no role: a provider that sends roles but none of ours is not silently
///   treated as a citizen.
/// - Several known roles: the most privileged wins (admin > staff > agent > citizen). Providers
///   commonly assign cumulative roles (a staff member is also a citizen), and the caller asked
///   for the token they hold; refusing would lock such users out, picking the lowest would make
///   the higher role unreachable.
pub(crate) fn role_from_claims(
    claims: &Map<String, Value>,
    names: &ClaimNames,
) -> Result<Role, AuthError> {
    let no_role = || AuthError::NoRole {
        claim: names.role.clone(),
    };
    match claim(claims, &names.role) {
        None | Some(Value::Null) if names.default_role_citizen => Ok(Role::Citizen),
        None | Some(Value::Null) => Err(no_role()),
        Some(Value::String(s)) => Role::parse(s).ok_or_else(no_role),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(Role::parse)
            .max()
            .ok_or_else(no_role),
        Some(_) => Err(no_role()),
    }
}

/// Build the principal from verified claims (signature, issuer, audience and times are already
/// checked by the caller).
pub(crate) fn principal_from_claims(
    claims: &Map<String, Value>,
    names: &ClaimNames,
) -> Result<Principal, AuthError> {
    let issuer = claim_text(claims, "iss")
        .ok_or_else(|| AuthError::Malformed("the token has no `iss` claim".into()))?;
    let subject = claim_text(claims, "sub")
        .ok_or_else(|| AuthError::Malformed("the token has no `sub` claim".into()))?;
    let role = role_from_claims(claims, names)?;
    let area =
        match role {
            Role::Agent => Some(claim_text(claims, &names.area).ok_or_else(|| {
                AuthError::AgentWithoutArea {
                    claim: names.area.clone(),
                }
            })?),
            _ => None,
        };
    Ok(Principal {
        issuer,
        subject,
        role,
        area,
        individual_id: claim_text(claims, &names.individual_id),
        name: claim_text(claims, "name"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn role(value: Value) -> Result<Role, AuthError> {
        role_from_claims(&claims(value), &ClaimNames::default())
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
    fn role_claim_may_be_a_string_or_an_array() {
        assert_eq!(role(json!({"roles": "Staff"})), Ok(Role::Staff));
        assert_eq!(role(json!({"roles": ["agent"]})), Ok(Role::Agent));
    }

    #[test]
    fn several_known_roles_pick_the_most_privileged_and_unknown_ones_are_ignored() {
        assert_eq!(
            role(json!({"roles": ["citizen", "offline_access", "STAFF", "agent"]})),
            Ok(Role::Staff)
        );
        assert_eq!(
            role(json!({"roles": ["admin", "citizen"]})),
            Ok(Role::Admin)
        );
    }

    #[test]
    fn absent_claim_defaults_to_citizen_only_when_configured() {
        assert_eq!(role(json!({})), Ok(Role::Citizen));
        let strict = ClaimNames {
            default_role_citizen: false,
            ..ClaimNames::default()
        };
        assert_eq!(
            role_from_claims(&claims(json!({})), &strict),
            Err(AuthError::NoRole {
                claim: "roles".into()
            })
        );
    }

    #[test]
    fn present_claim_without_a_known_role_is_refused_not_defaulted() {
        assert!(matches!(
            role(json!({"roles": ["offline_access"]})),
            Err(AuthError::NoRole { .. })
        ));
        assert!(matches!(
            role(json!({"roles": "wizard"})),
            Err(AuthError::NoRole { .. })
        ));
        assert!(matches!(
            role(json!({"roles": 7})),
            Err(AuthError::NoRole { .. })
        ));
    }

    #[test]
    fn nested_role_claim_is_found_by_dotted_path() {
        let names = ClaimNames {
            role: "realm_access.roles".into(),
            ..ClaimNames::default()
        };
        let c = claims(json!({"realm_access": {"roles": ["uma_authorization", "admin"]}}));
        assert_eq!(role_from_claims(&c, &names), Ok(Role::Admin));
    }

    #[test]
    fn agent_needs_an_area_and_others_get_none() {
        let names = ClaimNames::default();
        let agent = principal_from_claims(
            &claims(json!({"iss": "i", "sub": "s", "roles": "agent", "area": "KE-047"})),
            &names,
        )
        .unwrap();
        assert_eq!(agent.area.as_deref(), Some("KE-047"));
        assert_eq!(agent.actor_id(), "agent:s");
        let err = principal_from_claims(
            &claims(json!({"iss": "i", "sub": "s", "roles": "agent"})),
            &names,
        )
        .unwrap_err();
        assert_eq!(
            err,
            AuthError::AgentWithoutArea {
                claim: "area".into()
            }
        );
        let citizen = principal_from_claims(
            &claims(json!({"iss": "i", "sub": "s", "area": "KE-047",
                "individual_id": 123456, "name": "Amina"})),
            &names,
        )
        .unwrap();
        assert_eq!(citizen.role, Role::Citizen);
        assert_eq!(citizen.area, None, "only agents carry an area");
        assert_eq!(citizen.individual_id.as_deref(), Some("123456"));
        assert_eq!(citizen.name.as_deref(), Some("Amina"));
    }
}
