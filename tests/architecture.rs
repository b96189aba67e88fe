//! The module graph stays one-way: every `crate::` and `super::` path in `src/` (test code
//! excepted) must point to a lower layer of the table in docs/development.md ("Layers"), only
//! `settings` may use `cli`, and no module's submodules may import each other in a cycle. One
//! name per concept: two public types share a name only when the docs of both say why.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path from the crate root: `["detect", "state"]`.
type Module = Vec<String>;

/// Modules only the listed ones may use, whatever their layers: the clap structs are resolved
/// once, by `settings`; commands run with the settings.
const ONLY_USED_BY: &[(&str, &[&str])] = &[("cli", &["settings"])];

#[test]
fn src_imports_follow_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layers = layers(&std::fs::read_to_string(root.join("docs/development.md")).unwrap());
    assert!(layers.len() > 5, "docs/development.md has no Layers table: {layers:?}");
    let mut files = Vec::new();
    read_dir(&root.join("src"), &root.join("src"), &mut files);
    assert!(files.len() > 40, "found only {} files under src/", files.len());
    let problems = check(&files, &layers);
    assert!(problems.is_empty(), "the module graph is not one-way:\n{}", problems.join("\n"));
}

#[test]
fn a_wrong_way_import_fails() {
    let layers = table("| 1 | `k8s` |\n| 2 | `parse`, `detect` |\n| 3 | `observe` |\n");
    let ok = vec![
        file("k8s/mod.rs", "use crate::parse::x;\nuse crate::{observe, detect::Config};"),
        file(
            "parse/mod.rs",
            "use crate::observe::ObjectKey; // crate::k8s in a comment\nlet s = \"crate::k8s\";",
        ),
        file(
            "detect/mod.rs",
            "mod a;\nmod b;\nuse crate::observe::Millis;\n#[cfg(test)]\nmod tests {\n    use crate::parse::x;\n}\n",
        ),
        file("detect/a.rs", "use super::b::X;"),
        file("detect/b.rs", "use super::Config;"),
        file("observe.rs", "pub type Millis = i64;"),
    ];
    assert_eq!(check(&ok, &layers), Vec::<String>::new());

    let mut up = ok.clone();
    up[1].1.push_str("\nuse crate::k8s::Kube;");
    assert_eq!(
        check(&up, &layers),
        vec!["src/parse/mod.rs: parse (layer 2) imports k8s (layer 1)", "cycle: k8s -> parse -> k8s"]
    );

    let mut same = ok.clone();
    same[2].1.push_str("\nfn f() { crate::parse::objects::key_of(v) }");
    assert_eq!(check(&same, &layers), vec!["src/detect/mod.rs: detect (layer 2) imports parse (layer 2)"]);

    let mut cycle = ok.clone();
    cycle[4].1.push_str("\nuse super::a::Y;");
    assert_eq!(check(&cycle, &layers), vec!["cycle: detect::a -> detect::b -> detect::a"]);

    let mut unknown = ok;
    unknown.push(file("extra.rs", ""));
    assert_eq!(check(&unknown, &layers), vec!["src/extra.rs: module extra is not in the Layers table"]);
}

#[test]
fn only_settings_uses_cli() {
    let layers = table("| 1 | `commands` |\n| 2 | `settings` |\n| 3 | `cli` |\n");
    let ok = vec![
        file("commands/mod.rs", "use crate::settings::StatusSettings;"),
        file("settings.rs", "use crate::cli::StatusArgs;"),
        file("cli.rs", "pub struct StatusArgs;"),
    ];
    assert_eq!(check(&ok, &layers), Vec::<String>::new());
    let mut wrong = ok;
    wrong[0].1.push_str("\nuse crate::cli::StatusArgs;");
    assert_eq!(
        check(&wrong, &layers),
        vec![r#"src/commands/mod.rs: commands imports cli, which only ["settings"] may use"#]
    );
}

#[test]
fn public_type_names_are_unique_or_explained() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_dir(&root.join("src"), &root.join("src"), &mut files);
    let found: usize = files.iter().map(|(_, text)| type_names(&code(text)).len()).sum();
    assert!(found > 100, "found only {found} public types under src/");
    let problems = shared_names(&files);
    assert!(problems.is_empty(), "public types share a name:\n{}", problems.join("\n"));
}

#[test]
fn a_shared_name_fails_unless_both_docs_say_why() {
    let files = vec![
        file("detect/mod.rs", "/// HOT or not.\n#[derive(Debug)]\npub enum Verdict { Hot }\n"),
        file(
            "reconcile/guard.rs",
            "/// Whether to write.\npub(crate) struct Verdict;\n#[cfg(test)]\nmod tests {\n    pub struct Verdict;\n}\n",
        ),
        file(
            "render/mod.rs",
            "// pub struct Verdict in a comment\nconst S: &str = \"pub struct Verdict\";\npub struct Other;\n",
        ),
    ];
    assert_eq!(
        shared_names(&files),
        vec![
            "src/detect/mod.rs: pub Verdict shares its name with reconcile::guard::Verdict, and its doc does not name that to say why",
            "src/reconcile/guard.rs: pub Verdict shares its name with detect::Verdict, and its doc does not name that to say why",
        ]
    );
    let mut explained = files.clone();
    explained[0].1 =
        explained[0].1.replace("HOT or not.", "HOT or not (`reconcile::guard::Verdict` decides writes).");
    assert_eq!(shared_names(&explained).len(), 1, "one doc still says nothing");
    explained[1].1 = explained[1].1.replace("Whether to write.", "Whether to write; not `detect::Verdict`.");
    assert_eq!(shared_names(&explained), Vec::<String>::new());
}

