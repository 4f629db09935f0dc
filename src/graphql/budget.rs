//! The cost budget of a GraphQL request, checked before the engine does any recursive
//! or expanding work on it.
//!
//! async-graphql's parser is recursive descent (a literal nested ~1,250 levels deep
//! overflows a worker's stack) and its validation expands fragment spreads (ten spreads
//! per level over seven levels is 10⁷ fields). Its own limits (depth, complexity,
//! recursive depth) are checked only *after* that work. So the budget is enforced in
//! two passes, both linear in the size of the request and neither recursive beyond a
//! bound it has already checked:
//!
//! 1. [`check_text`] scans the raw text as GraphQL's lexer would (strings, block
//!    strings and comments skipped) and bounds nesting of `{ [ (` and the token count.
//!    Only text that passes reaches the parser.
//! 2. [`check_document`] walks the parsed document once and evaluates the fragment
//!    graph with memoisation and an explicit stack, bounding the fields, spreads and
//!    aliases the document amounts to *after* expansion, and refusing fragment cycles.
//!
//! Written by hand: no maintained crate bounds a GraphQL document before parsing it
//! (async-graphql's and graphql-parser's own limits run after the recursive parse).
use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Name, Value};

/// What one request may make the server do. Legitimate clients stay far below each
/// bound: GraphiQL's introspection query is about 400 tokens, nests 12 levels and
/// expands to under 300 selections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Nesting of `{`, `[` and `(` in the text.
    pub max_nesting: usize,
    /// Lexical tokens in the text.
    pub max_tokens: usize,
    /// Fragment definitions in one document.
    pub max_fragments: usize,
    /// Fields selected, counting each fragment spread as the fields it expands to.
    pub max_selections: u64,
    /// Aliased fields, after expansion.
    pub max_aliases: u64,
}

pub const LIMITS: Limits = Limits {
    max_nesting: 64,
    max_tokens: 10_000,
    max_fragments: 200,
    max_selections: 1_500,
    max_aliases: 100,
};

/// Why a request is over budget. Each answers a coded request error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverBudget {
    Nesting(usize),
    Tokens(usize),
    Fragments(usize),
    Selections(u64),
    Aliases(u64),
    FragmentCycle(String),
}

impl OverBudget {
    /// The stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            OverBudget::Nesting(_) => "QUERY_TOO_DEEP",
            OverBudget::FragmentCycle(_) => "GRAPHQL_VALIDATION_FAILED",
            _ => "QUERY_TOO_COMPLEX",
        }
    }

    pub fn message(&self, limits: &Limits) -> String {
        match self {
            OverBudget::Nesting(_) => format!(
                "查询嵌套过深 (the request nests more than {} levels of braces, brackets or parentheses)",
                limits.max_nesting
            ),
            OverBudget::Tokens(_) => format!(
                "查询过长 (the request has more than {} tokens)",
                limits.max_tokens
            ),
            OverBudget::Fragments(_) => format!(
                "片段过多 (the request defines more than {} fragments)",
                limits.max_fragments
            ),
            OverBudget::Selections(_) => format!(
                "查询过于复杂 (the request selects more than {} fields once fragments are expanded)",
                limits.max_selections
            ),
            OverBudget::Aliases(_) => format!(
                "别名过多 (the request uses more than {} aliases once fragments are expanded)",
                limits.max_aliases
            ),
            OverBudget::FragmentCycle(name) => {
                format!("片段循环引用 (fragment \"{name}\" spreads itself)")
            }
        }
    }
}

/// Scans the raw text: nesting and token count, in one pass, without recursion.
pub fn check_text(query: &str, limits: &Limits) -> Result<(), OverBudget> {
    let bytes = query.as_bytes();
    let (mut i, mut depth, mut tokens) = (0usize, 0usize, 0usize);
    let count = |tokens: &mut usize| -> Result<(), OverBudget> {
        *tokens += 1;
        if *tokens > limits.max_tokens {
            return Err(OverBudget::Tokens(*tokens));
        }
        Ok(())
    };
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                count(&mut tokens)?;
                i += 3;
                loop {
                    if i >= bytes.len() {
                        break;
                    }
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                count(&mut tokens)?;
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        // An unterminated string ends at the line (the parser refuses it).
                        b'\n' | b'\r' => break,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' | b'(' => {
                count(&mut tokens)?;
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(OverBudget::Nesting(depth));
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                count(&mut tokens)?;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'.') => {
                count(&mut tokens)?;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'-' | b'+' | b'.'))
                {
                    i += 1;
                }
            }
            _ => {
                count(&mut tokens)?;
                i += 1;
            }
        }
    }
    Ok(())
}

