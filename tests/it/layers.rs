//! The crate's layers (see `src/lib.rs`, "Layout"): no module imports a module of a higher
//! layer, and modules of one layer do not import each other in a loop.
//!
//! Reads every `src/**/*.rs` (test modules included: a unit test of a lower module that needs
//! a higher one ties the two together just the same; fixtures that need the whole crate belong
//! in `tests/it/`), strips comments and string literals, and collects every crate-internal
//! path: `use crate::…` with grouped `crate::{a::x, b}` trees, fully qualified `crate::x::y`
//! paths in code, `super::super::…` paths that climb out of their top-level module, and the
//! `"crate::…"` strings serde attributes take (`with = "crate::units::…"`). `src/main.rs` is a
//! separate crate (the binary) and is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Every top-level module and its layer. Keep in step with `src/lib.rs`.
const LAYERS: &[(&str, u8)] = &[
    ("auth", 0),
    ("cwmp", 0),
    ("net", 0),
    ("seed", 0),
    ("shutdown", 0),
    ("units", 0),
    ("cr", 1),
    ("model", 1),
    ("threshold", 1),
    ("acs", 2),
    ("device", 2),
    ("import", 2),
    ("scenario", 2),
    ("session", 2),
    ("metrics", 3),
    ("render", 3),
    ("fleet", 4),
    ("report", 4),
    ("conformance", 5),
    ("cli", 6),
];

/// One crate-internal reference: from the file's top-level module to another one.
#[derive(Debug, Clone)]
struct Import {
    from: String,
    to: String,
    /// `src/…/file.rs:line`.
    at: String,
}

#[test]
fn no_import_runs_up_a_layer_or_in_a_loop() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let imports = crate_imports(&root.join("src"));
    assert!(
        imports.len() > 100,
        "found only {} crate-internal imports: the scanner is broken",
        imports.len()
    );
    let problems = check(&imports, &declared_modules(&root.join("src/lib.rs")));
    assert!(problems.is_empty(), "layer violations:\n{problems}");
}

/// The checker itself, on made-up sources: it must see each kind of path, and must not see
/// paths in comments or strings.
#[test]
fn the_scanner_sees_every_kind_of_path() {
    let src = r#"
        use crate::{cwmp::{Envelope, Fault}, model, units::Dur};
        use crate::auth::Credentials;
        // use crate::fleet::x; in a comment
        /* crate::report::y in a block comment */
        /// doc: [`crate::conformance`]
        fn f() -> crate::seed::Seed { let s = "see crate::cli"; crate::net::listen(x); }
        #[serde(with = "crate::threshold::form")]
        mod tests {
            use super::super::super::scenario::Thing;
            use super::*;
        }
    "#;
    let mut found = Vec::new();
    scan(
        src,
        &["device".into(), "view".into()],
        "src/device/view.rs",
        &mut found,
    );
    let tos: BTreeSet<&str> = found.iter().map(|i| i.to.as_str()).collect();
    let want: BTreeSet<&str> = [
        "auth",
        "cwmp",
        "model",
        "net",
        "scenario",
        "seed",
        "threshold",
        "units",
    ]
    .into_iter()
    .collect();
    assert_eq!(tos, want, "{found:#?}");
    let lines: Vec<&str> = found
        .iter()
        .filter(|i| i.to == "net")
        .map(|i| i.at.as_str())
        .collect();
    assert_eq!(lines, ["src/device/view.rs:7"]);

    // An upward import and a same-layer loop are both reported, with their places.
    let fake = |from: &str, to: &str, at: &str| Import {
        from: from.into(),
        to: to.into(),
        at: at.into(),
    };
    let declared: BTreeSet<String> = LAYERS.iter().map(|(m, _)| m.to_string()).collect();
    let bad = [
        fake("cwmp", "fleet", "src/cwmp/a.rs:3"),
        fake("session", "scenario", "src/session/b.rs:5"),
        fake("scenario", "session", "src/scenario/c.rs:8"),
    ];
    let report = check(&bad, &declared);
    assert!(
        report.contains("src/cwmp/a.rs:3: cwmp (layer 0) imports fleet (layer 4)"),
        "{report}"
    );
    assert!(
        report.contains("src/session/b.rs:5") && report.contains("src/scenario/c.rs:8"),
        "{report}"
    );
}

