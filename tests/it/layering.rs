//! The floors of `src/lib.rs`, kept: a file imports (`crate::...`) only from floors below its
//! own, or from its own top-level module. Also the size limits: no source file over 1,000
//! lines of code, no function over 80 lines. Only the code before a file's `#[cfg(test)]` (at
//! column 0) counts, and files that are test modules themselves are skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lines of code (non-blank, non-comment) a source file may have.
const FILE_LIMIT: usize = 1_000;
/// Lines a function may take, from its `fn` line to its closing brace.
const FUNCTION_LIMIT: usize = 80;

/// The floor of each top-level module (`src/<module>.rs` or `src/<module>/`), as in lib.rs.
const FLOORS: &[(&str, u8)] = &[
    ("error", 0),
    ("text", 0),
    ("parallel", 0),
    ("model", 1),
    ("input", 2),
    ("rules", 3),
    ("report", 4),
    ("pipeline", 5),
    ("render", 5),
    ("integration", 5),
    ("forge", 6),
    ("cli", 7),
    ("main", 8),
];

/// What lib.rs re-exports from `error` (floor 0).
const ROOT_REEXPORTS: &[&str] = &["Error", "Result", "Diagnostic", "Position"];

/// One source file's code before its tests, with comments blanked and the insides of string
/// and character literals masked, line for line.
struct Source {
    /// `src/...`, as the messages name it.
    path: String,
    code: String,
}

#[test]
fn every_file_imports_only_from_lower_floors() {
    let offenders: Vec<String> = sources()
        .iter()
        .flat_map(|s| upward_imports(&s.path, &s.code))
        .collect();
    assert!(
        offenders.is_empty(),
        "imports that do not go down a floor (see the table in src/lib.rs):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_source_file_has_more_than_1000_lines_of_code() {
    let offenders: Vec<String> = sources()
        .iter()
        .filter_map(|s| {
            let lines = code_lines(&s.code);
            (lines > FILE_LIMIT).then(|| format!("{}: {lines} lines of code", s.path))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "source files over {FILE_LIMIT} lines of code (tests not counted):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let offenders: Vec<String> = sources()
        .iter()
        .flat_map(|s| long_functions(&s.path, &s.code, FUNCTION_LIMIT))
        .collect();
    assert!(
        offenders.is_empty(),
        "functions over {FUNCTION_LIMIT} lines:\n{}",
        offenders.join("\n")
    );
}

/// The checks themselves, on made-up files: they catch what they are for.
#[test]
fn the_checks_catch_made_up_offenders() {
    let code = |text: &str| mask(non_test_part(text));
    let model = code(
        "use crate::{level::Level, rules::{self, Rule}};\n\
         use crate::model::plan::Plan;\n\
         use crate::Error;\n\
         // crate::cli in a comment is no import\n\
         fn f() -> &'static str {\n    crate::input::policy::parse(\"crate::forge\");\n    \"\"\n}\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::cli::main;\n}\n",
    );
    let found = upward_imports("src/model/made_up.rs", &model);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].contains("src/model/made_up.rs:1: crate::level"),
        "{found:#?}"
    );
    assert!(
        found[1].contains(":1: crate::rules (floor 3)"),
        "{found:#?}"
    );
    assert!(
        found[2].contains(":6: crate::input (floor 2)"),
        "{found:#?}"
    );
    // Its own module, lower floors and the error re-exports are fine.
    let rules = code("use crate::rules::Rule;\nuse crate::{Result, model::plan::Plan};\n");
    assert_eq!(
        upward_imports("src/rules/made_up.rs", &rules),
        Vec::<String>::new()
    );
    // A floor's neighbours on the same floor are not below it.
    let render = code("fn f() { let _ = crate::pipeline::builtin_policy(); }\n");
    assert_eq!(upward_imports("src/render/made_up.rs", &render).len(), 1);
    // A module without a floor is reported rather than let through.
    assert_eq!(upward_imports("src/newfloor.rs", "").len(), 1);

    let body = |lines: usize| "    x();\n".repeat(lines);
    let long = code(&format!(
        "/// Docs.\npub fn long() {{\n{}}}\n\nfn short() {{\n{}}}\nfn declared();\nfn one() {{ 1 }}\n",
        body(79),
        body(78)
    ));
    assert_eq!(
        long_functions("src/made_up.rs", &long, FUNCTION_LIMIT),
        ["src/made_up.rs:2: long is 81 lines"]
    );
    let spaced =
        code("// a comment\n\nfn a() {\n    let s = \"\nline\n\";\n}\n#[cfg(test)]\nfn b() {}\n");
    assert_eq!(code_lines(&spaced), 5);
}

/// Every `crate::` path whose top-level module is not below `path`'s floor (nor its own
/// module), as `path:line: crate::module (floor F) from floor G`.
fn upward_imports(path: &str, code: &str) -> Vec<String> {
    let Some(first) = path.strip_prefix("src/") else {
        return vec![format!("{path}: not under src/")];
    };
    let own = first.split('/').next().unwrap_or_default();
    let own = own.strip_suffix(".rs").unwrap_or(own);
    if own == "lib" {
        return Vec::new();
    }
    let Some(floor) = floor(own) else {
        return vec![format!(
            "{path}: module `{own}` has no floor: add it to src/lib.rs's table and FLOORS here"
        )];
    };
    let mut found = Vec::new();
    for (line, module) in crate_paths(code) {
        let used = if ROOT_REEXPORTS.contains(&module.as_str()) {
            Some(0)
        } else {
            self::floor(&module)
        };
        match used {
            _ if module == own => {}
            Some(used) if used < floor => {}
            Some(used) => found.push(format!(
                "{path}:{line}: crate::{module} (floor {used}) from floor {floor}"
            )),
            None => found.push(format!(
                "{path}:{line}: crate::{module} is not a module with a floor"
            )),
        }
    }
    found
}

fn floor(module: &str) -> Option<u8> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

/// The first segment after every `crate::` (each of a group's, for `crate::{a, b::c}`), with
/// its 1-based line.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = code[at..].find("crate::").map(|i| at + i) {
        at = i + "crate::".len();
        let before = bytes.get(i.wrapping_sub(1)).copied();
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            continue;
        }
        let rest = code[at..].trim_start();
        let line = |offset: usize| code[..offset].matches('\n').count() + 1;
        if let Some(group) = rest.strip_prefix('{') {
            let group_at = code.len() - group.len();
            for (offset, item) in group_items(group) {
                found.push((line(group_at + offset), first_segment(item)));
            }
        } else {
            found.push((line(i), first_segment(rest)));
        }
    }
    found
}