/// What a selection set holds directly, with the fragments it spreads (by multiplicity).
#[derive(Default, Clone)]
struct Summary {
    fields: u64,
    aliases: u64,
    spreads: Vec<(Name, u64)>,
    /// Credential fields at this set's own level (inline fragments included).
    top_credentials: u64,
    /// Spreads at this set's own level (inline fragments included).
    top_spreads: Vec<(Name, u64)>,
}

fn add_spread(list: &mut Vec<(Name, u64)>, name: &Name) {
    match list.iter_mut().find(|(n, _)| n == name) {
        Some((_, count)) => *count = count.saturating_add(1),
        None => list.push((name.clone(), 1)),
    }
}

/// Summarises a selection set. Recursion follows the nesting of the text, which
/// [`check_text`] has bounded.
fn summarise(set: &SelectionSet, top: bool, credentials: &[&str], into: &mut Summary) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                into.fields = into.fields.saturating_add(1);
                if field.node.alias.is_some() {
                    into.aliases = into.aliases.saturating_add(1);
                }
                if top && credentials.contains(&field.node.name.node.as_str()) {
                    into.top_credentials += 1;
                }
                summarise(&field.node.selection_set.node, false, credentials, into);
            }
            Selection::InlineFragment(fragment) => {
                summarise(&fragment.node.selection_set.node, top, credentials, into);
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                add_spread(&mut into.spreads, name);
                if top {
                    add_spread(&mut into.top_spreads, name);
                }
            }
        }
    }
}

/// Totals of a fragment once expanded.
#[derive(Clone, Copy, Default)]
struct Expanded {
    fields: u64,
    aliases: u64,
    top_credentials: u64,
}

/// Expands every fragment once, children first, with an explicit stack.
fn expand_fragments(
    summaries: &HashMap<Name, Summary>,
) -> Result<HashMap<Name, Expanded>, OverBudget> {
    enum Mark {
        Visiting,
        Done(Expanded),
    }
    let mut marks: HashMap<&Name, Mark> = HashMap::new();
    for root in summaries.keys() {
        if marks.contains_key(root) {
            continue;
        }
        let mut stack: Vec<&Name> = vec![root];
        while let Some(&name) = stack.last() {
            let Some(summary) = summaries.get(name) else {
                // An unknown fragment: validation reports it; it expands to nothing here.
                marks.insert(name, Mark::Done(Expanded::default()));
                stack.pop();
                continue;
            };
            if !marks.contains_key(name) {
                marks.insert(name, Mark::Visiting);
            }
            let pending = summary
                .spreads
                .iter()
                .find(|(child, _)| !matches!(marks.get(child), Some(Mark::Done(_))));
            match pending {
                Some((child, _)) if matches!(marks.get(child), Some(Mark::Visiting)) => {
                    return Err(OverBudget::FragmentCycle(child.to_string()));
                }
                Some((child, _)) => stack.push(child),
                None => {
                    let mut total = Expanded {
                        fields: summary.fields,
                        aliases: summary.aliases,
                        top_credentials: summary.top_credentials,
                    };
                    for (child, times) in &summary.spreads {
                        if let Some(Mark::Done(child)) = marks.get(child) {
                            total.fields = total
                                .fields
                                .saturating_add(child.fields.saturating_mul(*times));
                            total.aliases = total
                                .aliases
                                .saturating_add(child.aliases.saturating_mul(*times));
                        }
                    }
                    for (child, times) in &summary.top_spreads {
                        if let Some(Mark::Done(child)) = marks.get(child) {
                            total.top_credentials = total
                                .top_credentials
                                .saturating_add(child.top_credentials.saturating_mul(*times));
                        }
                    }
                    marks.insert(name, Mark::Done(total));
                    stack.pop();
                }
            }
        }
    }
    Ok(marks
        .into_iter()
        .filter_map(|(name, mark)| match mark {
            Mark::Done(expanded) => Some((name.clone(), expanded)),
            Mark::Visiting => None,
        })
        .collect())
}

