//! Imports point one way: http → graphql → service → domain, with auth, events and the
//! request-path limits beside service. Every top-level module of `src/` has a rank; a
//! `crate::…` path (in a `use` line or inline) may name a module of the same rank or
//! below, never one above. Test modules (`#[cfg(test)]`) are scanned too: none needs an
//! exception today.
use std::path::{Path, PathBuf};

/// The rank of every top-level module of `src/`, lowest first. A new module must be
/// added here (the test fails on an unranked one), which is the moment to decide it.
const RANKS: &[(&str, u8)] = &[
    // Foundations: no I/O, no knowledge of the layers above.
    ("error", 0),
    // The app's "now": the system clock, which tests advance.
    ("clock", 0),
    ("domain", 1),
    // URL builders for the pages and images served to citizens (graphql and http).
    ("links", 1),
    // The WeChat message codec (signatures, AES, XML): pure functions, no I/O.
    ("wechat", 1),
    ("config", 2),
    // Beside service: what use cases and the transports both lean on.
    ("auth", 3),
    ("events", 3),
    ("limits", 3),
    ("db", 3),
    // The object store of attachments (a directory, or S3-compatible).
    ("storage", 3),
    // The notifier: notices derived from the outbox and sent (beside events).
    ("notify", 3),
    // Demo data, written through entities and auth's hasher (called by `db`).
    ("seed", 3),
    ("service", 4),
    // Shared state every transport reads (holds service-level runtimes).
    ("state", 5),
    ("graphql", 6),
    ("http", 7),
    // Wiring: builds everything, imported by nothing in the library.
    ("app", 8),
    ("cli", 8),
    // The trace exporter and its `tracing` layer, set up with logging by `main`.
    ("telemetry", 8),
];

fn rank(module: &str) -> Option<u8> {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(path relative to the crate, source)` of every Rust file under `dir`.
fn sources(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join(dir), &mut files);
    files
        .iter()
        .map(|file| {
            let relative = file
                .strip_prefix(root)
                .expect("under the crate")
                .to_string_lossy()
                .replace('\\', "/");
            let source = std::fs::read_to_string(file).expect("readable source");
            (relative, source)
        })
        .collect()
}

/// The line without its `//` comment (doc comments name paths that are not imports).
/// A `//` inside a string literal also ends the scan of that line, which can only hide
/// a path written after a URL on the same line.
fn code_of(line: &str) -> &str {
    line.find("//").map_or(line, |at| &line[..at])
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules a `crate::` path names: `crate::a::b` names `a`,
/// `crate::{a::b, c}` names `a` and `c` (the group may span lines).
fn named_modules(after: &str) -> Vec<String> {
    let Some(group) = after.strip_prefix('{') else {
        return vec![ident_at(after).to_owned()];
    };
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut at_item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_item_start = true,
            c if c.is_whitespace() => {}
            _ if at_item_start && depth == 0 => {
                at_item_start = false;
                let name = ident_at(&group[i..]);
                if !name.is_empty() && name != "self" {
                    names.push(name.to_owned());
                }
            }
            _ => {}
        }
    }
    names
}