/// The items of a `{...}` group up to its closing brace, split at its own commas, each with
/// its offset in `group` (past leading whitespace).
fn group_items(group: &str) -> Vec<(usize, &str)> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(start);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(start);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
        .into_iter()
        .map(|s| {
            let item = &group[s..];
            let trimmed = item.trim_start();
            (s + item.len() - trimmed.len(), trimmed)
        })
        .filter(|(_, item)| !item.starts_with('}'))
        .collect()
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '*')
        .collect()
}

/// Non-blank lines of (masked) code: comment-only lines are blank by then.
fn code_lines(code: &str) -> usize {
    code.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Functions longer than `limit` lines, from the `fn` line to the closing brace at the same
/// indentation, as `path:line: name is N lines`.
fn long_functions(path: &str, code: &str, limit: usize) -> Vec<String> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let indent = &line[..line.len() - line.trim_start().len()];
        // The signature ends at the first `{` (a body) or `;` (a declaration).
        let Some(open) = (i..lines.len()).find(|&j| lines[j].contains(['{', ';'])) else {
            continue;
        };
        let opener = lines[open];
        if !opener.contains('{') {
            continue; // a declaration: `fn id(&self) -> RuleId;`
        }
        if opener.trim_end().ends_with('}') && opener.trim_start() != "}" {
            continue; // `fn one() { 1 }`: one line
        }
        let close = (open + 1..lines.len()).find(|&j| {
            let l = lines[j].trim_end();
            l.strip_prefix(indent).is_some_and(|rest| rest == "}")
        });
        if let Some(close) = close {
            let length = close - i + 1;
            if length > limit {
                found.push(format!("{path}:{}: {name} is {length} lines", i + 1));
            }
        }
    }
    found
}