/// What a document amounts to once its fragments are expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentCost {
    pub selections: u64,
    pub aliases: u64,
    /// The most credential fields (`credentials`) one operation selects at its root.
    pub credential_fields: u64,
}

/// Bounds a parsed document after expansion. `credentials` names the root fields of
/// which an operation may select at most one (counted through fragments).
pub fn check_document(
    document: &ExecutableDocument,
    limits: &Limits,
    credentials: &[&str],
) -> Result<DocumentCost, OverBudget> {
    if document.fragments.len() > limits.max_fragments {
        return Err(OverBudget::Fragments(document.fragments.len()));
    }
    let summaries: HashMap<Name, Summary> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut summary = Summary::default();
            summarise(
                &fragment.node.selection_set.node,
                true,
                credentials,
                &mut summary,
            );
            (name.clone(), summary)
        })
        .collect();
    let expanded = expand_fragments(&summaries)?;
    let mut cost = DocumentCost {
        selections: 0,
        aliases: 0,
        credential_fields: 0,
    };
    // Fragment definitions are validated once each, whether spread or not.
    for summary in summaries.values() {
        cost.selections = cost.selections.saturating_add(summary.fields);
    }
    for (_, operation) in document.operations.iter() {
        let mut summary = Summary::default();
        summarise(
            &operation.node.selection_set.node,
            true,
            credentials,
            &mut summary,
        );
        let (mut fields, mut aliases, mut top) =
            (summary.fields, summary.aliases, summary.top_credentials);
        for (name, times) in &summary.spreads {
            if let Some(child) = expanded.get(name) {
                fields = fields.saturating_add(child.fields.saturating_mul(*times));
                aliases = aliases.saturating_add(child.aliases.saturating_mul(*times));
            }
        }
        for (name, times) in &summary.top_spreads {
            if let Some(child) = expanded.get(name) {
                top = top.saturating_add(child.top_credentials.saturating_mul(*times));
            }
        }
        cost.selections = cost.selections.saturating_add(fields);
        cost.aliases = cost.aliases.saturating_add(aliases);
        if operation.node.ty == OperationType::Mutation {
            cost.credential_fields = cost.credential_fields.max(top);
        }
    }
    if cost.selections > limits.max_selections {
        return Err(OverBudget::Selections(cost.selections));
    }
    if cost.aliases > limits.max_aliases {
        return Err(OverBudget::Aliases(cost.aliases));
    }
    Ok(cost)
}