/// A Layers table with these rows, as `layers` reads it from docs/development.md.
fn table(rows: &str) -> BTreeMap<String, u32> {
    layers(&format!("## Layers\n\n| layer | modules |\n|---|---|\n{rows}"))
}

/// A source file for `check` and `shared_names`: its path under src/ and its text.
fn file(path: &str, text: &str) -> (String, String) {
    (path.to_string(), text.to_string())
}

/// Public (any `pub`) structs, enums, type aliases and traits defined in more than one place,
/// whose docs do not name each other (test code excepted).
fn shared_names(files: &[(String, String)]) -> Vec<String> {
    let modules: BTreeMap<Module, &str> = files.iter().map(|(p, t)| (module_of(p), t.as_str())).collect();
    let test_only: BTreeSet<Module> = modules
        .iter()
        .flat_map(|(m, text)| test_children(&code(text)).into_iter().map(move |c| child(m, &c)))
        .collect();
    // name -> (file, module path, doc) of each definition
    let mut defs: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for (path, text) in files {
        let module = module_of(path);
        if test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        for name in type_names(&without_tests(&code(text))) {
            let qualified = module.iter().cloned().chain([name.clone()]).collect::<Vec<_>>().join("::");
            defs.entry(name.clone()).or_default().push((path.clone(), qualified, doc_of(text, &name)));
        }
    }
    let mut problems = Vec::new();
    for same in defs.values().filter(|d| d.len() > 1) {
        for (path, me, doc) in same {
            for (_, other, _) in same.iter().filter(|(_, o, _)| o != me) {
                if !doc.contains(other.as_str()) {
                    let name = me.rsplit("::").next().unwrap_or(me);
                    problems.push(format!(
                        "src/{path}: pub {name} shares its name with {other}, and its doc does not name that to say why"
                    ));
                }
            }
        }
    }
    problems
}

/// The name a line defines if it is `pub[(…)] struct|enum|type|trait NAME`.
fn defined_type(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("pub")?;
    let rest = match rest.strip_prefix('(') {
        Some(r) => &r[r.find(')')? + 1..],
        None => rest,
    };
    let rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
    let rest = ["struct ", "enum ", "type ", "trait "].iter().find_map(|k| rest.strip_prefix(k))?;
    let name: String = rest.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

fn type_names(code: &str) -> Vec<String> {
    code.lines().filter_map(defined_type).collect()
}

/// The `///` lines above the definition of `name` (attributes between them skipped).
fn doc_of(text: &str, name: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(at) = lines.iter().position(|l| defined_type(l).as_deref() == Some(name)) else {
        return String::new();
    };
    let mut doc: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("///") || l.starts_with("#["))
        .filter(|l| l.starts_with("///"))
        .collect();
    doc.reverse();
    doc.join("\n")
}

/// `module -> layer` from the markdown table under the `Layers` heading: `| 3 | `k8s`, `render` | ... |`.
fn layers(doc: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let Some(start) =
        doc.lines().position(|l| l.starts_with('#') && l.trim_start_matches('#').trim() == "Layers")
    else {
        return out;
    };
    for line in
        doc.lines().skip(start + 1).skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(Ok(layer)) = cells.get(1).map(|c| c.parse::<u32>()) else { continue };
        for m in cells[2].split(',') {
            out.insert(m.trim().trim_matches('`').to_string(), layer);
        }
    }
    out
}

