//! Reading a Form.io form definition into the components Doorstep checks, refusing what the
//! subset does not offer (see the module documentation of [`super`] for the list).
//!
//! Every property a component may carry is in one of three lists: properties that only change
//! how the form looks ([`FREE`], and per kind in [`free_for`]); properties with a meaning the
//! registry implements or must see at a harmless value (read in [`Reader::component`]); anything
//! else is accepted only while empty (`null`, `false`, `""`, `[]`, `{}`), so an option Doorstep
//! does not know about cannot silently change what the citizen's form does.

use std::collections::{BTreeSet, HashMap, HashSet};

use regex::Regex;
use serde_json::{Map, Value};

use super::conditions::{Condition, Operator, Simple};
use super::dates::DateTime;
use super::js::{self, Js};
use super::logic::Logic;
use super::pattern;
use crate::validate::{code, ValidationErrors};

/// Most components (inputs, layout and content) in one form.
pub const MAX_COMPONENTS: usize = 1000;
/// Deepest nesting of layout components (panels in panels…).
pub const MAX_NESTING: usize = 10;
/// Most options of one select, radio or select-boxes field.
pub const MAX_OPTIONS: usize = 500;
/// Longest component key.
pub const MAX_KEY_CHARS: usize = 128;
/// Most parts of all the JSON-logic expressions of one form together.
pub const MAX_FORM_LOGIC_NODES: usize = 20_000;

/// The component types Doorstep offers, as Form.io names them.
pub const SUPPORTED_TYPES: &[&str] = &[
    "textfield",
    "textarea",
    "number",
    "email",
    "checkbox",
    "select",
    "radio",
    "selectboxes",
    "datetime",
    "day",
    "file",
    "button",
    "content",
    "htmlelement",
    "panel",
    "fieldset",
    "columns",
    "well",
];

/// What a component is, as far as its value is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TextField,
    TextArea,
    Email,
    Number,
    Checkbox,
    Select,
    Radio,
    SelectBoxes,
    DateTime,
    Day,
    File,
    Button,
    /// Static text or HTML: no value.
    Content,
    /// Panels, field sets, columns, wells: they group components and hold no value.
    Layout,
}

impl Kind {
    fn parse(type_name: &str) -> Option<Kind> {
        Some(match type_name {
            "textfield" => Kind::TextField,
            "textarea" => Kind::TextArea,
            "email" => Kind::Email,
            "number" => Kind::Number,
            "checkbox" => Kind::Checkbox,
            "select" => Kind::Select,
            "radio" => Kind::Radio,
            "selectboxes" => Kind::SelectBoxes,
            "datetime" => Kind::DateTime,
            "day" => Kind::Day,
            "file" => Kind::File,
            "button" => Kind::Button,
            "content" | "htmlelement" => Kind::Content,
            "panel" | "fieldset" | "columns" | "well" => Kind::Layout,
            _ => return None,
        })
    }

    pub fn has_value(self) -> bool {
        !matches!(self, Kind::Content | Kind::Layout)
    }

    /// The component's `emptyValue` in @formio/js, where it is not `null`.
    pub fn empty_value(self) -> Option<Value> {
        match self {
            Kind::TextField | Kind::TextArea | Kind::Email | Kind::DateTime | Kind::Day => {
                Some(Value::String(String::new()))
            }
            Kind::Checkbox => Some(Value::Bool(false)),
            _ => None,
        }
    }

    pub fn is_text(self) -> bool {
        matches!(self, Kind::TextField | Kind::TextArea | Kind::Email)
    }
}

/// One component of the form, in form order.
#[derive(Debug, Clone)]
pub struct Node {
    pub key: String,
    pub label: String,
    pub kind: Kind,
    pub parent: Option<usize>,
    /// `hidden: true`: never shown, value kept, not validated (as in Form.io).
    pub hidden: bool,
    pub condition: Option<Condition>,
    /// `clearOnHide`, with @formio/js's default for the type (true for fields and wells,
    /// false for panels, field sets and columns). A field hidden by its own condition loses its
    /// value unless it sets false; a layout component hidden by its own condition takes its
    /// fields' values with it only when this is true.
    pub clear_on_hide: bool,
    pub rules: Rules,
    pub calculate: Option<Logic>,
}

/// What a field's value must be.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub required: bool,
    pub min_length: Option<f64>,
    pub max_length: Option<f64>,
    pub min_words: Option<f64>,
    pub max_words: Option<f64>,
    pub pattern: Option<(String, Regex)>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `validate.integer: true`.
    pub integer: bool,
    /// `decimalLimit`: most digits after the decimal point.
    pub decimal_limit: Option<u32>,
    /// Option values of a select, radio or select boxes, as JSON text, with the value
    /// @formio/js's "auto" data type turns each into (`"1"` → `1`): a chosen value is offered
    /// when its JSON text is here (one lookup, however many options and answers).
    pub offered: HashSet<String>,
    /// Select boxes: the keys its options store under (the option values as text).
    pub boxes: HashSet<String>,
    pub multiple: bool,
    pub min_date: Option<DateTime>,
    pub max_date: Option<DateTime>,
    pub enable_time: bool,
    pub day_first: bool,
    /// `fields.{day,month,year}.required` of a day field.
    pub day_parts_required: [bool; 3],
    pub json: Option<Logic>,
    /// `validate.customMessage`, shown for any rule this field breaks.
    pub message: Option<String>,
}

