//! JSON logic, the subset of json-logic-js (2.0, as bundled by Form.io) that a form may use for
//! conditions, calculations and custom validation, with the same results.
//!
//! An expression is compiled once, when the form definition is checked: only the operators in
//! [`OPERATORS`] are accepted, every `var` must name a field of the form by a literal path
//! (`data.<key>` or `row.<key>`, optionally deeper: `data.choices.a`), and depth and size are
//! bounded ([`MAX_DEPTH`], [`MAX_NODES`]). Evaluation has no loops (`map`, `reduce`, `filter`,
//! `some`, `all`, `none` are not offered), so its time is bounded by the expression's size, and
//! text built by `cat` is capped at [`MAX_TEXT_BYTES`], so its memory is bounded too.

use serde_json::Value;

use super::answers::Answers;
use super::js::{self, Js};

/// Deepest nesting of operations in one expression.
pub const MAX_DEPTH: usize = 32;
/// Most nodes (operations, values, list items) in one expression.
pub const MAX_NODES: usize = 512;
/// Longest text an expression may build (`cat`), in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The operators offered, as json-logic-js names them.
pub const OPERATORS: &[&str] = &[
    "var", "missing", "==", "===", "!=", "!==", "<", "<=", ">", ">=", "!", "!!", "and", "or", "if",
    "?:", "in", "cat", "+", "-", "*", "/", "%", "min", "max",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    StrictEq,
    NotEq,
    StrictNotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    Not,
    NotNot,
    And,
    Or,
    If,
    In,
    Cat,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Min,
    Max,
    Missing,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "==" => Op::Eq,
            "===" => Op::StrictEq,
            "!=" => Op::NotEq,
            "!==" => Op::StrictNotEq,
            "<" => Op::Less,
            "<=" => Op::LessEq,
            ">" => Op::Greater,
            ">=" => Op::GreaterEq,
            "!" => Op::Not,
            "!!" => Op::NotNot,
            "and" => Op::And,
            "or" => Op::Or,
            "if" | "?:" => Op::If,
            "in" => Op::In,
            "cat" => Op::Cat,
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Rem,
            "min" => Op::Min,
            "max" => Op::Max,
            "missing" => Op::Missing,
            _ => return None,
        })
    }
}

/// A field read by a `var`: where it is in the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarPath {
    /// The path as written (`missing` answers with it).
    pub raw: String,
    /// The field's key (the segment after `data.` or `row.`).
    pub key: String,
    /// Deeper segments, e.g. the option of a select-boxes field.
    pub rest: Vec<String>,
}

impl VarPath {
    /// Reads a literal `var` path. Only the form's data may be read: `data.<key>…` or
    /// `row.<key>…` (the same object in a form without data grids).
    fn parse(path: &str) -> Result<VarPath, String> {
        let mut segments = path.split('.');
        let root = segments.next().unwrap_or("");
        if root != "data" && root != "row" {
            return Err(format!(
                "reads {path:?}: a rule may only read the form's answers, as \"data.<field key>\""
            ));
        }
        let key = segments
            .next()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| format!("reads {path:?}: name a field, as \"data.<field key>\""))?;
        Ok(VarPath {
            raw: path.to_owned(),
            key: key.to_owned(),
            rest: segments.map(str::to_owned).collect(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    /// A value written in the expression (including objects json-logic does not treat as
    /// operations: those with zero or several keys).
    Literal(Js),
    /// A list: each item is evaluated.
    List(Vec<Expr>),
    Var {
        path: VarPath,
        default: Option<Box<Expr>>,
    },
    /// `missing` with its literal keys.
    Missing(Vec<VarPath>),
    Op(Op, Vec<Expr>),
}

/// A compiled JSON-logic expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Logic {
    root: Expr,
}

/// What is wrong with an expression, with the path inside it (`["if", 1, "var"]` → `.if[1].var`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicProblem {
    pub at: String,
    pub message: String,
    /// True when the expression is too big or too deep (rather than using something not offered).
    pub too_big: bool,
}

/// An evaluation stopped by a bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("the text it builds is longer than {MAX_TEXT_BYTES} bytes")]
    TextTooLong,
    #[error("the rules read more than {} MiB of answers", super::answers::MAX_READ_BYTES / (1024 * 1024))]
    TooMuchReading,
}

