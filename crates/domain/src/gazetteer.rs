//! The registry's gazetteer: the administrative areas an address may name, and the rules that
//! tie an address's [`AdminArea`]s to it.
//!
//! Codes are hierarchical and dotted (`KE.30` a county, `KE.30.1` one of its wards): a child's
//! code is its parent's code and one more segment. The registry files an agent's records under
//! the agent's area code and shows an agent every record whose area is that code or starts with
//! it and a dot, so a gazetteer whose codes did not nest would put a ward outside its county's
//! reach. Level 1 is the largest division below the country and has no parent.
//!
//! Both ends use these rules: the registry when the gazetteer is replaced and when a record with
//! an address is written, the app when an agent picks a household's areas offline. An empty
//! gazetteer means "none loaded", and then any areas are accepted (registries that never loaded
//! one keep working).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::contact::{AdminArea, MAX_ADMIN_CODE_CHARS, MAX_ADMIN_LEVEL};
use crate::validate::text::{required_line, MAX_NAME_CHARS};
use crate::validate::{code, indexed, ValidationErrors};

/// The most areas a gazetteer may hold. A country's wards are a few thousand (Kenya: 1,450);
/// villages at level 5 or 6 reach tens of thousands. Devices keep the whole list offline, so it
/// stays bounded: the registry refuses a larger one, and every answer is bounded by it.
pub const MAX_AREAS: usize = 50_000;

/// One administrative area of the gazetteer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Area {
    /// Dotted and hierarchical, e.g. `KE.30.1`: the parent's code and one more segment of
    /// letters, digits, `-` or `_`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub code: String,
    /// The area one level up; absent (null) at level 1.
    #[serde(default)]
    pub parent: Option<String>,
    /// 1 for the largest division below the country, up to 6.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 6))]
    pub level: u8,
    /// The area's name, for people.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
}

impl Area {
    pub fn new(code: &str, parent: Option<&str>, level: u8, name: &str) -> Self {
        Area {
            code: code.to_owned(),
            parent: parent.map(str::to_owned),
            level,
            name: name.to_owned(),
        }
    }

    /// The area as an address records it.
    pub fn admin_area(&self) -> AdminArea {
        AdminArea {
            level: self.level,
            code: self.code.clone(),
            name: self.name.clone(),
        }
    }
}

/// The whole gazetteer (or the part of it a caller sees): the body of `GET` and `PUT
/// /v1/areas`, ordered by level, then code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AreaList {
    /// At most 50,000 areas.
    #[cfg_attr(feature = "openapi", schema(max_items = 50000))]
    pub items: Vec<Area>,
}

/// Whether `code` has the shape of an area code: dot-separated segments of ASCII letters,
/// digits, `-` and `_`, at most [`MAX_ADMIN_CODE_CHARS`] in all.
pub fn is_valid_area_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_ADMIN_CODE_CHARS
        && code.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Check a whole gazetteer; every problem is reported by its path (`items[3].parent`), so an