/// A form definition read and checked.
#[derive(Debug, Clone)]
pub struct Form {
    pub nodes: Vec<Node>,
    /// Node indexes in an order where everything a node's condition or calculation reads, and
    /// its parent, come before it.
    pub order: Vec<usize>,
}

/// Properties with no effect on the data or its checks, allowed on every component.
const FREE: &[&str] = &[
    "type",
    "key",
    "label",
    "input",
    "placeholder",
    "prefix",
    "suffix",
    "customClass",
    "tooltip",
    "description",
    "hideLabel",
    "labelPosition",
    "labelWidth",
    "labelMargin",
    "tabindex",
    "autofocus",
    "tableView",
    "modalEdit",
    "dataGridLabel",
    "errorLabel",
    "errors",
    "attributes",
    "overlay",
    "properties",
    "tags",
    "id",
    "keyModified",
    "isNew",
    "validateOn",
    "refreshOn",
    "redrawOn",
    "protected",
    "dbIndex",
    "encrypted",
    "autocomplete",
    "spellcheck",
    "showCharCount",
    "showWordCount",
    "calculateServer",
    "defaultValue",
    "disabled",
    "hidden",
    "theme",
    "widget",
    "inputFormat",
    "inputMode",
    "applyMaskOn",
    "refreshOnChange",
    "lockKey",
    "hideOnChildrenHidden",
    "shortcut",
    "lang",
    "tree",
    "lazyLoad",
    "clearOnRefresh",
    "conditional",
    "validate",
    "clearOnHide",
    "persistent",
    "calculateValue",
    "components",
    "allowCalculateOverride",
    "customConditional",
    "customDefaultValue",
    "logic",
    "multiple",
    "unique",
    "validateWhenHidden",
    "inputMask",
    "displayMask",
    "allowMultipleMasks",
    "inputMasks",
    "mask",
    "truncateMultipleSpaces",
    "case",
    "addons",
    "serverOverride",
    "inputType",
    "kickbox",
];

/// Properties with no effect on the data, per kind.
fn free_for(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "textarea" => &["rows", "wysiwyg", "editor", "fixedSize", "autoExpand", "as"],
        "number" => &[
            "requireDecimal",
            "delimiter",
            "decimalLimit",
            "decimalSymbol",
            "thousandsSeparator",
        ],
        "select" => &[
            "dataSrc",
            "data",
            "valueProperty",
            "template",
            "idPath",
            "limit",
            "filter",
            "searchEnabled",
            "searchDebounce",
            "searchField",
            "minSearch",
            "readOnlyValue",
            "selectFields",
            "selectThreshold",
            "uniqueOptions",
            "fuseOptions",
            "indexeddb",
            "customOptions",
            "useExactSearch",
            "authenticate",
            "ignoreCache",
            "dataType",
            "sort",
            "noRefreshOnScroll",
            "disableLimit",
            "searchThreshold",
            "selectValues",
        ],
        "radio" | "selectboxes" => &[
            "values",
            "dataSrc",
            "data",
            "template",
            "authenticate",
            "ignoreCache",
            "fieldSet",
            "inline",
            "optionsLabelPosition",
            "dataType",
            "valueProperty",
            "minSelectedCountMessage",
            "maxSelectedCountMessage",
        ],
        "checkbox" => &["value", "name"],
        "datetime" => &[
            "format",
            "useLocaleSettings",
            "allowInput",
            "enableDate",
            "enableTime",
            "defaultDate",
            "displayInTimezone",
            "timezone",
            "datepickerMode",
            "datePicker",
            "timePicker",
            "customOptions",
            "enableMinDateInput",
            "enableMaxDateInput",
            "shortcutButtons",
        ],
        "day" => &[
            "fields",
            "dayFirst",
            "hideInputLabels",
            "inputsLabelPosition",
            "useLocaleSettings",
            "maxDate",
            "minDate",
        ],
        "file" => &[
            "storage",
            "image",
            "privateDownload",
            "imageSize",
            "filePattern",
            "fileMinSize",
            "fileMaxSize",
            "uploadOnly",
            "options",
            "url",
            "dir",
            "fileKey",
            "fileNameTemplate",
            "webcam",
            "webcamSize",
            "fileTypes",
            "capture",
        ],
        "content" => &["html"],
        "htmlelement" => &["tag", "attrs", "content", "className"],
        "panel" => &[
            "title",
            "breadcrumb",
            "breadcrumbClickable",
            "buttonSettings",
            "collapsible",
            "collapsed",
            "navigateOnEnter",
            "saveOnEnter",
            "scrollToTop",
            "allowPrevious",
        ],
        "fieldset" => &["legend"],
        "columns" => &["columns", "autoAdjust"],
        "well" => &[],
        "button" => &[
            "size",
            "leftIcon",
            "rightIcon",
            "block",
            "action",
            "disableOnInvalid",
            "showValidations",
            "saveOnEnter",
            "event",
        ],
        _ => &[],
    }
}