impl Logic {
    /// Compiles `value`, refusing anything outside the offered subset.
    pub fn compile(value: &Value) -> Result<Logic, LogicProblem> {
        let mut nodes = 0;
        let root = compile(value, 0, &mut nodes, "")?;
        Ok(Logic { root })
    }

    /// Every field the expression reads.
    pub fn reads(&self) -> Vec<&VarPath> {
        let mut out = Vec::new();
        collect_reads(&self.root, &mut out);
        out
    }

    /// Evaluates against the form's answers (`data` and `row` both name them).
    pub fn evaluate(&self, data: &Answers) -> Result<Js, EvalError> {
        eval(&self.root, data)
    }
}

fn collect_reads<'a>(expr: &'a Expr, out: &mut Vec<&'a VarPath>) {
    match expr {
        Expr::Literal(_) => {}
        Expr::List(items) | Expr::Op(_, items) => {
            items.iter().for_each(|item| collect_reads(item, out))
        }
        Expr::Var { path, default } => {
            out.push(path);
            if let Some(default) = default {
                collect_reads(default, out);
            }
        }
        Expr::Missing(paths) => out.extend(paths),
    }
}

fn problem(at: &str, message: impl Into<String>) -> LogicProblem {
    LogicProblem {
        at: at.to_owned(),
        message: message.into(),
        too_big: false,
    }
}