/// administrator fixes a file in one go.
pub fn validate_gazetteer(items: &[Area]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if items.len() > MAX_AREAS {
        errors.push(
            "items",
            code::OUT_OF_RANGE,
            format!(
                "A gazetteer holds at most {MAX_AREAS} areas; this one has {}.",
                items.len()
            ),
        );
        return errors.into_result();
    }
    let by_code: HashMap<&str, &Area> = items.iter().map(|a| (a.code.as_str(), a)).collect();
    let mut seen = HashSet::new();
    for (index, area) in items.iter().enumerate() {
        let path = indexed("items", index);
        let field = |name: &str| format!("{path}.{name}");
        if !is_valid_area_code(&area.code) {
            errors.push(
                field("code"),
                code::INVALID_FORMAT,
                format!("Write the code as dot-separated parts of letters, digits, - and _ (e.g. KE.30.1), at most {MAX_ADMIN_CODE_CHARS} characters."),
            );
        } else if !seen.insert(area.code.as_str()) {
            errors.push(
                field("code"),
                code::DUPLICATE,
                format!(
                    "{} appears more than once; give each area its own code.",
                    area.code
                ),
            );
        }
        required_line(
            &mut errors,
            &field("name"),
            "area name",
            &area.name,
            MAX_NAME_CHARS,
        );
        if !(1..=MAX_ADMIN_LEVEL).contains(&area.level) {
            errors.push(
                field("level"),
                code::OUT_OF_RANGE,
                format!("Use an area level from 1 to {MAX_ADMIN_LEVEL}."),
            );
            continue;
        }
        match (&area.parent, area.level) {
            (None, 1) => {}
            (None, _) => errors.push(
                field("parent"),
                code::REQUIRED,
                "Name the area one level up: only level 1 has no parent.",
            ),
            (Some(_), 1) => errors.push(
                field("parent"),
                code::INCONSISTENT,
                "A level 1 area has no parent: leave it out, or correct the level.",
            ),
            (Some(parent), level) => match by_code.get(parent.as_str()) {
                None => errors.push(
                    field("parent"),
                    code::UNKNOWN_REFERENCE,
                    format!(
                        "{parent} is not an area of this gazetteer; add it, or correct the code."
                    ),
                ),
                Some(up) if up.level + 1 != level => errors.push(
                    field("level"),
                    code::INCONSISTENT,
                    format!(
                        "{} is at level {}, so its areas are at level {}.",
                        up.code,
                        up.level,
                        up.level + 1
                    ),
                ),
                Some(_) if !extends(&area.code, parent) => errors.push(
                    field("code"),
                    code::INCONSISTENT,
                    format!(
                        "An area's code is its parent's code and one more part, e.g. {parent}.1."
                    ),
                ),
                Some(_) => {}
            },
        }
    }
    errors.into_result()
}

/// Whether `child` is `parent` and one more segment.
fn extends(child: &str, parent: &str) -> bool {
    child
        .strip_prefix(parent)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|segment| !segment.is_empty() && !segment.contains('.'))
}

