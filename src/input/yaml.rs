//! The YAML layer every configuration file goes through (atlantis.yaml, repos.yaml, the
//! policy): a tree that keeps the position of every node, and a [`Checker`] that walks it the way
//! cargo-deny's `TableHelper` walks a table: typed access to the keys a reader expects, every
//! problem collected with file:line, unknown keys reported with the closest known one. Readers
//! are short declarative decoders over it; a file with three problems reports all three.

use std::fmt;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use crate::error::{Diagnostic, Error, Position};
use crate::text::one_line;

/// A YAML node and where it sits. `position` is where it is used (for a merged or aliased
/// value: the `<<`/alias site); `defined` is where its text is written.
#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    pub position: Position,
    pub defined: Position,
    /// Source text of a non-string scalar (`1.10` stays `1.10`, not `1.1`).
    pub text: Option<String>,
}

#[derive(Debug)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// The text a Go `string` field would receive, for any scalar but null.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Bool(b) => Some(self.text.clone().unwrap_or_else(|| b.to_string())),
            Kind::Int(i) => Some(self.text.clone().unwrap_or_else(|| i.to_string())),
            Kind::Float(f) => Some(self.text.clone().unwrap_or_else(|| f.to_string())),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "nothing (null)".to_string(),
            Kind::Bool(_) => format!("boolean {}", self.scalar_text().unwrap_or_default()),
            Kind::Int(_) | Kind::Float(_) => {
                format!("number {}", self.scalar_text().unwrap_or_default())
            }
            Kind::Str(s) => format!("string {}", quote(s)),
            Kind::Seq(_) => "a list".to_string(),
            Kind::Map(_) => "a mapping".to_string(),
        }
    }

    /// " (defined at line N)" when the node is written elsewhere than where it is used (an
    /// alias or a `<<` merge).
    pub fn origin_note(&self) -> String {
        if self.defined.line > 0 && self.defined.line != self.position.line {
            format!(" (defined at line {})", self.defined.line)
        } else {
            String::new()
        }
    }
}

/// What serde-saphyr hands over: every child wrapped in `Spanned` for its location.
enum RawKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawKind>>),
    Map(Vec<(Spanned<RawKind>, Spanned<RawKind>)>),
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_none<E>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        RawKind::deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        RawKind::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }

    fn visit_i128<E>(self, v: i128) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }

    fn visit_u128<E>(self, v: u128) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind::Float(v))
    }

    fn visit_char<E>(self, v: char) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind::Str(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<RawKind, E> {
        Ok(RawKind::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawKind>>()? {
            items.push(item);
        }
        Ok(RawKind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<RawKind>>()? {
            let value = map.next_value::<Spanned<RawKind>>()?;
            entries.push((key, value));
        }
        Ok(RawKind::Map(entries))
    }
}

pub fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Atlantis (go-yaml) reads only true/false as booleans when the target is untyped;
        // keys like `on`/`y` must stay strings. Typed bool fields accept yes/no below.
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            // Real files nest about 11 levels (a run step's filter_regex list).
            max_depth: 32,
            max_nodes: 1_000_000,
            max_events: 4_000_000,
            max_documents: 64,
            max_total_scalar_bytes: 32 * 1024 * 1024,
            // Files with one anchor (`&tf_version`) used by hundreds of projects are normal.
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 32,
        },
    }
}

/// Parses the YAML (the first document, as Atlantis reads only that one) into a tree.
pub fn read_tree(source: &str, path: &Path) -> crate::Result<Node> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    if source.trim().is_empty() {
        return Err(Error::input(path, "is empty"));
    }
    crate::input::on_yaml_stack(|| parse_tree(source, path)).map_err(Error::config)
}

fn parse_tree(source: &str, path: &Path) -> Result<Node, Diagnostic> {
    let documents: Vec<Spanned<RawKind>> =
        serde_saphyr::from_multiple_with_options(source, options())
            .map_err(|e| diagnostic(path, &e))?;
    Ok(match documents.into_iter().next() {
        Some(root) => convert(root, source),
        // Only comments: what go-yaml decodes as an empty document.
        None => Node {
            kind: Kind::Null,
            position: Position { line: 1, column: 1 },
            defined: Position { line: 1, column: 1 },
            text: None,
        },
    })
}

fn convert(raw: Spanned<RawKind>, source: &str) -> Node {
    let position = position_of(&raw.referenced);
    let defined = position_of(&raw.defined);
    let mut text = None;
    let kind = match raw.value {
        RawKind::Null => Kind::Null,
        RawKind::Bool(b) => {
            text = source_text(source, &raw.defined);
            Kind::Bool(b)
        }
        RawKind::Int(i) => {
            text = source_text(source, &raw.defined);
            Kind::Int(i)
        }
        RawKind::Float(f) => {
            text = source_text(source, &raw.defined);
            Kind::Float(f)
        }
        RawKind::Str(s) => Kind::Str(s),
        RawKind::Seq(items) => Kind::Seq(items.into_iter().map(|i| convert(i, source)).collect()),
        RawKind::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k, source), convert(v, source)))
                .collect(),
        ),
    };
    Node {
        kind,
        position,
        defined,
        text,
    }
}