/// `(line number, line, module)` for every `crate::` path of a file.
fn imports(source: &str) -> Vec<(usize, String, String)> {
    // Comments removed line by line, then joined, so that a brace group spanning lines
    // is read whole while each hit keeps its line number.
    let code: Vec<&str> = source.lines().map(code_of).collect();
    let joined = code.join("\n");
    let mut found = Vec::new();
    for (at, _) in joined.match_indices("crate::") {
        let before = joined[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let line_no = joined[..at].matches('\n').count();
        for module in named_modules(&joined[at + "crate::".len()..]) {
            found.push((
                line_no + 1,
                source.lines().nth(line_no).unwrap_or("").trim().to_owned(),
                module,
            ));
        }
    }
    found
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let mut violations = Vec::new();
    for (relative, source) in &sources("src") {
        let inside = relative.trim_start_matches("src/");
        let module = inside
            .split('/')
            .next()
            .unwrap_or(inside)
            .trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = rank(module) else {
            violations.push(format!(
                "{relative}: module `{module}` has no rank in RANKS"
            ));
            continue;
        };
        for (line, text, target) in imports(source) {
            let Some(theirs) = rank(&target) else {
                violations.push(format!("{relative}:{line}: `{target}` has no rank: {text}"));
                continue;
            };
            if theirs <= own {
                continue;
            }
            violations.push(format!(
                "{relative}:{line}: {module} (rank {own}) imports {target} (rank {theirs}): {text}"
            ));
        }
    }
    assert!(
        violations.is_empty(),
        "{} backward import(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// The transports' frameworks stay in their layers: `async_graphql` in graphql and http
/// (and `error`, which turns an `AppError` into a coded GraphQL error in one place),
/// `poem` in http and the wiring. A service or the event machinery that needs one has
/// taken on a transport's job.
const FRAMEWORKS: &[(&str, &[&str])] = &[
    ("async_graphql", &["error", "graphql", "http", "app"]),
    ("poem", &["http", "app"]),
];

#[test]
fn frameworks_stay_in_their_layers() {
    let mut violations = Vec::new();
    for (relative, source) in &sources("src") {
        let inside = relative.trim_start_matches("src/");
        let module = inside
            .split('/')
            .next()
            .unwrap_or(inside)
            .trim_end_matches(".rs");
        for (number, line) in source.lines().enumerate() {
            let code = code_of(line);
            for (framework, allowed) in FRAMEWORKS {
                let named = code.match_indices(framework).any(|(at, _)| {
                    let before = code[..at].chars().next_back();
                    let after = code[at + framework.len()..].chars().next();
                    !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                        && after == Some(':')
                });
                if named && !allowed.contains(&module) {
                    violations.push(format!(
                        "{relative}:{}: {framework} in `{module}`: {}",
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_scanner_reads_groups_and_inline_paths() {
    let source = "use crate::{a::b, c::{d, e}, self};\n// crate::ignored\nlet x = crate::f::g(); $crate::h\n";
    let modules: Vec<_> = imports(source)
        .into_iter()
        .map(|(l, _, m)| (l, m))
        .collect();
    assert_eq!(
        modules,
        [(1, "a".into()), (1, "c".into()), (3, "f".into())] as [(usize, String); 3]
    );
}

/// The longest a service function may be, signature to closing brace: one screen.
const SCREEN: usize = 50;

/// `(line number, name, length)` of every function in a rustfmt-formatted source,
/// outside `#[cfg(test)]` modules. A function ends at the first `}` at its own
/// indentation (where rustfmt puts its closing brace).
fn functions(source: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = &line[..line.len() - line.trim_start().len()];
        let closing = format!("{indent}}}");
        let end_of_block = |from: usize| {
            (from..lines.len())
                .find(|&j| lines[j] == closing)
                .unwrap_or(lines.len() - 1)
        };
        if line.trim() == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            i = end_of_block(i + 1) + 1;
            continue;
        }
        if let Some(name) = fn_name(line) {
            let signature_closes = line.trim_end().ends_with('}') || line.trim_end().ends_with(';');
            let end = if signature_closes { i } else { end_of_block(i) };
            found.push((i + 1, name, end - i + 1));
        }
        i += 1;
    }
    found
}

/// The name of the function a line declares, if it declares one.
fn fn_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    if rest.starts_with("pub(") {
        rest = rest[rest.find(')')? + 1..].trim_start();
    }
    for qualifier in ["pub ", "const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(qualifier).unwrap_or(rest).trim_start();
    }
    let name = ident_at(rest.strip_prefix("fn ")?);
    (!name.is_empty()).then(|| name.to_owned())
}

#[test]
fn service_functions_fit_on_a_screen() {
    let mut too_long = Vec::new();
    for (relative, source) in &sources("src/service") {
        for (line, name, length) in functions(source) {
            if length > SCREEN {
                too_long.push(format!("{relative}:{line}: `{name}` has {length} lines"));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "{} service function(s) longer than {SCREEN} lines:\n{}",
        too_long.len(),
        too_long.join("\n")
    );
}

#[test]
fn the_function_scanner_measures_and_skips_test_modules() {
    let source = "pub(crate) async fn a(\n    x: u8,\n) {\n    x;\n}\nfn b() {}\n#[cfg(test)]\nmod tests {\n    fn c() {\n    }\n}\nconst fn d() {\n}\n";
    assert_eq!(
        functions(source),
        [(1, "a".into(), 5), (6, "b".into(), 1), (12, "d".into(), 2)]
            as [(usize, String, usize); 3]
    );
}
