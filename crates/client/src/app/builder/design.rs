//! A form being designed: kept in the vault as the administrator works (a draft per
//! programme, so a crash or a closed laptop loses at most the last second), read from a JSON
//! file someone exported, written to one.
//!
//! The checks here are about the file's shape (JSON, a Form.io form, not too large). Whether a
//! component needs JavaScript is checked by the screen before publishing, and by the registry,
//! which refuses such forms whatever the app says.

use std::io::Write;
use std::path::{Path, PathBuf};

use doorstep_domain::document::sanitize_file_name;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::refusal::Refusal;
use super::super::AppError;
use crate::vault::Partition;

/// Largest form definition the builder keeps, imports or publishes. A 200-field form is about
/// a fifth of this; the registry takes bodies up to 2 MiB.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

/// Which programme a design is for, as the administrator knows it: kept with the design, so the
/// designs on this device can be listed (and worked on) without the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DesignOf {
    pub code: String,
    pub name: String,
}

/// A design kept on this device, as the programmes list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptDesign {
    pub programme: Uuid,
    pub of: DesignOf,
    pub based_on: Option<u32>,
    /// RFC 3339.
    pub saved_at: String,
}

/// A form as the builder screen edits it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct FormDesign {
    /// The Form.io form definition; translations in its `i18n` member (language → English
    /// text → translation), the renderer's own format.
    pub schema: Value,
    /// The published version this design started from; None for a programme's first form.
    pub based_on: Option<u32>,
    /// When the design was last kept on this device (RFC 3339); None when nothing was changed
    /// yet (the published version, or a blank form).
    pub saved_at: Option<String>,
}

fn draft_key(programme: Uuid) -> String {
    format!("form-design:{programme}")
}

/// A blank form: what a programme without a published form starts from.
pub fn blank() -> Value {
    json!({ "display": "form", "components": [] })
}

/// The design kept on this device for `programme`, if any.
pub fn kept(partition: &Partition, programme: Uuid) -> Result<Option<FormDesign>, AppError> {
    let Some(draft) = partition.draft(&draft_key(programme))? else {
        return Ok(None);
    };
    Ok(Some(FormDesign {
        schema: draft["schema"].clone(),
        based_on: draft["basedOn"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok()),
        saved_at: draft["savedAt"].as_str().map(str::to_owned),
    }))
}

/// Keep `schema` as the design of `programme` (`of` names it), replacing the last one.
/// Returns when it was kept.
pub fn keep(
    partition: &Partition,
    programme: Uuid,
    of: &DesignOf,
    schema: &Value,
    based_on: Option<u32>,
) -> Result<String, AppError> {
    check(schema)?;
    let saved_at = doorstep_domain::timestamp::format(OffsetDateTime::now_utc());
    partition.save_draft(
        &draft_key(programme),
        &json!({ "schema": schema, "basedOn": based_on, "savedAt": saved_at, "programme": of }),
    )?;
    Ok(saved_at)
}

/// Forget the design kept for `programme` (published, or given up).
pub fn discard(partition: &Partition, programme: Uuid) -> Result<(), AppError> {
    partition.discard_draft(&draft_key(programme))?;
    Ok(())
}

/// The designs kept on this device, last kept first.
pub fn kept_designs(partition: &Partition) -> Result<Vec<KeptDesign>, AppError> {
    Ok(partition
        .drafts_with_prefix("form-design:")?
        .into_iter()
        .filter_map(|(key, data, _)| {
            Some(KeptDesign {
                programme: key.strip_prefix("form-design:")?.parse().ok()?,
                of: serde_json::from_value(data["programme"].clone()).ok()?,
                based_on: data["basedOn"].as_u64().and_then(|v| u32::try_from(v).ok()),
                saved_at: data["savedAt"].as_str()?.to_owned(),
            })
        })
        .collect())
}