/// The violations, one per line; empty when the graph keeps the layers.
fn check(imports: &[Import], declared: &BTreeSet<String>) -> String {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut out = String::new();
    let listed: BTreeSet<String> = layer.keys().map(|m| m.to_string()).collect();
    for m in declared.difference(&listed) {
        let _ = writeln!(
            out,
            "src/lib.rs: module `{m}` has no layer in tests/it/layers.rs"
        );
    }
    for m in listed.difference(declared) {
        let _ = writeln!(
            out,
            "tests/it/layers.rs: `{m}` is not a module of src/lib.rs"
        );
    }
    // Same-layer edges, for the loop check.
    let mut same: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for i in imports {
        let (Some(&lf), Some(&lt)) = (layer.get(i.from.as_str()), layer.get(i.to.as_str())) else {
            if !layer.contains_key(i.to.as_str()) && !is_external(&i.to) {
                let _ = writeln!(out, "{}: {} imports unknown module {}", i.at, i.from, i.to);
            }
            continue;
        };
        if lt > lf {
            let _ = writeln!(
                out,
                "{}: {} (layer {lf}) imports {} (layer {lt})",
                i.at, i.from, i.to
            );
        } else if lt == lf {
            same.entry(&i.from)
                .or_default()
                .entry(&i.to)
                .or_insert(&i.at);
        }
    }
    for cycle in cycles(&same) {
        let _ = write!(out, "same-layer loop:");
        for w in cycle.windows(2) {
            let at = same[w[0]][w[1]];
            let _ = write!(out, " {at}: {} -> {};", w[0], w[1]);
        }
        out.push('\n');
    }
    out
}