fn read_dir(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_dir(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            // The binary uses the library by its crate name, never `crate::`.
            if rel != "main.rs" {
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
}

/// Every problem: wrong-way imports, modules missing from the table, cycles among siblings.
fn check(files: &[(String, String)], layers: &BTreeMap<String, u32>) -> Vec<String> {
    let modules: BTreeMap<Module, &str> = files.iter().map(|(p, t)| (module_of(p), t.as_str())).collect();
    let test_only: BTreeSet<Module> = modules
        .iter()
        .flat_map(|(m, text)| test_children(&code(text)).into_iter().map(move |c| child(m, &c)))
        .collect();
    let mut problems = Vec::new();
    let mut edges: BTreeSet<(Module, Module)> = BTreeSet::new();
    for (path, text) in files {
        let from = module_of(path);
        if from.is_empty() || test_only.iter().any(|t| from.starts_with(t)) {
            continue;
        }
        let top = &from[0];
        let Some(&layer) = layers.get(top) else {
            problems.push(format!("src/{path}: module {top} is not in the Layers table"));
            continue;
        };
        let mut seen = BTreeSet::new();
        for target in references(&from, &without_tests(&code(text))) {
            let Some(to) =
                (1..=target.len()).rev().map(|n| target[..n].to_vec()).find(|m| modules.contains_key(m))
            else {
                continue;
            };
            edges.insert((from.clone(), to.clone()));
            let other = &to[0];
            if other != top && seen.insert(other.clone()) {
                match layers.get(other) {
                    Some(&l) if l > layer => {}
                    Some(&l) => problems
                        .push(format!("src/{path}: {top} (layer {layer}) imports {other} (layer {l})")),
                    None => problems
                        .push(format!("src/{path}: imports {other}, which is not in the Layers table")),
                }
                if let Some((_, users)) = ONLY_USED_BY.iter().find(|(m, _)| m == other)
                    && !users.contains(&top.as_str())
                {
                    problems.push(format!("src/{path}: {top} imports {other}, which only {users:?} may use"));
                }
            }
        }
    }
    problems.extend(cycles(&edges));
    problems
}

/// `detect/state.rs` → `[detect, state]`, `detect/mod.rs` → `[detect]`, `lib.rs` → `[]`.
fn module_of(path: &str) -> Module {
    let path = path.trim_end_matches(".rs");
    let mut parts: Vec<String> = path.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn child(parent: &Module, name: &str) -> Module {
    let mut m = parent.clone();
    m.push(name.to_string());
    m
}

/// The source without comments and without the contents of string and char literals.
fn code(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                i += 2 + hashes;
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len();
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A char literal ('x', '\n', '{'), not a lifetime ('a).
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("' '");
            }
            _ => {
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + len]);
                i += len;
            }
        }
    }
    out
}

/// Names of `#[cfg(test)] mod name;` declarations: files that are test code.
fn test_children(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = code.lines().map(str::trim);
    while let Some(l) = lines.next() {
        if l == "#[cfg(test)]"
            && let Some(next) = lines.next()
            && let Some(name) = next.strip_prefix("mod ").and_then(|n| n.strip_suffix(';'))
        {
            out.push(name.trim().to_string());
        }
    }
    out
}

/// The code without `#[cfg(test)]` items (inline test modules and test-only functions).
fn without_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        // The item ends at its `;` or at the brace that closes its first `{`.
        let mut depth = 0usize;
        let mut end = item.len();
        for (k, c) in item.char_indices() {
            match c {
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Every module path the code names through `crate::` or `super::`, from the crate root.
fn references(from: &Module, code: &str) -> Vec<Module> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut k = 0;
        while let Some(at) = code[k..].find(start).map(|a| a + k) {
            k = at + start.len();
            if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_' || b[at - 1] == b'$') {
                continue;
            }
            let mut base: Module = Vec::new();
            let mut rest = &code[at..];
            if start == "super::" {
                base = from.clone();
                while let Some(r) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = r;
                }
            } else {
                rest = &rest["crate::".len()..];
            }
            paths(&base, rest, &mut out);
        }
    }
    out
}

/// Expands `a::b::{c, d::e}` after `base` into module paths.
fn paths(base: &Module, rest: &str, out: &mut Vec<Module>) {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    paths(base, &std::mem::take(&mut item), out);
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        paths(base, &item, out);
        return;
    }
    let ident: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if ident.is_empty() || ident == "self" {
        out.push(base.clone());
        return;
    }
    let next = child(base, &ident);
    match rest[ident.len()..].strip_prefix("::") {
        Some(more) => paths(&next, more, out),
        None => out.push(next),
    }
}

/// Cycles among the submodules of each module (the top-level modules included), as
/// `cycle: a -> b -> a`. An import between a module and its own submodule (the facade
/// pattern) is not an edge.
fn cycles(edges: &BTreeSet<(Module, Module)>) -> Vec<String> {
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, to) in edges {
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        if common < from.len() && common < to.len() {
            graph.entry(from[..=common].to_vec()).or_default().insert(to[..=common].to_vec());
        }
    }
    let mut out = Vec::new();
    let mut done: BTreeSet<Module> = BTreeSet::new();
    for start in graph.keys() {
        let mut stack: Vec<Module> = Vec::new();
        visit(start, &graph, &mut stack, &mut done, &mut out);
    }
    out
}

fn visit(
    m: &Module,
    graph: &BTreeMap<Module, BTreeSet<Module>>,
    stack: &mut Vec<Module>,
    done: &mut BTreeSet<Module>,
    out: &mut Vec<String>,
) {
    if let Some(i) = stack.iter().position(|s| s == m) {
        let names: Vec<String> = stack[i..].iter().chain([m]).map(|s| s.join("::")).collect();
        out.push(format!("cycle: {}", names.join(" -> ")));
        return;
    }
    if done.contains(m) {
        return;
    }
    stack.push(m.clone());
    for next in graph.get(m).into_iter().flatten() {
        visit(next, graph, stack, done, out);
    }
    stack.pop();
    done.insert(m.clone());
}
