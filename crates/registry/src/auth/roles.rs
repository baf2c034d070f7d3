//! Which role a verified identity holds: the one place it is decided.
//!
//! An issuer vouches for *who* someone is; what they may do in the registry comes, in order, from
//! 1. their live entry in the staff directory, if the issuer may grant that role;
//! 2. the token's role claim, only if the issuer is trusted for it (`trust_role_claim`), and only
//!    the roles the issuer may grant;
//! 3. citizen, if the issuer grants citizens and `default_role_citizen` is on (eSignet);
//! 4. nothing: refused (403), saying how to be given a role.
//!
//! A role claim from an issuer not trusted for it is never read, so a forged or
//! misconfigured `roles: ["admin"]` from a citizen's provider gives nothing. A revoked directory
//! entry is not found at all (the store returns live entries only), so it falls through to
//! 2–4 and never keeps its role.

use super::principal::{Claimed, Role};
use super::AuthError;

/// What an issuer may grant, from its `[auth]` / `[[auth.issuers]]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerPolicy {
    /// Believe the token's role claim.
    pub trust_role_claim: bool,
    /// The roles its identities may hold at most, whatever the directory or a claim says.
    pub grants: Vec<Role>,
    /// A token with no role claim (and no directory entry) is a citizen, if citizens are granted.
    pub default_role_citizen: bool,
}

impl IssuerPolicy {
    /// Whether the directory can give this issuer's identities any role: only then is it worth a
    /// database read per request (an eSignet that grants citizens only never needs one).
    pub fn uses_directory(&self) -> bool {
        self.grants.iter().any(|r| *r != Role::Citizen)
    }

    fn grants(&self, role: Role) -> bool {
        self.grants.contains(&role)
    }
}

/// A live staff-directory entry for the identity, as far as roles go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirectoryGrant {
    pub role: Role,
    pub areas: Vec<String>,
}

/// Where a role came from: for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Directory,
    Claim,
    Default,
}

/// The outcome: the role, an agent's one area, a staff member's limit to some areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub role: Role,
    pub area: Option<String>,
    pub areas: Vec<String>,
    pub source: Source,
}

/// Decide the role (see the module documentation for the order). `role_claim` and `area_claim`
/// are the claim names, for the messages.
pub(crate) fn resolve_role(
    issuer: &str,
    policy: &IssuerPolicy,
    directory: Option<&DirectoryGrant>,
    claimed: &Claimed,
    claimed_area: Option<&str>,
    role_claim: &str,
    area_claim: &str,
) -> Result<Resolved, AuthError> {
    if let Some(entry) = directory {
        if policy.grants(entry.role) {
            return from_directory(entry);
        }
        // The issuer's settings changed after the grant, or the entry names the wrong issuer:
        // the cap wins, and the operator hears why the person lost the role.
        tracing::warn!(issuer, role = %entry.role, "a staff directory entry gives a role its issuer may not grant ([auth] grants); ignored");
    }
    if policy.trust_role_claim {
        if let Claimed::Roles(roles) = claimed {
            // Cumulative roles are common (a staff member is also a citizen): the most
            // privileged one the issuer may grant wins.
            let role = roles
                .iter()
                .copied()
                .filter(|r| policy.grants(*r))
                .max()
                .ok_or_else(|| AuthError::NoRole {
                    claim: role_claim.to_owned(),
                })?;
            let area = match role {
                Role::Agent => Some(claimed_area.map(str::to_owned).ok_or_else(|| {
                    AuthError::AgentWithoutArea {
                        claim: area_claim.to_owned(),
                    }
                })?),
                _ => None,
            };
            return Ok(Resolved {
                role,
                area,
                areas: Vec::new(),
                source: Source::Claim,
            });
        }
    }
    if policy.default_role_citizen && policy.grants(Role::Citizen) {
        return Ok(Resolved {
            role: Role::Citizen,
            area: None,
            areas: Vec::new(),
            source: Source::Default,
        });
    }
    Err(AuthError::NoRoleHere {
        issuer: issuer.to_owned(),
    })
}