/// `validate` members the registry implements or ignores by nature (Form.io does not check
/// them on submission either).
const VALIDATE_KNOWN: &[&str] = &[
    "required",
    "minLength",
    "maxLength",
    "pattern",
    "patternMessage",
    "customMessage",
    "custom",
    "customPrivate",
    "json",
    "minWords",
    "maxWords",
    "min",
    "max",
    "step",
    "integer",
    "onlyAvailableItems",
    "strictDateValidation",
    "multiple",
    "unique",
];

/// Whether a property is at its "nothing" value.
fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

/// The setting as Form.io reads a number setting: a number, or text through `parseFloat`
/// (`parseInt` for lengths); `""`, `null` and text that is no number mean "not set".
fn number_setting(value: Option<&Value>, integer: bool) -> Option<f64> {
    let n = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) if integer => js::parse_int(s),
        Value::String(s) => js::parse_float(&Js::Str(s.clone())),
        _ => return None,
    };
    (!n.is_nan()).then_some(n)
}

struct Reader {
    errors: ValidationErrors,
    nodes: Vec<Node>,
    /// Per node, the fields its condition and calculation read (checked once all keys are known).
    reads: Vec<Vec<(String, String)>>,
    /// The simple conditions' targets, resolved once every key is known.
    pending_simple: Vec<(usize, usize, String)>,
    keys: HashMap<String, usize>,
    logic_nodes: usize,
    components: usize,
}

impl Reader {
    fn err(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(field.to_owned(), code, message);
    }

    fn components(&mut self, list: &Value, path: &str, parent: Option<usize>, depth: usize) {
        let Value::Array(items) = list else {
            self.err(path, code::INVALID_FORMAT, "Components must be a list.");
            return;
        };
        if depth > MAX_NESTING {
            self.err(
                path,
                code::OUT_OF_RANGE,
                format!("Layout is nested more than {MAX_NESTING} levels deep. Flatten the form."),
            );
            return;
        }
        for (i, item) in items.iter().enumerate() {
            self.component(item, &format!("{path}[{i}]"), parent, depth);
        }
    }