pub fn position_of(location: &Location) -> Position {
    Position {
        line: usize::try_from(location.line()).unwrap_or(0),
        column: usize::try_from(location.column()).unwrap_or(0),
    }
}

/// The source text of a plain scalar, when its byte span is known and looks like one token.
fn source_text(source: &str, location: &Location) -> Option<String> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    let text = source.get(start..start.checked_add(len)?)?.trim();
    let token = !text.is_empty() && !text.contains(|c: char| c.is_whitespace() || c == '"');
    token.then(|| text.to_string())
}

/// One-line `file:line:col: message` from a serde-saphyr error, for every YAML file plangate
/// reads (its Display adds a multi-line snippet and API hints).
pub fn diagnostic(path: &Path, error: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    let mut inner = error;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = inner {
        inner = error;
    }
    let text = one_line(&UserMessageFormatter.format_message(inner));
    let message = match inner {
        E::UnknownAnchor { .. } => "invalid YAML: alias refers to an unknown anchor (a plain \
                                    value starting with `*` is read as an alias; quote it, \
                                    e.g. \"**/*.tf\")"
            .to_string(),
        E::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("invalid YAML: duplicate key `{}`", one_line(key)),
            None => "invalid YAML: duplicate key".to_string(),
        },
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => format!(
            "YAML exceeds plangate's safety limits for a config file (alias bomb or runaway \
             nesting?): {text}"
        ),
        // The scanner's flow-nesting cap.
        _ if text.contains("recursion limit") => format!(
            "YAML exceeds plangate's safety limits for a config file (runaway nesting?): {text}"
        ),
        _ => format!("invalid YAML: {text}"),
    };
    let position = error
        .location()
        .map(|l| position_of(&l))
        .filter(|p| p.line > 0);
    Diagnostic::new(path, position, message)
}