/// The name of the function a line starts, after any `pub`, `const`, `async`, `unsafe` or
/// `extern "..."`.
fn fn_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        for word in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ] {
            if let Some(r) = rest.strip_prefix(word) {
                rest = r.trim_start();
            }
        }
        if let Some(r) = rest.strip_prefix("extern ") {
            // The ABI string is masked to `"___"` by then.
            rest = r.trim_start();
            if let Some(end) = rest.strip_prefix('"').and_then(|r| r.find('"')) {
                rest = rest[end + 2..].trim_start();
            }
        }
        if rest == before {
            break;
        }
    }
    let name = rest.strip_prefix("fn ")?;
    let name: String = name
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every non-test source file under src/, its code before the tests, masked.
fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect_rs(&root.join("src"), &mut files);
    files.sort();
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .collect();
    let tests = test_module_files(&texts);
    assert!(texts.len() > 20, "only {} files under src/", texts.len());
    texts
        .iter()
        .filter(|(f, _)| !tests.iter().any(|t| f == t || f.starts_with(module_dir(t))))
        .map(|(f, text)| Source {
            path: f.strip_prefix(root).unwrap().display().to_string(),
            code: mask(non_test_part(text)),
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Files that a parent declares under `#[cfg(test)]` (`#[cfg(test)] mod tests;`).
fn test_module_files(texts: &[(PathBuf, String)]) -> BTreeSet<PathBuf> {
    let mut tests = BTreeSet::new();
    for (file, text) in texts {
        let dir = module_dir(file);
        let mut under_cfg_test = false;
        for line in text.lines().map(str::trim) {
            if line == "#[cfg(test)]" {
                under_cfg_test = true;
                continue;
            }
            if under_cfg_test {
                let decl = line
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub ");
                if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
                    tests.insert(dir.join(format!("{name}.rs")));
                    tests.insert(dir.join(name).join("mod.rs"));
                }
            }
            if !line.starts_with("#[") {
                under_cfg_test = false;
            }
        }
    }
    tests
}

/// Where the files of a module's submodules live: beside `mod.rs`, `lib.rs` and `main.rs`,
/// else in the directory named after the file.
fn module_dir(file: &Path) -> PathBuf {
    let stem = file.file_stem().unwrap_or_default();
    if ["mod", "lib", "main"].iter().any(|s| stem == *s) {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    }
}

/// Everything before the first `#[cfg(test)]` that starts a line.
fn non_test_part(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("#[cfg(test)]") {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

/// The code with comments turned to spaces and the insides of string and character literals
/// to `_`, newlines kept: paths and braces in them are not code, and a string's lines still
/// count as lines of code.
fn mask(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    let blank = |c: char, with: char| if c == '\n' { '\n' } else { with };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i], ' '));
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"' | '#')) && !ident_before(&chars, i) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let end: Vec<char> = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let start = i + 2 + hashes;
            out.extend(&chars[i..start]);
            i = start;
            while i < chars.len() && !chars[i..].starts_with(&end) {
                out.push(blank(chars[i], '_'));
                i += 1;
            }
            out.extend(&end);
            i += end.len();
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push('_');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i], '_'));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\u{1F600}'); a lifetime has no closing quote.
            out.push('\'');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    out.push('_');
                    i += 1;
                }
                out.push('_');
                i += 1;
            }
            out.push('\'');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `i` ends an identifier (`for"` is no raw string; `br"` is).
fn ident_before(chars: &[char], i: usize) -> bool {
    let ident = |j: usize| chars[j].is_alphanumeric() || chars[j] == '_';
    match i {
        0 => false,
        1 => chars[0] != 'b' && ident(0),
        _ if chars[i - 1] == 'b' => ident(i - 2),
        _ => ident(i - 1),
    }
}