    fn component(&mut self, value: &Value, path: &str, parent: Option<usize>, depth: usize) {
        self.components += 1;
        if self.components > MAX_COMPONENTS {
            if self.components == MAX_COMPONENTS + 1 {
                self.err(
                    path,
                    code::OUT_OF_RANGE,
                    format!("The form has more than {MAX_COMPONENTS} components. Split it into several programmes' forms or remove some."),
                );
            }
            return;
        }
        let Value::Object(c) = value else {
            self.err(
                path,
                code::INVALID_FORMAT,
                "Each component must be an object.",
            );
            return;
        };
        let type_name = c.get("type").and_then(Value::as_str).unwrap_or("");
        let key = c
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let label = c
            .get("label")
            .and_then(Value::as_str)
            .filter(|l| !l.trim().is_empty())
            .unwrap_or(&key)
            .to_owned();
        let name = if key.is_empty() {
            format!("The {type_name} component at {path}")
        } else {
            format!("The component \"{key}\"")
        };
        let Some(kind) = Kind::parse(type_name) else {
            self.err(
                &format!("{path}.type"),
                code::NOT_ALLOWED,
                format!(
                    "{name} is of type {type_name:?}, which Doorstep does not offer. Use one of: {}.",
                    SUPPORTED_TYPES.join(", ")
                ),
            );
            return;
        };
        if kind.has_value() {
            self.check_key(&key, path, &name);
        }

        // Everything that would need JavaScript, named.
        let js_only = [
            ("customConditional", "a custom JavaScript condition; use a simple condition or JSON logic (conditional.json) instead"),
            ("customDefaultValue", "a JavaScript default value; use a plain default value instead"),
            ("allowCalculateOverride", "a calculated value the person may override, which the registry cannot recompute"),
            ("validateWhenHidden", "validation of a hidden field"),
        ];
        for (property, what) in js_only {
            if c.get(property).is_some_and(|v| !is_blank(v)) {
                self.err(
                    &format!("{path}.{property}"),
                    code::NOT_ALLOWED,
                    format!("{name} uses {property}: {what}. Doorstep does not run it."),
                );
            }
        }
        if c.get("logic").is_some_and(|v| !is_blank(v)) {
            self.err(
                &format!("{path}.logic"),
                code::NOT_ALLOWED,
                format!("{name} uses advanced logic (logic), whose triggers and actions Doorstep does not run. Use a condition or a calculated value instead."),
            );
        }
        if let Some(v) = c
            .get("validate")
            .and_then(|v| v.get("custom"))
            .filter(|v| !is_blank(v))
        {
            let _ = v;
            self.err(
                &format!("{path}.validate.custom"),
                code::NOT_ALLOWED,
                format!("{name} uses custom JavaScript validation (validate.custom). Doorstep does not run it: use JSON logic (validate.json) instead."),
            );
        }
        let calculate = match c.get("calculateValue") {
            Some(Value::String(s)) if !s.is_empty() => {
                self.err(
                    &format!("{path}.calculateValue"),
                    code::NOT_ALLOWED,
                    format!("{name} calculates its value with JavaScript (calculateValue as text). Doorstep does not run it: write the calculation as JSON logic."),
                );
                None
            }
            Some(v) if !is_blank(v) && kind.has_value() => {
                self.logic(v, &format!("{path}.calculateValue"), &name)
            }
            _ => None,
        };

        // Options with a meaning, at their harmless values only.
        let must = |reader: &mut Reader, property: &str, ok: bool, why: &str| {
            if !ok {
                reader.err(
                    &format!("{path}.{property}"),
                    code::NOT_ALLOWED,
                    format!("{name} sets {property}, which Doorstep does not offer: {why}."),
                );
            }
        };
        let get = |p: &str| c.get(p);
        let blank = |p: &str| c.get(p).is_none_or(is_blank);
        must(
            self,
            "unique",
            blank("unique"),
            "uniqueness across submissions needs the Form.io server",
        );
        must(
            self,
            "inputMask",
            blank("inputMask"),
            "input masks are not checked by the registry",
        );
        must(
            self,
            "displayMask",
            blank("displayMask"),
            "input masks are not checked by the registry",
        );
        must(
            self,
            "allowMultipleMasks",
            blank("allowMultipleMasks"),
            "input masks are not checked by the registry",
        );
        must(
            self,
            "inputMasks",
            blank("inputMasks"),
            "input masks are not checked by the registry",
        );
        must(
            self,
            "truncateMultipleSpaces",
            blank("truncateMultipleSpaces"),
            "it changes what was typed",
        );
        must(self, "case", blank("case"), "it changes what was typed");
        must(
            self,
            "addons",
            blank("addons"),
            "add-ons run code of their own",
        );
        must(
            self,
            "serverOverride",
            blank("serverOverride"),
            "it needs the Form.io server",
        );
        must(
            self,
            "persistent",
            !matches!(get("persistent"), Some(Value::String(_))),
            "a value kept on the device only (client-only) would differ from what is sent",
        );
        let multiple_ok = matches!(kind, Kind::Select | Kind::File) || blank("multiple");
        must(
            self,
            "multiple",
            multiple_ok,
            "several values are offered for select and file fields only",
        );
        if kind == Kind::Checkbox {
            let ok =
                get("inputType").is_none_or(|t| t == "checkbox") && blank("value") && blank("name");
            must(
                self,
                "inputType",
                ok,
                "a checkbox that acts as a radio button",
            );
        }
        if kind == Kind::TextArea {
            must(
                self,
                "editor",
                blank("editor") && blank("wysiwyg"),
                "rich-text editors store HTML",
            );
        }
        if matches!(kind, Kind::Select | Kind::Radio | Kind::SelectBoxes) {
            let ok = get("dataSrc").is_none_or(|s| s == "values");
            must(
                self,
                "dataSrc",
                ok,
                "options must be written in the form (Values)",
            );
            let data_ok = match get("data") {
                Some(Value::Object(d)) => d
                    .iter()
                    .all(|(k, v)| (k == "values" && kind == Kind::Select) || is_blank(v)),
                None | Some(Value::Null) => true,
                Some(_) => false,
            };
            must(
                self,
                "data",
                data_ok,
                "options must be written in the form (Values)",
            );
            let value_property_ok =
                get("valueProperty").is_none_or(|v| is_blank(v) || v == "value");
            must(
                self,
                "valueProperty",
                value_property_ok,
                "options must be written in the form (Values)",
            );
            let data_type_ok =
                get("dataType").is_none_or(|t| is_blank(t) || t == "auto" || t == "string");
            must(
                self,
                "dataType",
                data_type_ok,
                "only the automatic or text storage type is offered",
            );
        }
        if kind == Kind::DateTime {
            let enable_date = get("enableDate").is_none_or(|v| v == &Value::Bool(true));
            must(self, "enableDate", enable_date, "a field with a time only");
            must(
                self,
                "customOptions",
                blank("customOptions"),
                "date picker options may change the limits",
            );
            let disable_function = get("datePicker")
                .and_then(|d| d.get("disableFunction"))
                .is_none_or(is_blank);
            must(
                self,
                "datePicker",
                disable_function,
                "a JavaScript function disabling dates",
            );
        }
        if kind == Kind::Day {
            let hides = get("fields").and_then(Value::as_object).is_some_and(|f| {
                f.values()
                    .any(|part| part.get("hide").is_some_and(|h| !is_blank(h)))
            });
            must(self, "fields", !hides, "a day field with a part hidden");
            must(
                self,
                "maxDate",
                blank("maxDate") && blank("minDate"),
                "limits on a day field",
            );
        }
        if kind == Kind::File {
            let storage_ok = get("storage").is_none_or(|s| is_blank(s) || s == "base64");
            must(
                self,
                "storage",
                storage_ok,
                "files are kept in the answers (base64) only",
            );
            must(
                self,
                "url",
                blank("url"),
                "files are kept in the answers (base64) only",
            );
        }
        if kind == Kind::Button {
            let action_ok = get("action")
                .is_none_or(|a| matches!(a.as_str(), Some("submit" | "reset" | "event" | "")));
            must(
                self,
                "action",
                action_ok,
                "a button may submit, reset or raise an event",
            );
        }

        // Anything else must be blank.
        let free_here = free_for(type_name);
        for (property, v) in c {
            let known = FREE.contains(&property.as_str()) || free_here.contains(&property.as_str());
            if !known && !is_blank(v) {
                self.err(
                    &format!("{path}.{property}"),
                    code::NOT_ALLOWED,
                    format!("{name} sets {property}, an option Doorstep does not know. Remove it, or ask for it to be supported."),
                );
            }
        }

        let rules = self.rules(c, kind, path, &name);
        let index = self.nodes.len();
        self.nodes.push(Node {
            key: key.clone(),
            label,
            kind,
            parent,
            hidden: c
                .get("hidden")
                .is_some_and(|h| js::truthy(&Js::from_json(h))),
            condition: None,
            clear_on_hide: match c.get("clearOnHide") {
                Some(Value::Bool(b)) => *b,
                _ => !matches!(type_name, "panel" | "fieldset" | "columns"),
            },
            rules,
            calculate,
        });
        self.reads.push(Vec::new());
        if kind.has_value() && !key.is_empty() {
            self.keys.entry(key.clone()).or_insert(index);
        }
        let condition = self.condition(c.get("conditional"), path, &name, index);
        self.nodes[index].condition = condition;
        if let Some(calc) = &self.nodes[index].calculate {
            let reads: Vec<(String, String)> = calc
                .reads()
                .iter()
                .map(|p| (p.key.clone(), format!("{path}.calculateValue")))
                .collect();
            self.reads[index].extend(reads);
        }

        // Children.
        if type_name == "columns" {
            match c.get("columns") {
                Some(Value::Array(columns)) => {
                    for (i, column) in columns.iter().enumerate() {
                        if let Some(list) = column.get("components") {
                            self.components(
                                list,
                                &format!("{path}.columns[{i}].components"),
                                Some(index),
                                depth + 1,
                            );
                        }
                    }
                }
                None | Some(Value::Null) => {}
                Some(_) => self.err(
                    &format!("{path}.columns"),
                    code::INVALID_FORMAT,
                    "Columns must be a list.",
                ),
            }
        }
        if let Some(list) = c.get("components").filter(|l| !l.is_null()) {
            if kind == Kind::Layout {
                self.components(list, &format!("{path}.components"), Some(index), depth + 1);
            } else if !is_blank(list) {
                self.err(
                    &format!("{path}.components"),
                    code::NOT_ALLOWED,
                    format!("{name} holds components, but only panels, field sets, columns and wells may."),
                );
            }
        }
    }

