//! The server's layers, bottom up: each module may use only those in the layers below it (and
//! its own layer's). `tests::no_module_uses_a_layer_above_it` reads every `crate::`, `super::`
//! and `self::` path in the sources and fails on an upward use, on a module missing from this
//! list and on a cycle between modules. `docs/architecture.md` explains each layer.

/// Top-level modules of `src/`, by layer, bottom up.
pub const LAYERS: &[&[&str]] = &[
    // Pure decisions: no I/O.
    &["rules"],
    &["config", "error", "telemetry"],
    // Who asks and what they may see: plain types.
    &["access"],
    // SQL, and the in-memory caches of what it reads.
    &["store", "cache"],
    // Redis: stream keys, connections, live topics, the publisher.
    &["bus"],
    // Domain services over the store and the bus: alerts, incidents as viewed and pushed.
    &["alerts", "incidents"],
    &["pipeline"],
    // The WebSocket hub and sessions.
    &["live"],
    // Ingest sources other than HTTP: the JT/T 808 gateway.
    &["gateway"],
    // Handlers, extractors, the application state.
    &["api"],
    &["startup"],
];

#[cfg(test)]
mod tests {
    use super::LAYERS;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Every module of `src/` by its path (`pipeline::custody`), with its source (test modules
    /// cut off: they may reach anywhere).
    fn modules() -> BTreeMap<String, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = BTreeMap::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                    continue;
                }
                let rel = path.strip_prefix(&root).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod") {
                    parts.pop();
                }
                if parts == ["lib"] || parts == ["main"] || parts == ["layers"] {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                out.insert(parts.join("::"), without_tests_and_comments(&text));
            }
        }
        out
    }

    fn without_tests_and_comments(text: &str) -> String {
        let mut out = String::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("#[cfg(test)]")
                && lines
                    .peek()
                    .is_some_and(|l| l.trim_start().starts_with("mod "))
            {
                break;
            }
            if trimmed.starts_with("//") {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Every path a source names from `crate::`, `super::` or `self::`, use-trees expanded,
    /// made absolute (segments from the crate root).
    fn paths(module: &str, text: &str) -> Vec<Vec<String>> {
        let own: Vec<String> = if module.is_empty() {
            Vec::new()
        } else {
            module.split("::").map(str::to_owned).collect()
        };
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        for (start, _) in text.match_indices("::") {
            let head_start = text[..start]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let head = &text[head_start..start];
            let base = match head {
                "crate" => Vec::new(),
                "self" => own.clone(),
                "super" => {
                    // `super::super::x` is counted from its first `super`.
                    if text[..head_start].ends_with("::") {
                        continue;
                    }
                    let mut base = own.clone();
                    let mut at = start;
                    base.pop();
                    while text[at + 2..].starts_with("super::") {
                        base.pop();
                        at += 2 + "super".len();
                    }
                    let mut rest = at + 2;
                    tree(bytes, &mut rest, base, &mut found);
                    continue;
                }
                _ => continue,
            };
            // Skip `crate::` met as part of a longer path (`foo::crate::` cannot occur).
            let mut rest = start + 2;
            tree(bytes, &mut rest, base, &mut found);
        }
        found
    }

    /// Parses a use-tree (or an inline path) at `at`, pushing each full path.
    fn tree(bytes: &[u8], at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        let skip_ws = |at: &mut usize| {
            while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
                *at += 1;
            }
        };
        let mut path = prefix;
        loop {
            skip_ws(at);
            if *at < bytes.len() && bytes[*at] == b'{' {
                *at += 1;
                loop {
                    skip_ws(at);
                    if *at >= bytes.len() || bytes[*at] == b'}' {
                        *at += 1;
                        return;
                    }
                    if bytes[*at] == b',' {
                        *at += 1;
                        continue;
                    }
                    let before = *at;
                    tree(bytes, at, path.clone(), out);
                    if *at == before {
                        *at += 1;
                    }
                }
            }
            let start = *at;
            while *at < bytes.len() && (bytes[*at].is_ascii_alphanumeric() || bytes[*at] == b'_') {
                *at += 1;
            }
            let ident = String::from_utf8_lossy(&bytes[start..*at]).into_owned();
            if !ident.is_empty() && ident != "self" {
                path.push(ident);
            }
            if bytes[*at..].starts_with(b"::") {
                *at += 2;
                continue;
            }
            out.push(path);
            // Past ` as name` and anything else up to the next separator.
            while *at < bytes.len() && !matches!(bytes[*at], b',' | b'}' | b';') {
                if bytes[*at] == b'{' {
                    return;
                }
                *at += 1;
            }
            return;
        }
    }

    /// The module a path lands in: its longest prefix that is a module.
    fn target(path: &[String], modules: &BTreeMap<String, String>) -> Option<String> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].join("::"))
            .find(|m| modules.contains_key(m))
    }

    fn layer_of(module: &str) -> Option<usize> {
        let top = module.split("::").next()?;
        LAYERS.iter().position(|layer| layer.contains(&top))
    }

    fn edges(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
        modules
            .iter()
            .map(|(module, text)| {
                let used = paths(module, text)
                    .iter()
                    .filter_map(|p| target(p, modules))
                    .filter(|t| t != module)
                    .collect();
                (module.clone(), used)
            })
            .collect()
    }

    #[test]
    fn every_module_is_placed_in_one_layer() {
        let modules = modules();
        let tops: BTreeSet<&str> = modules
            .keys()
            .filter_map(|m| m.split("::").next())
            .collect();
        let listed: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
        for top in &tops {
            assert_eq!(
                listed.iter().filter(|l| *l == top).count(),
                1,
                "module {top} must be in exactly one layer of LAYERS"
            );
        }
        for name in listed {
            assert!(
                tops.contains(name),
                "LAYERS lists {name}, which is no module"
            );
        }
    }

    #[test]
    fn no_module_uses_a_layer_above_it() {
        let modules = modules();
        let mut upward = Vec::new();
        for (module, used) in edges(&modules) {
            let Some(own) = layer_of(&module) else {
                continue; // reported by the test above
            };
            for target in used {
                if layer_of(&target).is_some_and(|l| l > own) {
                    upward.push(format!("{module} uses {target}"));
                }
            }
        }
        assert!(
            upward.is_empty(),
            "uses of a layer above:\n{}",
            upward.join("\n")
        );
    }

    #[test]
    fn no_two_modules_depend_on_each_other() {
        let modules = modules();
        let edges = edges(&modules);
        // Depth-first search for a cycle, reporting the first one met.
        fn visit(
            node: &str,
            edges: &BTreeMap<String, BTreeSet<String>>,
            stack: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(i) = stack.iter().position(|s| s == node) {
                let mut cycle = stack[i..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            if done.contains(node) {
                return None;
            }
            stack.push(node.to_owned());
            for next in edges.get(node).into_iter().flatten() {
                if let Some(cycle) = visit(next, edges, stack, done) {
                    return Some(cycle);
                }
            }
            stack.pop();
            done.insert(node.to_owned());
            None
        }
        let mut done = BTreeSet::new();
        for node in edges.keys() {
            if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
                panic!("modules in a cycle: {}", cycle.join(" -> "));
            }
        }
    }

    #[test]
    fn the_reader_finds_grouped_and_nested_uses() {
        let mut modules = BTreeMap::new();
        for m in ["a", "a::b", "c", "c::d", "e"] {
            modules.insert(m.to_owned(), String::new());
        }
        let text =
            "use crate::{a::b::{X, Y}, c};\nuse super::e as f;\nfn g() { crate::c::d::h(); }";
        let found: BTreeSet<String> = paths("a::b", text)
            .iter()
            .filter_map(|p| target(p, &modules))
            .collect();
        let want: BTreeSet<String> = ["a::b", "c", "c::d", "a"].map(String::from).into();
        // `super::e` from `a::b` is `a::e`, which lands in `a`.
        assert_eq!(found, want);
        assert_eq!(layer_of("pipeline::custody"), layer_of("pipeline"));
        assert!(layer_of("store") < layer_of("api"));
    }
}
