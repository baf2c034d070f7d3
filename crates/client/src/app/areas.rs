//! The administrative areas of a household's address, from the registry's gazetteer as the
//! last sync kept it (crates/client/src/sync/areas.rs): what the registration's area picker
//! offers, and the check the picked areas pass before the household is saved. The rules are the
//! registry's own (`doorstep_domain::gazetteer`), so what the device accepts the registry takes.

use std::collections::HashMap;

use doorstep_domain::gazetteer::{check_admin_areas, Area};
use doorstep_domain::validate::ValidationErrors;
use doorstep_domain::AdminArea;
use serde::Serialize;

use super::details::AddressDetails;
use super::AppError;
use crate::sync::areas::kept;
use crate::vault::Partition;

/// What the area picker offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AreaPicker {
    /// Whether a sync brought the registry's list to this device (false: never synced).
    pub known: bool,
    /// The list: the agent's own area and those above it first (largest first), then the rest
    /// by level and name. Empty when the registry has no list or the device has none yet.
    pub areas: Vec<Area>,
    /// The agent's own area and those above it, largest first: what the picker starts with.
    pub own: Vec<AdminArea>,
}

/// The picker's areas, as this device holds them.
pub fn picker(partition: &Partition) -> Result<AreaPicker, AppError> {
    let Some(kept) = kept(partition)? else {
        return Ok(AreaPicker::default());
    };
    let own = chain(&kept.items, kept.own_area.as_deref());
    let mut areas = kept.items;
    let rank = |a: &Area| own.iter().position(|o| o.code == a.code);
    areas.sort_by(|a, b| match (rank(a), rank(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => (a.level, &a.name, &a.code).cmp(&(b.level, &b.name, &b.code)),
    });
    Ok(AreaPicker {
        known: true,
        areas,
        own,
    })
}

/// `code` and the areas above it, largest first (those the list has).
fn chain(items: &[Area], code: Option<&str>) -> Vec<AdminArea> {
    let by_code: HashMap<&str, &Area> = items.iter().map(|a| (a.code.as_str(), a)).collect();
    let mut chain = Vec::new();
    let mut next = code.and_then(|c| by_code.get(c));
    // Bounded by the depth of a valid gazetteer, and by the list's size should one loop.
    while let Some(area) = next.filter(|_| chain.len() < items.len()) {
        chain.push(area.admin_area());
        next = area.parent.as_deref().and_then(|p| by_code.get(p));
    }
    chain.reverse();
    chain
}

/// Check an address's areas against the list this device holds: known codes, with the list's
/// level and name, each within the one before. Problems name `address.admin_areas[<n>].<field>`.
/// A device that never received a list accepts any areas (so does a registry without one).
pub fn check(
    partition: &Partition,
    address: Option<&AddressDetails>,
) -> Result<Result<(), ValidationErrors>, AppError> {
    let Some(address) = address.filter(|a| !a.admin_areas.is_empty()) else {
        return Ok(Ok(()));
    };
    let Some(kept) = kept(partition)? else {
        return Ok(Ok(()));
    };
    let by_code: HashMap<&str, &Area> = kept.items.iter().map(|a| (a.code.as_str(), a)).collect();
    let mut errors = ValidationErrors::new();
    errors.nest(
        "address",
        check_admin_areas(&address.admin_areas, kept.items.is_empty(), |code| {
            by_code.get(code).copied()
        }),
    );
    Ok(errors.into_result())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_runs_from_the_largest_area_down_to_the_agents() {
        let items = vec![
            Area::new("KE.30.1", Some("KE.30"), 2, "Kondele"),
            Area::new("KE.30", None, 1, "Kisumu"),
            Area::new("KE.30.2", Some("KE.30"), 2, "Nyalenda A"),
        ];
        let codes = |c: Vec<AdminArea>| c.into_iter().map(|a| a.code).collect::<Vec<_>>();
        assert_eq!(codes(chain(&items, Some("KE.30.1"))), ["KE.30", "KE.30.1"]);
        assert_eq!(codes(chain(&items, Some("KE.30"))), ["KE.30"]);
        assert!(chain(&items, Some("KE.99")).is_empty());
        assert!(chain(&items, None).is_empty());
        // A list whose parents loop cannot hang the picker.
        let looped = vec![
            Area::new("A.1", Some("A.2"), 1, "a"),
            Area::new("A.2", Some("A.1"), 1, "b"),
        ];
        assert_eq!(chain(&looped, Some("A.1")).len(), 2);
    }
}
