//! The shape the code keeps (issue #16): no non-test function over 120 code lines (clippy's
//! `too_many_lines`, set in clippy.toml, enforces that one in `cargo clippy`), and none over 80
//! without a comment above it that says why it is long (a line of its doc or leading comment
//! that contains "long"). Code lines are counted as clippy counts them: blank lines and lines
//! holding only comments do not count. Test code (`#[cfg(test)]` modules, `tests.rs` files,
//! `#[test]` functions) is exempt.
//!
//! Reuses the comment and string stripper of `layers.rs`, so a `'{'` char literal or a brace in
//! a string does not unbalance the count.

use std::path::{Path, PathBuf};

use crate::layers::{strip, walk};

/// Over this many code lines a function needs a reason in its comment.
const EXPLAINED: usize = 80;
/// Over this many, no reason is enough (clippy.toml's `too-many-lines-threshold`).
const LIMIT: usize = 120;

/// One function: where it is, how long, whether its comment says why.
#[derive(Debug)]
struct Func {
    at: String,
    name: String,
    lines: usize,
    explained: bool,
}

#[test]
fn no_function_is_long_without_a_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.sort();
    let funcs: Vec<Func> = files
        .iter()
        .filter(|p| !is_test_file(p))
        .flat_map(|p| functions(p, root))
        .collect();
    assert!(
        funcs.len() > 500,
        "found only {} functions: the scanner is broken",
        funcs.len()
    );
    let bad: Vec<String> = funcs
        .iter()
        .filter(|f| f.lines > LIMIT || (f.lines > EXPLAINED && !f.explained))
        .map(|f| format!("{} {} ({} lines)", f.at, f.name, f.lines))
        .collect();
    assert!(
        bad.is_empty(),
        "functions over {LIMIT} code lines, or over {EXPLAINED} without a comment saying why \
         (a line containing \"long\"):\n{}",
        bad.join("\n")
    );
}

/// The counter itself: a char literal brace, a brace in a string, comments and blank lines,
/// a test module and a trait method without a body.
#[test]
fn the_counter_counts_code_lines_only() {
    let src =
        "/// Short.\nfn a() {\n    let c = '{';\n    // a comment }\n\n    let s = \"}}\";\n}\n\
               trait T {\n    fn b(&self);\n}\n\
               #[cfg(test)]\nmod tests {\n    fn c() {\n        x();\n    }\n}\n\
               /// Long because: a table.\nfn d() {\n    y();\n}\n";
    let f = scan(src, "x.rs");
    let got: Vec<(&str, usize, bool)> = f
        .iter()
        .map(|f| (f.name.as_str(), f.lines, f.explained))
        .collect();
    assert_eq!(got, [("a", 4, false), ("d", 3, true)]);
}

fn is_test_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs"
        || name.ends_with("_tests.rs")
        || p.components().any(|c| c.as_os_str() == "tests")
}

fn functions(path: &PathBuf, root: &Path) -> Vec<Func> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    scan(&text, &shown)
}

/// Every function with a body in `text`, outside test code.
fn scan(text: &str, shown: &str) -> Vec<Func> {
    let (code, _) = strip(text);
    let original: Vec<&str> = text.lines().collect();
    let b: Vec<char> = code.chars().collect();
    let line_at = line_index(&b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if starts_word(&b, i, "#[cfg(test)]") || starts_word(&b, i, "#[test]") {
            // Skip the attribute's item: up to its body's end (or its `;`).
            i = item_end(&b, i);
            continue;
        }
        if starts_word(&b, i, "fn") && b.get(i + 2).is_some_and(|c| c.is_whitespace()) {
            let name: String = b[i + 2..]
                .iter()
                .skip_while(|c| c.is_whitespace())
                .take_while(|c| c.is_alphanumeric() || **c == '_')
                .collect();
            let Some(open) = body_start(&b, i) else {
                i += 2;
                continue;
            };
            let close = matching(&b, open);
            let (first, last) = (line_at[i], line_at[close.min(b.len() - 1)]);
            let lines = code
                .lines()
                .skip(first - 1)
                .take(last - first + 1)
                .filter(|l| !l.trim().is_empty())
                .count();
            out.push(Func {
                at: format!("{shown}:{first}"),
                name,
                lines,
                explained: comment_above(&original, first)
                    .to_lowercase()
                    .contains("long"),
            });
            // Nested functions are part of their parent's length; go on after the body.
            i = close + 1;
            continue;
        }
        i += 1;
    }
    out
}

/// The 1-based line of every char.
fn line_index(b: &[char]) -> Vec<usize> {
    let mut line = 1;
    b.iter()
        .map(|&c| {
            let l = line;
            if c == '\n' {
                line += 1;
            }
            l
        })
        .collect()
}

/// `word` starts at `i`, not inside a longer identifier.
fn starts_word(b: &[char], i: usize, word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    b.get(i..i + w.len()) == Some(&w[..])
        && (i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_'))
}

/// The `{` of the body of the `fn` at `i`, or None for a declaration ending in `;`.
fn body_start(b: &[char], i: usize) -> Option<usize> {
    let mut paren = 0i32;
    for (j, &c) in b.iter().enumerate().skip(i) {
        match c {
            '(' | '[' => paren += 1,
            ')' | ']' => paren -= 1,
            '{' if paren == 0 => return Some(j),
            ';' if paren == 0 => return None,
            _ => {}
        }
    }
    None
}

/// The `}` that closes the `{` at `open` (the last char when unbalanced).
fn matching(b: &[char], open: usize) -> usize {
    let mut depth = 0i32;
    for (j, &c) in b.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    b.len().saturating_sub(1)
}

/// Past the end of the item after the attribute at `i`: its braced body or its `;`.
fn item_end(b: &[char], i: usize) -> usize {
    let attr_end = b[i..]
        .iter()
        .position(|&c| c == ']')
        .map_or(b.len(), |p| i + p + 1);
    match body_start(b, attr_end) {
        Some(open) => matching(b, open) + 1,
        None => b[attr_end..]
            .iter()
            .position(|&c| c == ';')
            .map_or(b.len(), |p| attr_end + p + 1),
    }
}

/// The comment lines right above line `first` (1-based), attributes skipped.
fn comment_above(lines: &[&str], first: usize) -> String {
    let mut said = String::new();
    for l in lines[..first - 1].iter().rev() {
        let t = l.trim();
        if t.starts_with("#[") || t.starts_with("#![") {
            continue;
        }
        if t.starts_with("//") {
            said.push_str(t);
            said.push('\n');
        } else {
            break;
        }
    }
    said
}