fn from_directory(entry: &DirectoryGrant) -> Result<Resolved, AuthError> {
    let (area, areas) = match entry.role {
        // Written with exactly one area (the grant checks it); anything else is damage, and
        // an agent without an area must not become an agent of everywhere.
        Role::Agent => match entry.areas.as_slice() {
            [one] => (Some(one.clone()), Vec::new()),
            _ => {
                return Err(AuthError::AgentWithoutArea {
                    claim: "the staff directory's areas".into(),
                })
            }
        },
        Role::Staff => (None, entry.areas.clone()),
        Role::Admin | Role::Citizen => (None, Vec::new()),
    };
    Ok(Resolved {
        role: entry.role,
        area,
        areas,
        source: Source::Directory,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    const ISS: &str = "https://idp.example";

    fn policy(trust: bool, grants: &[Role], default_citizen: bool) -> IssuerPolicy {
        IssuerPolicy {
            trust_role_claim: trust,
            grants: grants.to_vec(),
            default_role_citizen: default_citizen,
        }
    }

    fn entry(role: Role, areas: &[&str]) -> DirectoryGrant {
        DirectoryGrant {
            role,
            areas: areas.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Every combination that matters: (what the issuer may do, the directory entry, the role
    /// claim, the area claim) → the role given, or the refusal.
    #[test]
    fn the_role_table() {
        let esignet = policy(false, &[Citizen], true);
        let staff_idp = policy(false, &[Agent, Staff, Admin], true);
        let trusted = policy(true, &Role::ALL, true);
        let trusted_staff_only = policy(true, &[Staff], false);
        let none = Claimed::Absent;
        let forged_admin = Claimed::Roles(vec![Admin]);
        let claims_agent = Claimed::Roles(vec![Citizen, Agent]);
        let unknown = Claimed::Roles(vec![]);
        let esignet_strict = policy(false, &[Citizen], false);
        let damaged_agent = entry(Agent, &[]);
        let claims_staff_admin = Claimed::Roles(vec![Staff, Admin]);
        let admin = entry(Admin, &[]);
        let staff_ke = entry(Staff, &["KE.30"]);
        let agent_ke = entry(Agent, &["KE.30.2"]);

        /// The role, an agent's area, a staff member's areas and the source; or the refusal.
        type Expect =
            Result<(Role, Option<&'static str>, &'static [&'static str], Source), &'static str>;
        /// Name, issuer policy, directory entry, role claim, area claim, expected.
        type Case<'a> = (
            &'a str,
            &'a IssuerPolicy,
            Option<&'a DirectoryGrant>,
            &'a Claimed,
            Option<&'a str>,
            Expect,
        );
        let cases: Vec<Case> = vec![
            // eSignet: citizens only, its role claim never read.
            (
                "esignet citizen",
                &esignet,
                None,
                &none,
                None,
                Ok((Citizen, None, &[], Source::Default)),
            ),
            (
                "esignet forged admin claim",
                &esignet,
                None,
                &forged_admin,
                None,
                Ok((Citizen, None, &[], Source::Default)),
            ),
            (
                "esignet directory admin is capped",
                &esignet,
                Some(&admin),
                &none,
                None,
                Ok((Citizen, None, &[], Source::Default)),
            ),
            (
                "esignet without default citizen",
                &esignet_strict,
                None,
                &none,
                None,
                Err("no-role-here"),
            ),
            // The ministry's provider: roles from the directory only.
            (
                "staff idp directory admin",
                &staff_idp,
                Some(&admin),
                &none,
                None,
                Ok((Admin, None, &[], Source::Directory)),
            ),
            (
                "staff idp directory staff with areas",
                &staff_idp,
                Some(&staff_ke),
                &none,
                None,
                Ok((Staff, None, &["KE.30"], Source::Directory)),
            ),
            (
                "staff idp directory agent",
                &staff_idp,
                Some(&agent_ke),
                &none,
                Some("XX"),
                Ok((Agent, Some("KE.30.2"), &[], Source::Directory)),
            ),
            (
                "staff idp not in directory",
                &staff_idp,
                None,
                &none,
                None,
                Err("no-role-here"),
            ),
            (
                "staff idp forged admin claim, not in directory",
                &staff_idp,
                None,
                &forged_admin,
                None,
                Err("no-role-here"),
            ),
            (
                "staff idp directory beats an untrusted claim",
                &staff_idp,
                Some(&staff_ke),
                &forged_admin,
                None,
                Ok((Staff, None, &["KE.30"], Source::Directory)),
            ),
            (
                "staff idp damaged agent entry",
                &staff_idp,
                Some(&damaged_agent),
                &none,
                None,
                Err("agent-without-area"),
            ),
            // An issuer trusted for its claim.
            (
                "trusted claim admin",
                &trusted,
                None,
                &forged_admin,
                None,
                Ok((Admin, None, &[], Source::Claim)),
            ),
            (
                "trusted claim agent with area",
                &trusted,
                None,
                &claims_agent,
                Some("KE.1"),
                Ok((Agent, Some("KE.1"), &[], Source::Claim)),
            ),
            (
                "trusted claim agent without area",
                &trusted,
                None,
                &claims_agent,
                None,
                Err("agent-without-area"),
            ),
            (
                "trusted claim with no known role",
                &trusted,
                None,
                &unknown,
                None,
                Err("no-role"),
            ),
            (
                "trusted, no claim: citizen",
                &trusted,
                None,
                &none,
                None,
                Ok((Citizen, None, &[], Source::Default)),
            ),
            (
                "directory beats a trusted claim",
                &trusted,
                Some(&staff_ke),
                &forged_admin,
                None,
                Ok((Staff, None, &["KE.30"], Source::Directory)),
            ),
            // A trusted claim is still capped by grants.
            (
                "trusted claim beyond grants",
                &trusted_staff_only,
                None,
                &forged_admin,
                None,
                Err("no-role"),
            ),
            (
                "trusted claim within grants",
                &trusted_staff_only,
                None,
                &claims_staff_admin,
                None,
                Ok((Staff, None, &[], Source::Claim)),
            ),
            (
                "directory beyond grants falls back, no citizen",
                &trusted_staff_only,
                Some(&admin),
                &none,
                None,
                Err("no-role-here"),
            ),
        ];
        for (name, policy, directory, claimed, area, expected) in cases {
            let got = resolve_role(ISS, policy, directory, claimed, area, "roles", "area");
            match (got, expected) {
                (Ok(r), Ok((role, area, areas, source))) => {
                    assert_eq!(
                        (
                            r.role,
                            r.area.as_deref(),
                            r.areas.iter().map(String::as_str).collect::<Vec<_>>(),
                            r.source
                        ),
                        (role, area, areas.to_vec(), source),
                        "{name}"
                    );
                }
                (Err(e), Err(kind)) => {
                    let got = match e {
                        AuthError::NoRoleHere { .. } => "no-role-here",
                        AuthError::NoRole { .. } => "no-role",
                        AuthError::AgentWithoutArea { .. } => "agent-without-area",
                        other => panic!("{name}: unexpected {other:?}"),
                    };
                    assert_eq!(got, kind, "{name}");
                }
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn only_issuers_that_grant_more_than_citizen_read_the_directory() {
        assert!(!policy(false, &[Citizen], true).uses_directory());
        assert!(policy(false, &[Citizen, Agent], true).uses_directory());
    }

    #[test]
    fn the_refusal_says_how_to_get_a_role() {
        let err = resolve_role(
            ISS,
            &policy(false, &[Staff], true),
            None,
            &Claimed::Absent,
            None,
            "roles",
            "area",
        )
        .unwrap_err();
        assert_eq!(err.kind(), crate::problem::ProblemKind::Forbidden);
        assert!(err.to_string().contains(ISS), "{err}");
        assert!(err.to_string().contains("staff directory"), "{err}");
    }
}