fn compile(value: &Value, depth: usize, nodes: &mut usize, at: &str) -> Result<Expr, LogicProblem> {
    *nodes += 1;
    if *nodes > MAX_NODES || depth > MAX_DEPTH {
        return Err(LogicProblem {
            at: at.to_owned(),
            message: format!(
                "is too large: at most {MAX_NODES} parts and {MAX_DEPTH} levels of nesting"
            ),
            too_big: true,
        });
    }
    match value {
        Value::Array(items) => Ok(Expr::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| compile(item, depth + 1, nodes, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        )),
        // json-logic-js treats an object as an operation only when it has exactly one key.
        Value::Object(map) if map.len() == 1 => {
            let (name, args) = map.iter().next().expect("one entry");
            let here = format!("{at}.{name}");
            let args: Vec<&Value> = match args {
                Value::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            match name.as_str() {
                "var" => compile_var(&args, depth, nodes, &here),
                "missing" => compile_missing(&args, &here),
                _ => {
                    let op = Op::parse(name).ok_or_else(|| {
                        problem(
                            &here,
                            format!(
                                "uses the operation {name:?}, which Doorstep does not offer (offered: {})",
                                OPERATORS.join(" ")
                            ),
                        )
                    })?;
                    let args = args
                        .iter()
                        .enumerate()
                        .map(|(i, arg)| compile(arg, depth + 1, nodes, &format!("{here}[{i}]")))
                        .collect::<Result<_, _>>()?;
                    Ok(Expr::Op(op, args))
                }
            }
        }
        other => Ok(Expr::Literal(Js::from_json(other))),
    }
}

fn compile_var(
    args: &[&Value],
    depth: usize,
    nodes: &mut usize,
    at: &str,
) -> Result<Expr, LogicProblem> {
    let Some(Value::String(path)) = args.first() else {
        return Err(problem(
            at,
            "must name the field it reads as text, e.g. {\"var\": \"data.age\"}",
        ));
    };
    let path = VarPath::parse(path).map_err(|m| problem(at, m))?;
    let default = match args.get(1) {
        Some(d) => Some(Box::new(compile(d, depth + 1, nodes, &format!("{at}[1]"))?)),
        None => None,
    };
    Ok(Expr::Var { path, default })
}

fn compile_missing(args: &[&Value], at: &str) -> Result<Expr, LogicProblem> {
    // `{"missing": [["data.a", "data.b"]]}` and `{"missing": ["data.a", "data.b"]}` alike.
    let keys: Vec<&Value> = match args {
        [Value::Array(inner)] => inner.iter().collect(),
        _ => args.to_vec(),
    };
    keys.iter()
        .map(|key| match key {
            Value::String(path) => VarPath::parse(path).map_err(|m| problem(at, m)),
            _ => Err(problem(at, "must list the fields it checks as text")),
        })
        .collect::<Result<_, _>>()
        .map(Expr::Missing)
}

/// `{"var": path}`: the value at `path`, `null` when a step is missing or null.
fn lookup(data: &Answers, path: &VarPath) -> Result<Option<Js>, EvalError> {
    let Some(current) = data.read(&path.key)? else {
        return Ok(None);
    };
    Ok(descend(current, path))
}

/// The deeper segments of a `var` path, JavaScript's way (`items["01"]` is not an index).
fn descend(mut current: Js, path: &VarPath) -> Option<Js> {
    for segment in &path.rest {
        current = match current {
            Js::Null | Js::Undefined => return None,
            Js::Obj(map) => Js::from_json(map.get(segment)?),
            Js::Arr(items) if segment == "length" => Js::Num(items.len() as f64),
            Js::Arr(mut items) => {
                // `items["01"]` is not an index in JavaScript: only canonical numbers are.
                let index: usize = segment.parse().ok()?;
                if index.to_string() != *segment {
                    return None;
                }
                if index >= items.len() {
                    return None;
                }
                items.swap_remove(index)
            }
            Js::Str(s) if segment == "length" => Js::Num(js::utf16_len(&s) as f64),
            _ => return None,
        };
    }
    Some(current)
}

fn eval(expr: &Expr, data: &Answers) -> Result<Js, EvalError> {
    Ok(match expr {
        Expr::Literal(value) => value.clone(),
        Expr::List(items) => Js::Arr(
            items
                .iter()
                .map(|item| eval(item, data))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Var { path, default } => match lookup(data, path)? {
            Some(value) => value,
            None => match default {
                Some(default) => eval(default, data)?,
                None => Js::Null,
            },
        },
        Expr::Missing(paths) => Js::Arr({
            let mut missing = Vec::new();
            for path in paths {
                let absent = match lookup(data, path)? {
                    None | Some(Js::Null) => true,
                    Some(Js::Str(s)) => s.is_empty(),
                    Some(_) => false,
                };
                if absent {
                    missing.push(Js::Str(path.raw.clone()));
                }
            }
            missing
        }),
        Expr::Op(op, args) => eval_op(*op, args, data)?,
    })
}

fn eval_op(op: Op, args: &[Expr], data: &Answers) -> Result<Js, EvalError> {
    // `if`, `and` and `or` evaluate their arguments lazily, as json-logic-js does.
    match op {
        Op::If => {
            let mut i = 0;
            while i + 1 < args.len() {
                if js::logic_truthy(&eval(&args[i], data)?) {
                    return eval(&args[i + 1], data);
                }
                i += 2;
            }
            return match args.get(i) {
                Some(last) => eval(last, data),
                None => Ok(Js::Null),
            };
        }
        Op::And | Op::Or => {
            let mut current = Js::Undefined;
            for arg in args {
                current = eval(arg, data)?;
                if js::logic_truthy(&current) == (op == Op::Or) {
                    return Ok(current);
                }
            }
            return Ok(current);
        }
        _ => {}
    }
    let values: Vec<Js> = args
        .iter()
        .map(|arg| eval(arg, data))
        .collect::<Result<_, _>>()?;
    let arg = |i: usize| values.get(i).cloned().unwrap_or(Js::Undefined);
    let (a, b) = (arg(0), arg(1));
    Ok(match op {
        Op::Eq => Js::Bool(js::loose_equals(&a, &b)),
        Op::StrictEq => Js::Bool(js::strict_equals(&a, &b)),
        Op::NotEq => Js::Bool(!js::loose_equals(&a, &b)),
        Op::StrictNotEq => Js::Bool(!js::strict_equals(&a, &b)),
        Op::Greater => Js::Bool(js::less(&b, &a)),
        Op::GreaterEq => Js::Bool(js::less_or_equal(&b, &a)),
        // `{"<": [a, b, c]}` is "b between a and c" in json-logic-js.
        Op::Less => Js::Bool(match values.get(2) {
            None => js::less(&a, &b),
            Some(c) => js::less(&a, &b) && js::less(&b, c),
        }),
        Op::LessEq => Js::Bool(match values.get(2) {
            None => js::less_or_equal(&a, &b),
            Some(c) => js::less_or_equal(&a, &b) && js::less_or_equal(&b, c),
        }),
        Op::Not => Js::Bool(!js::logic_truthy(&a)),
        Op::NotNot => Js::Bool(js::logic_truthy(&a)),
        Op::In => Js::Bool(match &b {
            Js::Str(haystack) if !haystack.is_empty() => {
                haystack.contains(js::to_string(&a).as_str())
            }
            Js::Arr(items) => items.iter().any(|item| js::strict_equals(item, &a)),
            _ => false,
        }),
        Op::Cat => {
            let text = js::join(&values, "");
            if text.len() > MAX_TEXT_BYTES {
                return Err(EvalError::TextTooLong);
            }
            Js::Str(text)
        }
        // json-logic-js: `reduce((a, b) => parseFloat(a) + parseFloat(b), 0)`.
        Op::Add => Js::Num(values.iter().fold(0.0, |sum, v| {
            js::parse_float(&Js::Num(sum)) + js::parse_float(v)
        })),
        // `reduce((a, b) => parseFloat(a) * parseFloat(b))` without a start value: one
        // argument comes back as it was; none would throw, which the builder cannot produce.
        Op::Mul => match values.split_first() {
            None => Js::Num(f64::NAN),
            Some((first, [])) => first.clone(),
            Some((first, rest)) => {
                Js::Num(rest.iter().fold(js::parse_float(first), |product, v| {
                    product * js::parse_float(v)
                }))
            }
        },
        Op::Sub => match values.len() {
            0 | 1 => Js::Num(-js::to_number(&a)),
            _ => Js::Num(js::to_number(&a) - js::to_number(&b)),
        },
        Op::Div => Js::Num(js::to_number(&a) / js::to_number(&b)),
        // Rust's `%` on doubles is C's fmod, the sign of the dividend: JavaScript's too.
        Op::Rem => Js::Num(js::to_number(&a) % js::to_number(&b)),
        Op::Min | Op::Max => {
            let numbers = values.iter().map(js::to_number);
            let start = if op == Op::Min {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            };
            Js::Num(numbers.fold(start, |acc, n| {
                if acc.is_nan() || n.is_nan() {
                    f64::NAN
                } else if op == Op::Min {
                    acc.min(n)
                } else {
                    acc.max(n)
                }
            }))
        }
        Op::If | Op::And | Op::Or | Op::Missing => unreachable!("handled above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(logic: Value, data: Value) -> Value {
        Logic::compile(&logic)
            .unwrap()
            .evaluate(&Answers::from(data))
            .unwrap()
            .to_json()
    }

    #[test]
    fn arithmetic_coerces_like_json_logic_js() {
        let data = json!({"a": "2", "b": 3, "c": "x", "n": null});
        assert_eq!(
            run(
                json!({"+": [{"var": "data.a"}, {"var": "data.b"}]}),
                data.clone()
            ),
            json!(5)
        );
        assert_eq!(
            run(json!({"+": [{"var": "data.c"}, 1]}), data.clone()),
            Value::Null,
            "NaN"
        );
        assert_eq!(
            run(json!({"*": [{"var": "data.a"}]}), data.clone()),
            json!("2")
        );
        assert_eq!(
            run(json!({"*": [{"var": "data.a"}, 2.5]}), data.clone()),
            json!(5)
        );
        assert_eq!(
            run(json!({"-": [{"var": "data.n"}, 1]}), data.clone()),
            json!(-1)
        );
        assert_eq!(run(json!({"-": "4"}), data.clone()), json!(-4));
        assert_eq!(run(json!({"/": [1, 4]}), data.clone()), json!(0.25));
        assert_eq!(run(json!({"%": [-7, 3]}), data.clone()), json!(-1));
        assert_eq!(run(json!({"min": [3, "1", 2]}), data.clone()), json!(1));
        assert_eq!(
            run(json!({"max": []}), data.clone()),
            Value::Null,
            "-Infinity"
        );
    }

    #[test]
    fn comparisons_and_logic() {
        let data = json!({"age": 70, "name": "Amina", "tags": ["a", "b"]});
        assert_eq!(
            run(json!({">=": [{"var": "data.age"}, "65"]}), data.clone()),
            json!(true)
        );
        assert_eq!(
            run(json!({"<": [18, {"var": "data.age"}, 65]}), data.clone()),
            json!(false)
        );
        assert_eq!(
            run(json!({"==": [{"var": "data.age"}, "70"]}), data.clone()),
            json!(true)
        );
        assert_eq!(
            run(json!({"===": [{"var": "data.age"}, "70"]}), data.clone()),
            json!(false)
        );
        assert_eq!(
            run(json!({"and": [true, "x", 0, "y"]}), data.clone()),
            json!(0)
        );
        assert_eq!(
            run(json!({"or": [false, "", "z"]}), data.clone()),
            json!("z")
        );
        assert_eq!(run(json!({"!": [[]]}), data.clone()), json!(true));
        assert_eq!(
            run(json!({"in": ["min", {"var": "data.name"}]}), data.clone()),
            json!(true)
        );
        assert_eq!(
            run(json!({"in": ["b", {"var": "data.tags"}]}), data.clone()),
            json!(true)
        );
        assert_eq!(
            run(
                json!({"if": [{"<": [{"var": "data.age"}, 18]}, "child", {"<": [{"var": "data.age"}, 65]}, "adult", "older"]}),
                data.clone()
            ),
            json!("older")
        );
        assert_eq!(
            run(json!({"cat": ["a", null, 1.5, true]}), data.clone()),
            json!("a1.5true")
        );
        assert_eq!(
            run(json!({"var": ["data.none", "dflt"]}), data.clone()),
            json!("dflt")
        );
        assert_eq!(run(json!({"var": "data.tags.1"}), data.clone()), json!("b"));
        assert_eq!(
            run(json!({"missing": ["data.age", "data.other"]}), data.clone()),
            json!(["data.other"])
        );
    }

    #[test]
    fn only_the_offered_subset_compiles() {
        for (logic, needle) in [
            (json!({"map": [[1], {"var": ""}]}), "\"map\""),
            (json!({"var": "form.title"}), "form.title"),
            (json!({"var": "data"}), "name a field"),
            (json!({"var": {"cat": ["data.", "a"]}}), "as text"),
            (json!({"_sum": [1, 2]}), "\"_sum\""),
        ] {
            let err = Logic::compile(&logic).unwrap_err();
            assert!(err.message.contains(needle), "{logic}: {err:?}");
        }
        let mut deep = json!(1);
        for _ in 0..(MAX_DEPTH + 2) {
            deep = json!({"!": [deep]});
        }
        assert!(Logic::compile(&deep).unwrap_err().too_big);
        let wide = Value::Array((0..MAX_NODES).map(|i| json!(i)).collect());
        assert!(Logic::compile(&json!({"cat": wide})).unwrap_err().too_big);
        // Objects with several keys are data, not operations.
        assert_eq!(
            run(json!({"a": 1, "b": 2}), json!({})),
            json!({"a": 1, "b": 2})
        );
    }

    #[test]
    fn text_is_bounded() {
        let big = "x".repeat(MAX_TEXT_BYTES / 2 + 1);
        let data = Answers::from(json!({"t": big}));
        let logic =
            Logic::compile(&json!({"cat": [{"var": "data.t"}, {"var": "data.t"}]})).unwrap();
        assert_eq!(logic.evaluate(&data), Err(EvalError::TextTooLong));
    }

    #[test]
    fn reads_lists_every_field() {
        let logic = Logic::compile(&json!({"if": [{"var": "data.a"}, {"var": ["row.b.c", {"var": "data.d"}]}, {"missing": ["data.e"]}]})).unwrap();
        let keys: Vec<&str> = logic.reads().iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "d", "e"]);
    }
}