/// Collects the problems of one file while a reader walks its tree.
pub struct Checker<'a> {
    pub path: &'a Path,
    /// Who rejects what the file gets wrong, for messages: `Atlantis`, `plangate`.
    owner: &'static str,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub fn new(path: &'a Path, owner: &'static str) -> Self {
        Checker {
            path,
            owner,
            diagnostics: Vec::new(),
        }
    }

    pub fn error(&mut self, at: Position, message: impl Into<String>) {
        let position = (at.line > 0).then_some(at);
        // Messages quote values from the file; keep each one on one line whatever they hold.
        let message: String = message
            .into()
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        self.diagnostics
            .push(Diagnostic::new(self.path, position, message));
    }

    /// How many problems were found so far (a reader compares counts to tell whether one
    /// part of the file was clean).
    pub fn problems(&self) -> usize {
        self.diagnostics.len()
    }

    /// Mark the last problem as also being a lint finding of `rule`.
    pub fn tag_last(&mut self, rule: &'static str) {
        if let Some(last) = self.diagnostics.pop() {
            self.diagnostics.push(last.with_rule(rule));
        }
    }

    pub fn finish<T>(mut self, value: T) -> crate::Result<T> {
        if self.diagnostics.is_empty() {
            return Ok(value);
        }
        self.diagnostics
            .sort_by_key(|d| d.position.map_or((0, 0), |p| (p.line, p.column)));
        Err(Error::Config(self.diagnostics))
    }

    /// The known entries of a mapping; reports unknown and non-string keys. `None` when the
    /// node is not a mapping (reported) or null (not reported).
    pub fn table<'n>(&mut self, node: &'n Node, label: &str, known: &[&str]) -> Option<Table<'n>> {
        let entries = match &node.kind {
            Kind::Map(entries) => entries,
            Kind::Null => return None,
            _ => {
                self.error(
                    node.position,
                    format!(
                        "{}: must be a mapping, found {}",
                        display_label(label),
                        node.describe()
                    ),
                );
                return None;
            }
        };
        let mut fields = Table::empty();
        for (key, value) in entries {
            let name = match &key.kind {
                Kind::Str(s) => s.as_str(),
                _ => {
                    let shown = key.scalar_text().unwrap_or_else(|| key.describe());
                    self.unknown_key(key, &shown, label, known);
                    continue;
                }
            };
            if known.contains(&name) {
                fields.entries.push((name, key, value));
            } else {
                self.unknown_key(key, name, label, known);
            }
        }
        Some(fields)
    }

    /// [`Self::table`] with its label kept, for the `*_at` readers.
    pub fn scope<'n>(&mut self, node: &'n Node, label: &str, known: &[&str]) -> Option<Scope<'n>> {
        self.table(node, label, known).map(|table| Scope {
            table,
            label: label.to_string(),
        })
    }

    pub fn string_at(&mut self, scope: &Scope<'_>, key: &str) -> Option<String> {
        self.string(scope.get(key), &scope.label(key))
    }

    pub fn bool_at(&mut self, scope: &Scope<'_>, key: &str) -> Option<bool> {
        self.bool(scope.get(key), &scope.label(key))
    }

    pub fn int_at(&mut self, scope: &Scope<'_>, key: &str) -> Option<i64> {
        self.int(scope.get(key), &scope.label(key))
    }

    pub fn list_at(&mut self, scope: &Scope<'_>, key: &str) -> Vec<String> {
        self.plain_list(scope.get(key), &scope.label(key))
    }

    pub fn positioned_list_at(&mut self, scope: &Scope<'_>, key: &str) -> Vec<(String, Position)> {
        self.string_list(scope.get(key), &scope.label(key))
    }

    pub fn unknown_key(&mut self, key: &Node, name: &str, label: &str, known: &[&str]) {
        let place = if label.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in {label}")
        };
        let hint = match crate::text::suggest(name, known.iter().copied()) {
            Some(candidate) => format!("; did you mean `{candidate}`?"),
            None => format!("; valid keys: {}", known.join(", ")),
        };
        self.error(
            key.position,
            format!(
                "unknown key `{name}` {place}{} ({} rejects unknown keys){hint}",
                key.origin_note(),
                self.owner
            ),
        );
    }

    pub fn string(&mut self, node: Option<&Node>, label: &str) -> Option<String> {
        let node = node?;
        match node.scalar_text() {
            Some(text) => Some(text),
            None => {
                self.error(
                    node.position,
                    format!("{label}: must be a string, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub fn bool(&mut self, node: Option<&Node>, label: &str) -> Option<bool> {
        let node = node?;
        match &node.kind {
            Kind::Bool(b) => Some(*b),
            // go-yaml's YAML 1.1 compatibility for typed bool fields.
            Kind::Str(s) => match s.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                _ => {
                    self.error(
                        node.position,
                        format!("{label}: must be true or false, found {}", node.describe()),
                    );
                    None
                }
            },
            _ => {
                self.error(
                    node.position,
                    format!("{label}: must be true or false, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub fn int(&mut self, node: Option<&Node>, label: &str) -> Option<i64> {
        let node = node?;
        match &node.kind {
            Kind::Int(i) => Some(*i),
            // go-yaml stores a float with no fraction into an int field.
            Kind::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => {
                self.error(
                    node.position,
                    format!("{label}: must be an integer, found {}", node.describe()),
                );
                None
            }
        }
    }

    /// A number, whole or not (`0.5`, `1`).
    pub fn number(&mut self, node: Option<&Node>, label: &str) -> Option<f64> {
        let node = node?;
        match &node.kind {
            Kind::Int(i) => Some(*i as f64),
            Kind::Float(f) => Some(*f),
            _ => {
                self.error(
                    node.position,
                    format!("{label}: must be a number, found {}", node.describe()),
                );
                None
            }
        }
    }

    /// A list of strings (`[a, b]` or a block list); null items become "" as in go-yaml.
    pub fn string_list(&mut self, node: Option<&Node>, label: &str) -> Vec<(String, Position)> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Kind::Seq(items) = &node.kind else {
            let hint = match node.scalar_text() {
                Some(text) => format!(" (write it as a list: [{text}])"),
                None => String::new(),
            };
            self.error(
                node.position,
                format!(
                    "{label}: must be a list of strings, found {}{hint}",
                    node.describe()
                ),
            );
            return Vec::new();
        };
        let mut values = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match (&item.kind, item.scalar_text()) {
                (_, Some(text)) => values.push((text, item.position)),
                (Kind::Null, None) => values.push((String::new(), item.position)),
                _ => self.error(
                    item.position,
                    format!(
                        "{label}[{index}]: must be a string, found {}",
                        item.describe()
                    ),
                ),
            }
        }
        values
    }

    pub fn plain_list(&mut self, node: Option<&Node>, label: &str) -> Vec<String> {
        self.string_list(node, label)
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }
}

/// The known entries of one mapping (unknown keys were already reported).
pub struct Table<'n> {
    pub entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Table<'n> {
    pub fn empty() -> Self {
        Table {
            entries: Vec::new(),
        }
    }

    /// The value under `key`; `None` when absent or null (go-yaml leaves the field unset).
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
            .filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _, _)| *k == key)
    }
}

/// A mapping's known entries with the label they are reported under (`projects[3]`): what a
/// declarative decoder reads its keys from.
pub struct Scope<'n> {
    pub table: Table<'n>,
    pub label: String,
}

impl<'n> Scope<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.table.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.has(key)
    }

    /// `projects[3].workspace`.
    pub fn label(&self, key: &str) -> String {
        join(&self.label, key)
    }
}

pub fn join(label: &str, key: &str) -> String {
    if label.is_empty() {
        key.to_string()
    } else {
        format!("{label}.{key}")
    }
}

pub fn quote(s: &str) -> String {
    format!("{s:?}")
}

pub fn display_label(label: &str) -> &str {
    if label.is_empty() {
        "the document"
    } else {
        label
    }
}
