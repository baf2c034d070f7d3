//! The demo gazetteer: Kenya's two demo counties, each with two wards, covering
//! [`super::households::DEMO_AREAS`], so the demo households' addresses name real entries and an
//! agent of a demo area gets a picker to choose from.

use doorstep_domain::gazetteer::Area;
use doorstep_domain::AdminArea;

use crate::storage::{StorageError, Store};

use super::DEMO_ACTOR;

/// (code, name) of each demo area; the level and parent follow from the code (`KE.30` is a
/// county, `KE.30.1` one of its wards). The country, `KE`, is the address's country, not an area.
const DEMO_GAZETTEER: &[(&str, &str)] = &[
    ("KE.30", "Kisumu"),
    ("KE.30.1", "Kondele"),
    ("KE.30.2", "Nyalenda A"),
    ("KE.31", "Siaya"),
    ("KE.31.1", "Siaya Township"),
    ("KE.31.2", "Yala Township"),
];

/// The demo gazetteer as the registry keeps it.
pub fn gazetteer() -> Vec<Area> {
    DEMO_GAZETTEER
        .iter()
        .map(|(code, name)| {
            let parent = code
                .rsplit_once('.')
                .map(|(up, _)| up)
                .filter(|up| up.contains('.'));
            Area::new(code, parent, if parent.is_some() { 2 } else { 1 }, name)
        })
        .collect()
}

/// The address areas of a demo ward (`KE.30.1`): its county, then the ward.
pub fn chain_of(ward: &str) -> Vec<AdminArea> {
    let areas = gazetteer();
    let ward = areas
        .iter()
        .find(|a| a.code == ward)
        .unwrap_or_else(|| panic!("{ward} is not a demo ward"));
    let county = areas
        .iter()
        .find(|a| Some(&a.code) == ward.parent.as_ref())
        .expect("a demo ward has its county");
    vec![county.admin_area(), ward.admin_area()]
}

/// Seed the demo gazetteer unless the registry has one (an operator's is never replaced).
/// Answers whether it was seeded.
pub async fn load(store: &dyn Store) -> Result<bool, StorageError> {
    if !store.areas(None, 1).await?.is_empty() {
        return Ok(false);
    }
    crate::api::areas::replace_all(store, DEMO_ACTOR, gazetteer()).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::households::DEMO_AREAS;
    use doorstep_domain::gazetteer::validate_gazetteer;

    #[test]
    fn the_demo_gazetteer_is_valid_and_covers_the_demo_areas() {
        let areas = gazetteer();
        validate_gazetteer(&areas).unwrap();
        for ward in DEMO_AREAS {
            let chain = chain_of(ward);
            assert_eq!(chain.len(), 2);
            assert_eq!(chain[1].code, *ward);
            assert!(ward.starts_with(&format!("{}.", chain[0].code)));
        }
    }
}