/// `crate::…` may name things that are not modules (macros exported at the root).
fn is_external(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Each elementary loop found by a depth-first search (as node lists closed on their start).
fn cycles<'a>(g: &BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>) -> Vec<Vec<&'a str>> {
    fn dfs<'a>(
        g: &BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>,
        node: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        found: &mut Vec<Vec<&'a str>>,
    ) {
        if let Some(pos) = path.iter().position(|n| *n == node) {
            let mut c = path[pos..].to_vec();
            c.push(node);
            found.push(c);
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node);
        for next in g.get(node).into_iter().flat_map(|m| m.keys()) {
            dfs(g, next, path, done, found);
        }
        path.pop();
        done.insert(node);
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for n in g.keys() {
        dfs(g, n, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

/// The `mod x;` declarations of `lib.rs`.
fn declared_modules(lib: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(lib).unwrap_or_else(|e| panic!("{}: {e}", lib.display()));
    strip(&text)
        .0
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("pub ").unwrap_or(l.trim());
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(|m| m.trim().to_string())
        })
        .collect()
}

fn crate_imports(src: &Path) -> Vec<Import> {
    let mut files = Vec::new();
    walk(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap_or(&f);
        if rel == Path::new("main.rs") {
            continue;
        }
        let mut module: Vec<String> = rel
            .with_extension("")
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|l| l == "mod" || l == "lib") {
            module.pop();
        }
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let shown = format!("src/{}", rel.display());
        scan(&text, &module, &shown, &mut out);
    }
    out
}

pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Collects the crate-internal references of one file whose module path is `module`
/// (`["fleet", "shard"]` for `src/fleet/shard.rs`; empty for `lib.rs`).
fn scan(text: &str, module: &[String], shown: &str, out: &mut Vec<Import>) {
    let (code, path_strings) = strip(text);
    let from = module.first().cloned().unwrap_or_default();
    let mut push = |to: &str, line: usize| {
        if !from.is_empty() && to != from && to != "self" && to != "super" && to != "crate" {
            out.push(Import {
                from: from.clone(),
                to: to.to_string(),
                at: format!("{shown}:{line}"),
            });
        }
    };
    for (line, p) in path_strings {
        if let Some(rest) = p.strip_prefix("crate::") {
            push(rest.split("::").next().unwrap_or(""), line);
        }
    }
    let toks = tokens(&code);
    // Inline `mod name { … }` blocks add to the module path (for `super::`).
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let (t, line) = (&toks[i].0, toks[i].1);
        match t.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if toks.get(i + 2).is_some_and(|t| t.0 == "{") => {
                inline.push((depth, toks[i + 1].0.clone()));
            }
            "crate" | "$crate" if toks.get(i + 1).is_some_and(|t| t.0 == "::") => {
                let prev_is_path = i > 0 && toks[i - 1].0 == "::";
                if !prev_is_path {
                    for name in first_segments(&toks, i + 2) {
                        push(&name, line);
                    }
                }
            }
            "super" if i == 0 || toks[i - 1].0 != "::" => {
                // Climb: the file's module plus its inline modules, one level per `super`.
                let mut here: Vec<String> = module.to_vec();
                here.extend(inline.iter().map(|(_, n)| n.clone()));
                let mut j = i;
                while toks.get(j).is_some_and(|t| t.0 == "super")
                    && toks.get(j + 1).is_some_and(|t| t.0 == "::")
                {
                    here.pop();
                    j += 2;
                }
                if here.is_empty() {
                    for name in first_segments(&toks, j) {
                        push(&name, line);
                    }
                }
                i = j.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The first segment of each path starting at `toks[at]`: `x` of `x::…`, or each item's
/// first segment in a group `{a::b, c, d::{e}}`.
fn first_segments(toks: &[(String, usize)], at: usize) -> Vec<String> {
    let Some((t, _)) = toks.get(at) else {
        return Vec::new();
    };
    if t != "{" {
        return vec![t.clone()];
    }
    let mut names = Vec::new();
    let mut depth = 0;
    let mut expect_item = true;
    for (t, _) in &toks[at..] {
        match t.as_str() {
            "{" => {
                depth += 1;
                if depth == 1 {
                    expect_item = true;
                }
            }
            "}" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," if depth == 1 => expect_item = true,
            _ if depth == 1 && expect_item => {
                names.push(t.clone());
                expect_item = false;
            }
            _ => {}
        }
    }
    names
}

/// Identifiers (with a leading `$` kept), `::`, and single punctuation, with their lines.
fn tokens(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' {
            let s = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((code[s..i].to_string(), line));
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(("::".into(), line));
            i += 2;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else {
            out.push(((c as char).to_string(), line));
            i += 1;
        }
    }
    out
}

/// The code with comments and string/char literals blanked (newlines kept, so lines still
/// count), and the string literals that are crate paths (`"crate::x::y"`) with their lines.
pub(crate) fn strip(text: &str) -> (String, Vec<(usize, String)>) {
    let b: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let mut paths = Vec::new();
    let (mut i, mut line) = (0, 1);
    let blank = |c: char, code: &mut String, line: &mut usize| {
        if c == '\n' {
            code.push('\n');
            *line += 1;
        } else {
            code.push(' ');
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(b[i], &mut code, &mut line);
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && (!prev_ident(&b, i) || (b[i - 1] == 'b' && !prev_ident(&b, i - 1)))
        {
            // Raw string r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                code.push(c);
                i += 1;
                continue;
            }
            j += 1;
            let start_line = line;
            let mut s = String::new();
            while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                s.push(b[j]);
                blank(b[j], &mut code, &mut line);
                j += 1;
            }
            if is_crate_path(&s) {
                paths.push((start_line, s));
            }
            i = j;
        } else if c == '"' {
            let start_line = line;
            let mut s = String::new();
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    blank(b[i], &mut code, &mut line);
                    i += 1;
                }
                if let Some(&ch) = b.get(i) {
                    s.push(ch);
                    blank(ch, &mut code, &mut line);
                }
                i += 1;
            }
            i += 1;
            if is_crate_path(&s) {
                paths.push((start_line, s));
            }
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): skip only the former.
            let close = if next == Some('\\') {
                b.get(i + 3..)
                    .and_then(|r| r.iter().position(|&x| x == '\''))
                    .map(|p| i + 3 + p)
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(end) => i = end + 1,
                None => {
                    code.push(c);
                    i += 1;
                }
            }
        } else {
            if c == '\n' {
                line += 1;
            }
            code.push(c);
            i += 1;
        }
    }
    (code, paths)
}

fn prev_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// A string that is exactly a crate path (`"crate::units::dur"`), as serde attributes take.
fn is_crate_path(s: &str) -> bool {
    s.starts_with("crate::")
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
}