    fn check_key(&mut self, key: &str, path: &str, name: &str) {
        let field = format!("{path}.key");
        if key.is_empty() {
            self.err(
                &field,
                code::REQUIRED,
                format!("{name} has no key (the name its answer is stored under)."),
            );
        } else if key.chars().count() > MAX_KEY_CHARS
            || key.starts_with('-')
            || !key
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            self.err(
                &field,
                code::INVALID_FORMAT,
                format!("{name}: a key is 1 to {MAX_KEY_CHARS} letters, digits, _ and - (no dots), not starting with -."),
            );
        } else if self.keys.contains_key(key) {
            self.err(
                &field,
                code::DUPLICATE,
                format!("{name}: another component already stores its answer under this key. Keys must be unique."),
            );
        }
    }

    fn logic(&mut self, value: &Value, field: &str, name: &str) -> Option<Logic> {
        match Logic::compile(value) {
            Ok(logic) => {
                self.logic_nodes += logic_size(value);
                if self.logic_nodes > MAX_FORM_LOGIC_NODES {
                    self.err(
                        field,
                        code::OUT_OF_RANGE,
                        format!("The form's conditions and calculations are too large together (more than {MAX_FORM_LOGIC_NODES} parts)."),
                    );
                    return None;
                }
                Some(logic)
            }
            Err(problem) => {
                let code = if problem.too_big {
                    code::OUT_OF_RANGE
                } else {
                    code::NOT_ALLOWED
                };
                self.err(
                    &format!("{field}{}", problem.at),
                    code,
                    format!("{name}: the JSON logic {}.", problem.message),
                );
                None
            }
        }
    }

    fn condition(
        &mut self,
        value: Option<&Value>,
        path: &str,
        name: &str,
        index: usize,
    ) -> Option<Condition> {
        let Some(Value::Object(conditional)) = value else {
            if value.is_some_and(|v| !is_blank(v)) {
                self.err(
                    &format!("{path}.conditional"),
                    code::INVALID_FORMAT,
                    format!("{name}: conditional must be an object."),
                );
            }
            return None;
        };
        let field = format!("{path}.conditional");
        let js_string = |v: Option<&Value>| js::to_string(&v.map_or(Js::Undefined, Js::from_json));
        // The legacy simple condition, when `when` names a field.
        if let Some(when) = conditional
            .get("when")
            .filter(|w| js::truthy(&Js::from_json(w)))
        {
            let Some(when) = when.as_str() else {
                self.err(
                    &format!("{field}.when"),
                    code::INVALID_FORMAT,
                    format!("{name}: conditional.when must name a field."),
                );
                return None;
            };
            self.reads[index].push((when.to_owned(), format!("{field}.when")));
            return Some(Condition::Legacy {
                when: when.to_owned(),
                eq: js_string(conditional.get("eq")),
                show: js_string(conditional.get("show")),
            });
        }
        let simple: Vec<&Map<String, Value>> = match conditional.get("conditions") {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        };
        // @formio/js uses them when at least one names a component and an operator.
        let usable = |c: &&Map<String, Value>| {
            c.get("component")
                .is_some_and(|v| js::truthy(&Js::from_json(v)))
                && c.get("operator")
                    .is_some_and(|v| js::truthy(&Js::from_json(v)))
        };
        if simple.iter().any(usable) {
            let mut conditions = Vec::new();
            for (i, c) in simple.iter().enumerate() {
                let at = format!("{field}.conditions[{i}]");
                let Some(key) = c
                    .get("component")
                    .and_then(Value::as_str)
                    .filter(|k| !k.is_empty())
                else {
                    // A condition without a component counts as true in @formio/js.
                    continue;
                };
                let operator_name = c.get("operator").and_then(Value::as_str).unwrap_or("");
                let Some(operator) = Operator::parse(operator_name) else {
                    self.err(
                        &format!("{at}.operator"),
                        code::NOT_ALLOWED,
                        format!(
                            "{name}: the condition operator {operator_name:?} is not offered (offered: {}).",
                            Operator::NAMES.join(", ")
                        ),
                    );
                    continue;
                };
                self.reads[index].push((key.to_owned(), format!("{at}.component")));
                self.pending_simple
                    .push((index, conditions.len(), key.to_owned()));
                conditions.push(Simple {
                    key: key.to_owned(),
                    kind: Kind::TextField,
                    operator,
                    value: c.get("value").cloned().unwrap_or(Value::Null),
                });
            }
            let show = match conditional.get("show") {
                Some(Value::String(s)) => serde_json::from_str::<Value>(s)
                    .map(|v| js::truthy(&Js::from_json(&v)))
                    .unwrap_or(!s.is_empty()),
                Some(v) => js::truthy(&Js::from_json(v)),
                None => true,
            };
            let any = conditional.get("conjunction").and_then(Value::as_str) == Some("any");
            return Some(Condition::Simple {
                show,
                any,
                conditions,
            });
        }
        match conditional.get("json") {
            Some(json @ Value::Object(_)) => {
                let logic = self.logic(json, &format!("{field}.json"), name)?;
                let reads: Vec<(String, String)> = logic
                    .reads()
                    .iter()
                    .map(|p| (p.key.clone(), format!("{field}.json")))
                    .collect();
                self.reads[index].extend(reads);
                Some(Condition::Json(logic))
            }
            Some(other) if !is_blank(other) => {
                self.err(
                    &format!("{field}.json"),
                    code::INVALID_FORMAT,
                    format!("{name}: conditional.json must be a JSON-logic object."),
                );
                None
            }
            _ => None,
        }
    }

    fn rules(&mut self, c: &Map<String, Value>, kind: Kind, path: &str, name: &str) -> Rules {
        let mut rules = Rules {
            enable_time: !matches!(c.get("enableTime"), Some(Value::Bool(false))),
            multiple: c
                .get("multiple")
                .is_some_and(|m| js::truthy(&Js::from_json(m))),
            ..Rules::default()
        };
        if !kind.has_value() {
            return rules;
        }
        let empty = Map::new();
        let validate = match c.get("validate") {
            Some(Value::Object(v)) => v,
            None | Some(Value::Null) => &empty,
            Some(_) => {
                self.err(
                    &format!("{path}.validate"),
                    code::INVALID_FORMAT,
                    format!("{name}: validate must be an object."),
                );
                &empty
            }
        };
        let field = |member: &str| format!("{path}.validate.{member}");
        for (member, value) in validate {
            if !VALIDATE_KNOWN.contains(&member.as_str()) && !is_blank(value) {
                self.err(
                    &field(member),
                    code::NOT_ALLOWED,
                    format!("{name} sets validate.{member}, a rule Doorstep does not offer. Remove it, or ask for it to be supported."),
                );
            }
        }
        for member in ["unique", "multiple"] {
            if validate.get(member).is_some_and(|v| !is_blank(v)) {
                self.err(
                    &field(member),
                    code::NOT_ALLOWED,
                    format!("{name} sets validate.{member}, which Doorstep does not offer."),
                );
            }
        }
        rules.required = validate
            .get("required")
            .is_some_and(|v| js::truthy(&Js::from_json(v)));
        rules.min_length = number_setting(validate.get("minLength"), true);
        rules.max_length = number_setting(validate.get("maxLength"), true);
        rules.min_words = number_setting(validate.get("minWords"), true);
        rules.max_words = number_setting(validate.get("maxWords"), true);
        rules.min = number_setting(validate.get("min"), false);
        rules.max = number_setting(validate.get("max"), false);
        rules.integer = validate.get("integer") == Some(&Value::Bool(true));
        rules.decimal_limit = c
            .get("decimalLimit")
            .and_then(Value::as_u64)
            .filter(|_| kind == Kind::Number)
            .map(|d| d.min(20) as u32);
        rules.message = validate
            .get("customMessage")
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .map(str::to_owned);
        match validate.get("pattern") {
            Some(Value::String(p)) if !p.is_empty() => match pattern::compile(p) {
                Ok(regex) => rules.pattern = Some((p.clone(), regex)),
                Err(why) => self.err(
                    &field("pattern"),
                    code::INVALID_FORMAT,
                    format!("{name}: the pattern {why}. Write it without back-references and look-around."),
                ),
            },
            Some(v) if !is_blank(v) => {
                self.err(&field("pattern"), code::INVALID_FORMAT, format!("{name}: the pattern must be text."))
            }
            _ => {}
        }
        match validate.get("json") {
            Some(Value::String(s)) if !s.is_empty() => self.err(
                &field("json"),
                code::INVALID_FORMAT,
                format!("{name}: validate.json must be a JSON-logic object, not text."),
            ),
            Some(v) if !is_blank(v) => {
                if let Some(logic) = self.logic(v, &field("json"), name) {
                    rules.json = Some(logic);
                }
            }
            _ => {}
        }
        match kind {
            Kind::Select => {
                let values = c.get("data").and_then(|d| d.get("values"));
                self.options(&mut rules, values, &format!("{path}.data.values"), name);
            }
            Kind::Radio | Kind::SelectBoxes => {
                self.options(&mut rules, c.get("values"), &format!("{path}.values"), name);
            }
            Kind::DateTime => {
                let picker = c.get("datePicker");
                rules.min_date = self.date_limit(
                    picker.and_then(|p| p.get("minDate")),
                    &format!("{path}.datePicker.minDate"),
                    name,
                );
                rules.max_date = self.date_limit(
                    picker.and_then(|p| p.get("maxDate")),
                    &format!("{path}.datePicker.maxDate"),
                    name,
                );
            }
            Kind::Day => {
                rules.day_first = c
                    .get("dayFirst")
                    .is_some_and(|d| js::truthy(&Js::from_json(d)));
                let fields = c.get("fields");
                for (i, part) in ["day", "month", "year"].iter().enumerate() {
                    rules.day_parts_required[i] = fields
                        .and_then(|f| f.get(part))
                        .and_then(|p| p.get("required"))
                        .is_some_and(|r| js::truthy(&Js::from_json(r)));
                }
            }
            _ => {}
        }
        rules
    }

    fn options(&mut self, rules: &mut Rules, values: Option<&Value>, field: &str, name: &str) {
        let list = match values {
            Some(Value::Array(list)) => list,
            None | Some(Value::Null) => return,
            Some(_) => {
                self.err(
                    field,
                    code::INVALID_FORMAT,
                    format!("{name}: the options must be a list."),
                );
                return;
            }
        };
        if list.len() > MAX_OPTIONS {
            self.err(
                field,
                code::OUT_OF_RANGE,
                format!("{name} has more than {MAX_OPTIONS} options."),
            );
            return;
        }
        for (i, option) in list.iter().enumerate() {
            match option.get("value") {
                Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
                    rules.offered.insert(v.to_string());
                    if let Some(auto) = auto_value(v) {
                        rules.offered.insert(auto.to_string());
                    }
                    rules.boxes.insert(match v {
                        Value::String(text) => text.clone(),
                        other => js::to_string(&Js::from_json(other)),
                    });
                }
                _ => self.err(
                    &format!("{field}[{i}].value"),
                    code::INVALID_FORMAT,
                    format!("{name}: each option needs a value (text or a number)."),
                ),
            }
        }
    }

    fn date_limit(&mut self, value: Option<&Value>, field: &str, name: &str) -> Option<DateTime> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => match DateTime::parse(s) {
                Some(d) => Some(d),
                None => {
                    self.err(
                        field,
                        code::INVALID_FORMAT,
                        format!("{name}: the date limit {s:?} must be a date such as 2024-01-31 (relative dates need JavaScript)."),
                    );
                    None
                }
            },
            Some(_) => {
                self.err(
                    field,
                    code::INVALID_FORMAT,
                    format!("{name}: the date limit must be a date such as 2024-01-31."),
                );
                None
            }
        }
    }
}