/// Check an address's areas against the gazetteer: each names a known code, with the level and
/// name the gazetteer gives it, and each is the parent of the next (largest first). `known`
/// looks an area up by code; the caller says whether the gazetteer is empty, which accepts
/// anything. Problems are reported by path (`admin_areas[1].code`); nest them under the
/// address's own path.
pub fn check_admin_areas<'a>(
    areas: &[AdminArea],
    gazetteer_is_empty: bool,
    known: impl Fn(&str) -> Option<&'a Area>,
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if gazetteer_is_empty {
        return Ok(());
    }
    let mut previous: Option<&Area> = None;
    for (index, chosen) in areas.iter().enumerate() {
        let path = indexed("admin_areas", index);
        let Some(area) = known(&chosen.code) else {
            errors.push(
                format!("{path}.code"),
                code::UNKNOWN_REFERENCE,
                format!(
                    "{} is not an area of the registry's list; choose the area from the list.",
                    chosen.code
                ),
            );
            previous = None;
            continue;
        };
        if chosen.level != area.level {
            errors.push(
                format!("{path}.level"),
                code::INCONSISTENT,
                format!("{} is a level {} area.", area.code, area.level),
            );
        }
        if chosen.name != area.name {
            errors.push(
                format!("{path}.name"),
                code::INCONSISTENT,
                format!("The registry names {} \"{}\".", area.code, area.name),
            );
        }
        if let Some(up) = previous {
            if area.parent.as_deref() != Some(up.code.as_str()) {
                errors.push(
                    format!("{path}.code"),
                    code::INCONSISTENT,
                    format!(
                        "{} is not within {}; choose an area of {}.",
                        area.code, up.code, up.name
                    ),
                );
            }
        }
        previous = Some(area);
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kenya() -> Vec<Area> {
        vec![
            Area::new("KE.30", None, 1, "Kisumu"),
            Area::new("KE.30.1", Some("KE.30"), 2, "Kondele"),
            Area::new("KE.31", None, 1, "Siaya"),
            Area::new("KE.31.1", Some("KE.31"), 2, "Yala Township"),
        ]
    }

    #[test]
    fn a_well_formed_gazetteer_passes() {
        validate_gazetteer(&kenya()).unwrap();
        validate_gazetteer(&[]).unwrap();
    }

    #[test]
    fn codes_have_a_dotted_shape() {
        for good in ["KE", "KE.30", "KE.30.1", "ke-30_a.1"] {
            assert!(is_valid_area_code(good), "{good}");
        }
        for bad in [
            "",
            ".KE",
            "KE.",
            "KE..30",
            "KE 30",
            "KE/30",
            &"A".repeat(65),
        ] {
            assert!(!is_valid_area_code(bad), "{bad}");
        }
    }

    #[test]
    fn every_problem_is_reported_by_index_and_field() {
        let mut items = kenya();
        items.push(Area::new("KE.30", None, 1, "Again")); // 4
        items.push(Area::new("KE 32", None, 1, "Bad code")); // 5
        items.push(Area::new("KE.33", None, 2, "No parent")); // 6
        items.push(Area::new("KE.34", Some("KE.30"), 1, "Level 1 with parent")); // 7
        items.push(Area::new("KE.30.9", Some("KE.99"), 2, "Orphan")); // 8
        items.push(Area::new("KE.30.1.1", Some("KE.30.1"), 4, "Skips a level")); // 9
        items.push(Area::new("KE.31.2", Some("KE.30"), 2, "Wrong prefix")); // 10
        items.push(Area::new("KE.35", None, 7, "Too deep")); // 11
        items.push(Area::new("KE.36", None, 1, " ")); // 12
        items.push(Area::new("KE.37", None, 1, &"n".repeat(101))); // 13
        let errors = validate_gazetteer(&items).unwrap_err();
        assert!(errors.has("items[4].code", code::DUPLICATE));
        assert!(errors.has("items[5].code", code::INVALID_FORMAT));
        assert!(errors.has("items[6].parent", code::REQUIRED));
        assert!(errors.has("items[7].parent", code::INCONSISTENT));
        assert!(errors.has("items[8].parent", code::UNKNOWN_REFERENCE));
        assert!(errors.has("items[9].level", code::INCONSISTENT));
        assert!(errors.has("items[10].code", code::INCONSISTENT));
        assert!(errors.has("items[11].level", code::OUT_OF_RANGE));
        assert!(errors.has("items[12].name", code::REQUIRED));
        assert!(errors.has("items[13].name", code::TOO_LONG));
        assert_eq!(errors.len(), 10, "{errors}");
    }

    #[test]
    fn too_many_areas_are_refused_at_once() {
        let items: Vec<Area> = (0..=MAX_AREAS)
            .map(|n| Area::new(&format!("X.{n}"), None, 1, "x"))
            .collect();
        let errors = validate_gazetteer(&items).unwrap_err();
        assert!(errors.has("items", code::OUT_OF_RANGE));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn an_address_names_a_chain_of_known_areas() {
        let gazetteer = kenya();
        let known = |c: &str| gazetteer.iter().find(|a| a.code == c);
        let chain = [gazetteer[0].admin_area(), gazetteer[1].admin_area()];
        check_admin_areas(&chain, false, known).unwrap();
        check_admin_areas(&[], false, known).unwrap();

        let mut wrong = chain.to_vec();
        wrong[0].name = "Kisumu City".into();
        wrong[1].level = 3;
        let errors = check_admin_areas(&wrong, false, known).unwrap_err();
        assert!(errors.has("admin_areas[0].name", code::INCONSISTENT));
        assert!(errors.has("admin_areas[1].level", code::INCONSISTENT));

        let broken = [gazetteer[0].admin_area(), gazetteer[3].admin_area()];
        let errors = check_admin_areas(&broken, false, known).unwrap_err();
        assert!(errors.has("admin_areas[1].code", code::INCONSISTENT));

        let unknown = [AdminArea {
            level: 1,
            code: "KE.47".into(),
            name: "Nairobi".into(),
        }];
        let errors = check_admin_areas(&unknown, false, known).unwrap_err();
        assert!(errors.has("admin_areas[0].code", code::UNKNOWN_REFERENCE));
        // No gazetteer loaded: anything goes.
        check_admin_areas(&unknown, true, |_| None).unwrap();
    }
}