/// Whether text holds a control character no field accepts: C0 and DEL, except tab,
/// line feed and carriage return (text areas send CRLF). PostgreSQL cannot store NUL at
/// all; the rest have no place in names, notes or messages either.
pub fn has_control_character(text: &str) -> bool {
    text.chars()
        .any(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
}

/// Extends `path` by `segment` while `inner` looks below it; keeps the segment only
/// when something was found there.
fn descend(
    path: &mut String,
    segment: std::fmt::Arguments,
    inner: impl FnOnce(&mut String) -> bool,
) -> bool {
    use std::fmt::Write;
    let len = path.len();
    let _ = path.write_fmt(segment);
    let found = inner(path);
    if !found {
        path.truncate(len);
    }
    found
}

/// The parts of an input value the control-character walk looks into, alike for a
/// variable's value and a literal of the document (which may also hold variables).
enum Input<'a, V> {
    Text(&'a str),
    List(&'a [V]),
    Object(&'a async_graphql::indexmap::IndexMap<Name, V>),
    Other,
}

trait InputValue: Sized {
    fn input(&self) -> Input<'_, Self>;
}

impl InputValue for Value {
    fn input(&self) -> Input<'_, Self> {
        match self {
            Value::String(s) => Input::Text(s),
            Value::List(items) => Input::List(items),
            Value::Object(map) => Input::Object(map),
            _ => Input::Other,
        }
    }
}

impl InputValue for async_graphql_value::Value {
    fn input(&self) -> Input<'_, Self> {
        use async_graphql_value::Value as Literal;
        match self {
            Literal::String(s) => Input::Text(s),
            Literal::List(items) => Input::List(items),
            Literal::Object(map) => Input::Object(map),
            _ => Input::Other,
        }
    }
}

/// Whether a value holds a control character; `path` then names where.
fn control_in<V: InputValue>(value: &V, path: &mut String) -> bool {
    match value.input() {
        Input::Text(s) => has_control_character(s),
        Input::List(items) => items.iter().enumerate().any(|(index, item)| {
            descend(path, format_args!("[{index}]"), |path| {
                control_in(item, path)
            })
        }),
        Input::Object(map) => map.iter().any(|(key, item)| {
            descend(path, format_args!(".{key}"), |path| control_in(item, path))
        }),
        Input::Other => false,
    }
}

fn control_in_set(set: &SelectionSet) -> Option<String> {
    for item in &set.items {
        let (arguments, directives, children) = match &item.node {
            Selection::Field(field) => (
                Some(&field.node.arguments),
                &field.node.directives,
                Some(&field.node.selection_set.node),
            ),
            Selection::InlineFragment(fragment) => (
                None,
                &fragment.node.directives,
                Some(&fragment.node.selection_set.node),
            ),
            Selection::FragmentSpread(spread) => (None, &spread.node.directives, None),
        };
        let all_arguments = arguments
            .into_iter()
            .flatten()
            .chain(directives.iter().flat_map(|d| d.node.arguments.iter()));
        for (name, value) in all_arguments {
            let mut path = name.node.to_string();
            if control_in(&value.node, &mut path) {
                return Some(path);
            }
        }
        if let Some(found) = children.and_then(control_in_set) {
            return Some(found);
        }
    }
    None
}

/// The input (argument path, or `$variable` path) holding a control character, if any:
/// literals anywhere in the document, default values and variables.
pub fn find_control_character(
    document: &ExecutableDocument,
    variables: &async_graphql::Variables,
) -> Option<String> {
    for (name, value) in variables.iter() {
        let mut path = format!("${name}");
        if control_in(value, &mut path) {
            return Some(path);
        }
    }
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                let mut path = format!("${}", definition.node.name.node);
                if control_in(&default.node, &mut path) {
                    return Some(path);
                }
            }
        }
        if let Some(found) = control_in_set(&operation.node.selection_set.node) {
            return Some(found);
        }
    }
    document
        .fragments
        .values()
        .find_map(|fragment| control_in_set(&fragment.node.selection_set.node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const CREDENTIALS: &[&str] = &["signIn"];

    fn nested_literal(levels: usize) -> String {
        format!(
            "{{nope(x:{}1{})}}",
            "{a:".repeat(levels),
            "}".repeat(levels)
        )
    }

    #[test]
    fn deep_literals_are_refused_before_parsing() {
        assert_eq!(
            check_text(&nested_literal(1_250), &LIMITS),
            Err(OverBudget::Nesting(65))
        );
        assert!(check_text(&nested_literal(20), &LIMITS).is_ok());
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let brackets = "[".repeat(500);
        let query = format!(
            "{{ a(x: \"{brackets}\", y: \"\"\"{brackets} \\\"\"\" {brackets}\"\"\") # {brackets}\n }}"
        );
        assert!(check_text(&query, &LIMITS).is_ok());
    }

    #[test]
    fn token_count_is_bounded() {
        let query = format!("{{ {} }}", "a ".repeat(LIMITS.max_tokens));
        assert!(matches!(
            check_text(&query, &LIMITS),
            Err(OverBudget::Tokens(_))
        ));
        let query = format!("{{ {} }}", "a ".repeat(100));
        assert!(check_text(&query, &LIMITS).is_ok());
    }

    /// `levels` fragments, each spreading the next `fan` times.
    fn fan_out(levels: usize, fan: usize) -> String {
        let mut query = String::from("{ ...F0 }\n");
        for level in 0..levels {
            let spreads = format!("...F{} ", level + 1).repeat(fan);
            query.push_str(&format!("fragment F{level} on QueryRoot {{ {spreads} }}\n"));
        }
        query.push_str(&format!(
            "fragment F{levels} on QueryRoot {{ __typename }}\n"
        ));
        query
    }

    #[test]
    fn fragment_fan_out_is_counted_after_expansion() {
        let document = parse_query(fan_out(7, 10)).unwrap();
        assert!(matches!(
            check_document(&document, &LIMITS, CREDENTIALS),
            Err(OverBudget::Selections(n)) if n >= 10_000_000
        ));
        // Twelve levels saturate instead of overflowing.
        let document = parse_query(fan_out(40, 10)).unwrap();
        assert!(matches!(
            check_document(&document, &LIMITS, CREDENTIALS),
            Err(OverBudget::Selections(u64::MAX))
        ));
        let document = parse_query(fan_out(2, 3)).unwrap();
        let cost = check_document(&document, &LIMITS, CREDENTIALS).unwrap();
        assert_eq!(cost.selections, 9 + 1);
    }

    #[test]
    fn fragment_cycles_are_refused_without_recursion() {
        let document =
            parse_query("{ ...A } fragment A on Q { x ...B } fragment B on Q { y ...A }").unwrap();
        assert!(matches!(
            check_document(&document, &LIMITS, CREDENTIALS),
            Err(OverBudget::FragmentCycle(_))
        ));
    }

    #[test]
    fn aliases_are_counted_after_expansion() {
        let aliases: String = (0..20).map(|i| format!("a{i}: x ")).collect();
        let query = format!("{{ ...A ...A ...A ...A ...A ...A }} fragment A on Q {{ {aliases} }}");
        let document = parse_query(query).unwrap();
        assert_eq!(
            check_document(&document, &LIMITS, CREDENTIALS),
            Err(OverBudget::Aliases(120))
        );
    }

    #[test]
    fn credential_fields_are_counted_through_fragments() {
        let count = |query: &str| {
            check_document(&parse_query(query).unwrap(), &LIMITS, CREDENTIALS)
                .unwrap()
                .credential_fields
        };
        assert_eq!(count("mutation { signIn(a: 1) { t } }"), 1);
        assert_eq!(count("mutation { a: signIn { t } b: signIn { t } }"), 2);
        assert_eq!(
            count("mutation { ... on M { a: signIn { t } } ... { b: signIn { t } } }"),
            2
        );
        assert_eq!(
            count("mutation { ...S ...S } fragment S on M { signIn { t } }"),
            2
        );
        assert_eq!(
            count("mutation { ...S } fragment S on M { ...T ... { x: signIn { t } } } fragment T on M { signIn { t } }"),
            2
        );
        // Nested fields of the same name are not the root mutation.
        assert_eq!(count("mutation { other { signIn } }"), 0);
        // A query's fields are not run as mutations.
        assert_eq!(count("query { a: signIn b: signIn }"), 0);
    }

    #[test]
    fn control_characters_are_found_with_their_path() {
        assert!(has_control_character("a\u{0}b"));
        assert!(has_control_character("\u{1b}[31m"));
        assert!(has_control_character("\u{7f}"));
        assert!(!has_control_character("第一行\r\n第二行\t完"));
        let document =
            parse_query(r#"{ stations(filter: { name: ["ok", "x\u0000"] }) { id } }"#).unwrap();
        assert_eq!(
            find_control_character(&document, &Default::default()).as_deref(),
            Some("filter.name[1]")
        );
        let document = parse_query("query($input: I) { a(input: $input) }").unwrap();
        let variables = async_graphql::Variables::from_json(
            serde_json::json!({ "input": { "note": "fine", "title": "bad\u{0008}" } }),
        );
        assert_eq!(
            find_control_character(&document, &variables).as_deref(),
            Some("$input.title")
        );
        let clean =
            async_graphql::Variables::from_json(serde_json::json!({ "input": "多行\n文本" }));
        assert_eq!(find_control_character(&document, &clean), None);
    }
}