/// Whether `schema` is a Form.io form definition the builder can keep: an object with a list
/// of components, each an object naming its type, and not larger than [`MAX_FORM_BYTES`].
pub fn check(schema: &Value) -> Result<(), AppError> {
    let size = schema.to_string().len();
    if size > MAX_FORM_BYTES {
        return Err(too_large());
    }
    let Some(components) = schema
        .as_object()
        .and_then(|o| o.get("components"))
        .and_then(Value::as_array)
    else {
        return Err(Refusal::new(
            "formNoComponents",
            "This is not a Form.io form: it has no list of components (\"components\"). Export the form again from a form builder.",
        )
        .into());
    };
    check_components(components, "")
}

fn too_large() -> AppError {
    let max = MAX_FORM_BYTES / 1024;
    Refusal::new(
        "formTooLarge",
        format!(
            "The form is larger than {max} KB. Split it, or remove long texts and unused fields."
        ),
    )
    .with("max", max)
    .into()
}

/// Each component is an object with a `type`; containers' children too (`components`, and the
/// `columns` of a columns component).
fn check_components(components: &[Value], at: &str) -> Result<(), AppError> {
    for (i, component) in components.iter().enumerate() {
        let place = if at.is_empty() {
            format!("{}", i + 1)
        } else {
            format!("{at}.{}", i + 1)
        };
        let has_type = component
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
        if !has_type {
            return Err(Refusal::new(
                "formComponentShape",
                format!("Component {place} of the form is not a Form.io component (it has no \"type\")."),
            )
            .with("place", &place)
            .into());
        }
        if let Some(children) = component.get("components").and_then(Value::as_array) {
            check_components(children, &place)?;
        }
        if let Some(columns) = component.get("columns").and_then(Value::as_array) {
            for column in columns {
                if let Some(children) = column.get("components").and_then(Value::as_array) {
                    check_components(children, &place)?;
                }
            }
        }
    }
    Ok(())
}

/// Read a form from the text of a JSON file, checked as [`check`] does.
pub fn parse_import(text: &str) -> Result<Value, AppError> {
    if text.len() > MAX_FORM_BYTES {
        return Err(too_large());
    }
    let schema: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        Refusal::new(
            "formNotJson",
            format!(
                "The file is not JSON (line {}, column {}). Choose a form exported as JSON.",
                e.line(),
                e.column()
            ),
        )
        .with("line", e.line())
        .with("column", e.column())
    })?;
    check(&schema)?;
    Ok(schema)
}