/// What @formio/js's "auto" data type stores for an option value (radio and select:
/// `"1"` → `1`, `"true"` → `true`).
fn auto_value(value: &Value) -> Option<Value> {
    let Value::String(s) = value else {
        return Some(value.clone());
    };
    let n = js::string_to_number(s);
    let parsed = js::parse_float(&Js::Str(s.clone()));
    if !parsed.is_nan() && n.is_finite() && js::number_to_string(n) == *s {
        return Some(js::number_to_json(n));
    }
    match s.as_str() {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => Some(value.clone()),
    }
}

fn logic_size(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(logic_size).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(logic_size).sum::<usize>(),
        _ => 1,
    }
}

/// Reads and checks a form definition.
pub fn read(schema: &Value) -> Result<Form, ValidationErrors> {
    let mut reader = Reader {
        errors: ValidationErrors::new(),
        nodes: Vec::new(),
        reads: Vec::new(),
        pending_simple: Vec::new(),
        keys: HashMap::new(),
        logic_nodes: 0,
        components: 0,
    };
    let Value::Object(form) = schema else {
        reader.err(
            "schema",
            code::INVALID_FORMAT,
            "The form must be a Form.io form definition: an object with a \"components\" list.",
        );
        return Err(reader.errors);
    };
    match form.get("display") {
        None | Some(Value::Null) => {}
        Some(Value::String(d)) if d == "form" => {}
        Some(other) => reader.err(
            "schema.display",
            code::NOT_ALLOWED,
            format!("The form's display is {other}: Doorstep shows forms on one page (display \"form\"), not as a wizard or PDF."),
        ),
    }
    match form.get("components") {
        Some(list) => reader.components(list, "schema.components", None, 0),
        None => reader.err(
            "schema.components",
            code::REQUIRED,
            "The form has no \"components\" list.",
        ),
    }

    // References: every field a condition or calculation reads must exist and hold a value.
    let kinds: HashMap<String, Kind> = reader
        .keys
        .iter()
        .map(|(k, i)| (k.clone(), reader.nodes[*i].kind))
        .collect();
    for (index, reads) in reader.reads.iter().enumerate() {
        for (key, field) in reads {
            if !kinds.contains_key(key) {
                let name = &reader.nodes[index].key;
                reader.errors.push(
                    field.clone(),
                    code::UNKNOWN_REFERENCE,
                    format!("The component \"{name}\" refers to the field \"{key}\", which is not in the form."),
                );
            }
        }
    }
    for (index, position, key) in std::mem::take(&mut reader.pending_simple) {
        if let (Some(kind), Some(Condition::Simple { conditions, .. })) =
            (kinds.get(&key), reader.nodes[index].condition.as_mut())
        {
            conditions[position].kind = *kind;
        }
    }
    if !reader.errors.is_empty() {
        return Err(reader.errors);
    }
    let order = order(&reader)?;
    Ok(Form {
        nodes: reader.nodes,
        order,
    })
}

