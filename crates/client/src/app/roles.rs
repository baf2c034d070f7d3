//! Which sections a signed-in person gets: what the registry says they are (`GET /v1/me`:
//! citizen, agent, staff or admin, from their token and the staff directory) on a device set
//! up for a purpose (personal, agent laptop, kiosk).
//!
//! The registry decides every request by itself; this only keeps people out of a device that
//! is not for them, before anything of theirs is stored on it. A citizen on an agent's laptop
//! would otherwise choose a passphrase and keep a profile there; a staff member at a kiosk would
//! leave their work behind for the next visitor.

use doorstep_domain::api::{CallerRole, Me};

use super::config::DeviceMode;
use super::refusal::Refusal;
use super::AppError;
use crate::sync::REGISTRY_RULES_DRAFT;
use crate::vault::Partition;

/// What the person is to the registry.
pub type Role = CallerRole;

/// The role assumed until the registry has answered once: what the device is set up for.
/// (Sign-in asks the registry first, so this holds only when it could not be reached then.)
pub fn assumed(mode: DeviceMode) -> Role {
    match mode {
        DeviceMode::Agent => Role::Agent,
        DeviceMode::Personal | DeviceMode::Kiosk => Role::Citizen,
    }
}

/// Whether `role` may use a device in `mode`; if not, why, in words the person can act on.
///
/// | device   | citizen | agent | staff | admin |
/// |----------|---------|-------|-------|-------|
/// | personal | yes     | no    | yes   | yes   |
/// | agent    | no      | yes   | no    | no    |
/// | kiosk    | yes     | no    | no    | no    |
pub fn refusal(mode: DeviceMode, role: Role) -> Option<Refusal> {
    match (mode, role) {
        (DeviceMode::Personal, Role::Citizen | Role::Staff | Role::Admin)
        | (DeviceMode::Agent, Role::Agent)
        | (DeviceMode::Kiosk, Role::Citizen) => None,
        (DeviceMode::Personal, Role::Agent) => Some(Refusal::new(
            "agentNeedsAgentLaptop",
            "Your account is a field agent's. Field work is done on a laptop set up for agents, which keeps your area's records for when there is no network. Sign in there, or ask your office for one.",
        )),
        (DeviceMode::Agent, _) => Some(Refusal::new(
            "notForAgentLaptop",
            "This laptop is set up for field agents, and your account is not a field agent's. If you should be one, ask your office to add you to the staff directory. To update your own record, use Doorstep on your own device or at a social office.",
        )),
        (DeviceMode::Kiosk, _) => Some(Refusal::new(
            "notForKiosk",
            "This kiosk is for visitors. Staff and field agents sign in on their own devices, so that nothing of their work stays here.",
        )),
    }
}

/// The registry's last answer kept on this device (at sign-in and after each sync).
pub fn stored(partition: &Partition) -> Result<Option<Me>, AppError> {
    // A draft written by an older version held only `consent_required`: not an answer to use.
    Ok(partition
        .draft(REGISTRY_RULES_DRAFT)?
        .and_then(|value| serde_json::from_value(value).ok()))
}

/// Keep the registry's answer, for the sections and for what it asks of agents offline.
pub fn keep(partition: &Partition, me: &Me) -> Result<(), AppError> {
    let value = serde_json::to_value(me)
        .map_err(|e| Refusal::new("internal", format!("Could not keep your role: {e}")))?;
    partition.save_draft(REGISTRY_RULES_DRAFT, &value)?;
    Ok(())
}

/// The person's role on this device: the registry's last answer, or what the device assumes.
pub fn current(partition: &Partition, mode: DeviceMode) -> Result<Role, AppError> {
    Ok(stored(partition)?.map_or_else(|| assumed(mode), |me| me.role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_device_admits_the_roles_it_is_for() {
        let modes = [DeviceMode::Personal, DeviceMode::Agent, DeviceMode::Kiosk];
        let roles = [Role::Citizen, Role::Agent, Role::Staff, Role::Admin];
        let mut admitted = Vec::new();
        for mode in modes {
            for role in roles {
                if refusal(mode, role).is_none() {
                    admitted.push((mode, role));
                }
            }
        }
        assert_eq!(
            admitted,
            [
                (DeviceMode::Personal, Role::Citizen),
                (DeviceMode::Personal, Role::Staff),
                (DeviceMode::Personal, Role::Admin),
                (DeviceMode::Agent, Role::Agent),
                (DeviceMode::Kiosk, Role::Citizen),
            ]
        );
    }

    #[test]
    fn what_a_device_assumes_is_admitted_there() {
        for mode in [DeviceMode::Personal, DeviceMode::Agent, DeviceMode::Kiosk] {
            assert!(refusal(mode, assumed(mode)).is_none(), "{mode:?}");
        }
    }

    #[test]
    fn each_refusal_has_its_own_reason() {
        assert_eq!(
            refusal(DeviceMode::Kiosk, Role::Admin).unwrap().key,
            "notForKiosk"
        );
        assert_eq!(
            refusal(DeviceMode::Agent, Role::Citizen).unwrap().key,
            "notForAgentLaptop"
        );
        assert_eq!(
            refusal(DeviceMode::Personal, Role::Agent).unwrap().key,
            "agentNeedsAgentLaptop"
        );
    }
}