/// Write `schema` as pretty JSON to a new file in `folder` named after `name` (a programme's
/// code); an existing file is never overwritten (`-2`, `-3`… are added). Returns its path.
pub fn export(folder: &Path, name: &str, schema: &Value) -> Result<PathBuf, AppError> {
    let stem = sanitize_file_name(&format!("{name}-form"));
    let text = serde_json::to_string_pretty(schema).expect("JSON values serialise");
    let failed = |e: std::io::Error| -> AppError {
        Refusal::new(
            "exportFailed",
            format!("The file could not be written in {}: {e}", folder.display()),
        )
        .with("folder", folder.display())
        .into()
    };
    std::fs::create_dir_all(folder).map_err(failed)?;
    for n in 1..1000 {
        let file = if n == 1 {
            format!("{stem}.json")
        } else {
            format!("{stem}-{n}.json")
        };
        let path = folder.join(file);
        // create_new: a file someone has there is never replaced, even if it appears meanwhile.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(text.as_bytes()).map_err(failed)?;
                f.sync_all().map_err(failed)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(failed(e)),
        }
    }
    Err(failed(std::io::Error::other(
        "too many exported forms with this name",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(e: AppError) -> &'static str {
        match e {
            AppError::InvalidInput(r) => r.key,
            other => panic!("not a refusal: {other}"),
        }
    }

    #[test]
    fn an_import_names_what_is_wrong() {
        assert_eq!(
            key_of(parse_import("{ not json").unwrap_err()),
            "formNotJson"
        );
        let e = parse_import("{\n  \"components\": [1,]\n}").unwrap_err();
        match e {
            AppError::InvalidInput(r) => {
                assert_eq!(r.key, "formNotJson");
                assert!(r.params.contains(&("line", "2".into())), "{:?}", r.params);
            }
            other => panic!("{other}"),
        }
        assert_eq!(key_of(parse_import("[]").unwrap_err()), "formNoComponents");
        assert_eq!(
            key_of(parse_import(r#"{"display":"form"}"#).unwrap_err()),
            "formNoComponents"
        );
        assert_eq!(
            key_of(parse_import(r#"{"components":{}}"#).unwrap_err()),
            "formNoComponents"
        );
        let nested = r#"{"components":[{"type":"panel","key":"p","components":[{"key":"x"}]}]}"#;
        match parse_import(nested).unwrap_err() {
            AppError::InvalidInput(r) => {
                assert_eq!(r.key, "formComponentShape");
                assert_eq!(r.params, vec![("place", "1.1".to_owned())]);
            }
            other => panic!("{other}"),
        }
        let in_column = r#"{"components":[{"type":"columns","key":"c","columns":[{"components":[{"type":""}]}]}]}"#;
        assert_eq!(
            key_of(parse_import(in_column).unwrap_err()),
            "formComponentShape"
        );
        let big = format!(
            r#"{{"components":[{{"type":"content","key":"c","html":"{}"}}]}}"#,
            "x".repeat(MAX_FORM_BYTES)
        );
        assert_eq!(key_of(parse_import(&big).unwrap_err()), "formTooLarge");
    }

    #[test]
    fn a_good_form_is_read_whole() {
        let text = "\u{feff}{\"display\":\"form\",\"components\":[{\"type\":\"textfield\",\"key\":\"name\",\"label\":\"Name\"}],\"i18n\":{\"fr\":{\"Name\":\"Nom\"}}}";
        let schema = parse_import(text).unwrap();
        assert_eq!(schema["components"][0]["key"], "name");
        assert_eq!(schema["i18n"]["fr"]["Name"], "Nom");
    }

    #[test]
    fn export_never_overwrites_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let schema = json!({"display": "form", "components": [{"type": "textfield", "key": "a"}]});
        let first = export(dir.path(), "child-benefit", &schema).unwrap();
        let second = export(dir.path(), "child-benefit", &schema).unwrap();
        assert_eq!(first.file_name().unwrap(), "child-benefit-form.json");
        assert_eq!(second.file_name().unwrap(), "child-benefit-form-2.json");
        let back = parse_import(&std::fs::read_to_string(&second).unwrap()).unwrap();
        assert_eq!(back, schema);
        // A name cannot climb out of the folder.
        let odd = export(dir.path(), "../../etc/x", &schema).unwrap();
        assert_eq!(odd.parent().unwrap(), dir.path());
    }

    #[test]
    fn designs_are_kept_per_programme_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let vault =
            crate::vault::Vault::open(dir.path(), std::sync::Arc::new(crate::vault::NoKeyStore))
                .unwrap();
        let (p, _) = vault
            .create_partition(
                "correct horse battery",
                crate::vault::KdfParams::FAST_INSECURE_FOR_TESTS,
            )
            .unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let of = DesignOf {
            code: "meals".into(),
            name: "School meals".into(),
        };
        assert_eq!(kept(&p, a).unwrap(), None);
        let schema = json!({"components": [{"type": "number", "key": "age"}]});
        let at = keep(&p, a, &of, &schema, Some(3)).unwrap();
        let design = kept(&p, a).unwrap().unwrap();
        assert_eq!(design.schema, schema);
        assert_eq!(design.based_on, Some(3));
        assert_eq!(design.saved_at.as_deref(), Some(at.as_str()));
        assert_eq!(kept(&p, b).unwrap(), None);
        assert_eq!(
            kept_designs(&p).unwrap(),
            vec![KeptDesign {
                programme: a,
                of: of.clone(),
                based_on: Some(3),
                saved_at: at
            }]
        );
        assert_eq!(
            key_of(keep(&p, b, &of, &json!({"title": "no components"}), None).unwrap_err()),
            "formNoComponents"
        );
        assert_eq!(kept(&p, b).unwrap(), None, "a refused design is not kept");
        discard(&p, a).unwrap();
        assert_eq!(kept(&p, a).unwrap(), None);
    }
}