/// A topological order: a node after its parent and after every field it reads. A loop
/// (a calculation reading itself, two conditions on each other) is refused, since the browser
/// would recompute it forever.
fn order(reader: &Reader) -> Result<Vec<usize>, ValidationErrors> {
    let n = reader.nodes.len();
    let mut after: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (index, node) in reader.nodes.iter().enumerate() {
        if let Some(parent) = node.parent {
            after[index].insert(parent);
        }
        for (key, _) in &reader.reads[index] {
            if let Some(&source) = reader.keys.get(key) {
                after[index].insert(source);
            }
        }
    }
    // Kahn's algorithm, smallest index first so independent components keep form order.
    let mut waiting: Vec<usize> = after.iter().map(BTreeSet::len).collect();
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (index, sources) in after.iter().enumerate() {
        for &source in sources {
            dependants[source].push(index);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(next) = ready.pop_first() {
        order.push(next);
        for &d in &dependants[next] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.insert(d);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    let mut errors = ValidationErrors::new();
    let stuck: Vec<&str> = (0..n)
        .filter(|&i| waiting[i] > 0 && reader.nodes[i].kind.has_value())
        .map(|i| reader.nodes[i].key.as_str())
        .collect();
    errors.push(
        "schema.components",
        code::INCONSISTENT,
        format!(
            "Conditions or calculations depend on each other in a loop (fields {}): a field cannot be shown or computed from itself.",
            stuck.join(", ")
        ),
    );
    Err(errors)
}
