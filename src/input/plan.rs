//! Reader for `terraform show -json` / `tofu show -json` plan documents (format 0.x and 1.x).
//!
//! Only the fields the gate needs are deserialised, into borrowed, typed structs; everything else
//! (`planned_values`, `configuration`, attribute values) is skipped or kept as raw JSON slices.
//! Every way a file can fail to be a complete plan is an error naming the file.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::input::{decode, InputBytes};
use crate::model::change::{Action, DriftChange, ResourceChange, ResourceMode};
use crate::model::dependents::StateDependency;
use crate::model::plan::{DestroyAction, Plan};
use crate::text::printable;
use crate::{Error, Result};

/// The bytes of one plan file, kept alive while the parsed [`Plan`] borrows from them.
pub struct PlanSource {
    pub path: PathBuf,
    /// The file exactly as read (memory-mapped when large): what the SHA-256 covers.
    bytes: InputBytes,
    /// The JSON text when the file had to be transcoded (UTF-16); else it is `bytes[start..]`.
    transcoded: Option<Vec<u8>>,
    start: usize,
    sha256: OnceLock<String>,
}

/// Below this size the hash is computed on the parsing thread: a thread is not worth it.
const PARALLEL_HASH_MIN: usize = 4 << 20;

impl PlanSource {
    /// Read a plan file (`-` is standard input) and decode it to JSON text.
    pub fn read(path: &Path) -> Result<PlanSource> {
        let bytes = crate::input::read_input_bytes(path)?;
        PlanSource::from_input(path, bytes)
    }

    /// Decode bytes already read (BOMs, UTF-16) and refuse what cannot be plan JSON.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<PlanSource> {
        PlanSource::from_input(path, InputBytes::Read(bytes))
    }

    fn from_input(path: &Path, bytes: InputBytes) -> Result<PlanSource> {
        let decoded = decode::json_text(&bytes).map_err(|p| Error::input(path, p.0))?;
        let (transcoded, start) = match decoded {
            Cow::Borrowed(slice) => (None, slice.as_ptr() as usize - bytes.as_ptr() as usize),
            Cow::Owned(owned) => (Some(owned), 0),
        };
        Ok(PlanSource {
            path: path.to_path_buf(),
            bytes,
            transcoded,
            start,
            sha256: OnceLock::new(),
        })
    }

    pub fn json(&self) -> &[u8] {
        match &self.transcoded {
            Some(text) => text,
            None => &self.bytes[self.start..],
        }
    }

    /// SHA-256 of the file exactly as read, lower-case hex: identifies the plan in comments
    /// and reports.
    pub fn sha256(&self) -> &str {
        self.sha256
            .get_or_init(|| crate::input::sha256_hex(&self.bytes))
    }

    /// Parse and validate the plan. On a large file the SHA-256, UTF-8 and nesting checks run
    /// on a second thread meanwhile: they cost about as much as parsing, and the two share
    /// nothing. (serde skips unused strings without checking them, so the whole text is
    /// validated as UTF-8 there.)
    pub fn parse(&self) -> Result<Plan<'_>> {
        self.parse_then(&|| {})
    }

    /// [`PlanSource::parse`], calling `checked` once the checks are done: the moment a core
    /// is free while the plan is still being parsed.
    pub fn parse_then(&self, checked: &(dyn Fn() + Sync)) -> Result<Plan<'_>> {
        let json = self.json();
        let check = || {
            let done = self.check();
            checked();
            done
        };
        let (plan, (digest, too_deep, bad_utf8)) = if self.bytes.len() < PARALLEL_HASH_MIN {
            let done = check();
            (parse_plan(json, &self.path), done)
        } else {
            std::thread::scope(|scope| {
                let worker = std::thread::Builder::new()
                    .name("plan-check".into())
                    .spawn_scoped(scope, check);
                let plan = parse_plan(json, &self.path);
                // A thread that could not start (or failed) leaves the work to this one.
                let done = match worker.map(|h| h.join()) {
                    Ok(Ok(done)) => done,
                    _ => check(),
                };
                (plan, done)
            })
        };
        let _ = self.sha256.set(digest);
        if let Some(offset) = bad_utf8 {
            let line = 1 + memchr::memchr_iter(b'\n', &json[..offset]).count();
            return Err(Error::input(
                &self.path,
                format!("is not valid UTF-8 (invalid bytes on line {line}): expected the output of `terraform show -json PLANFILE`"),
            ));
        }
        // Too deep says more than whatever the parser made of the deep part.
        if let Some(offset) = too_deep {
            let line = 1 + memchr::memchr_iter(b'\n', &json[..offset]).count();
            return Err(Error::input(
                &self.path,
                format!(
                    "nests JSON deeper than {} levels (line {line}): not a plan Terraform writes",
                    decode::MAX_DEPTH
                ),
            ));
        }
        plan
    }

    /// The file's SHA-256, and where its JSON text stops being UTF-8 or nests deeper than
    /// [`decode::MAX_DEPTH`]. One pass over cache-sized chunks: a plan is far larger than the
    /// cache, so each separate pass would cost a read of the whole file from memory.
    fn check(&self) -> (String, Option<usize>, Option<usize>) {
        let json = self.json();
        let mut sha = ring::digest::Context::new(&ring::digest::SHA256);
        let mut depth = decode::DepthScanner::new(decode::MAX_DEPTH);
        let mut utf8 = Utf8Check::default();
        // The hash covers the file as read. The JSON text is the rest of it after any BOM,
        // unless it was transcoded from UTF-16: then the file is hashed on its own.
        let json_is_in_file = self.transcoded.is_none();
        sha.update(if json_is_in_file {
            &self.bytes[..self.start]
        } else {
            &self.bytes
        });
        for start in (0..json.len()).step_by(CHECK_CHUNK) {
            let end = (start + CHECK_CHUNK).min(json.len());
            let chunk = &json[start..end];
            if json_is_in_file {
                sha.update(chunk);
            }
            depth.feed(chunk);
            utf8.up_to(json, end);
        }
        (hex::encode(sha.finish().as_ref()), depth.finish(), utf8.bad)
    }
}

/// Bytes per step of [`PlanSource::check`]: well inside a core's L2 cache.
const CHECK_CHUNK: usize = 128 << 10;

/// UTF-8 validation of a text, a piece at a time.
#[derive(Default)]
struct Utf8Check {
    /// Offset of the first byte not yet validated.
    checked: usize,
    /// Offset of the first invalid byte.
    bad: Option<usize>,
}

impl Utf8Check {
    /// Validate `text` up to `end`, or up to the start of a character that `end` cuts in two
    /// (it is validated with the next piece). `end` is `text.len()` for the last piece.
    fn up_to(&mut self, text: &[u8], end: usize) {
        if self.bad.is_some() {
            return;
        }
        // A continuation byte (10xxxxxx) at `end` belongs to a character begun before it; a
        // character has at most three.
        let mut stop = end;
        while stop > self.checked
            && end - stop < 3
            && text.get(stop).is_some_and(|b| b & 0xC0 == 0x80)
        {
            stop -= 1;
        }
        match std::str::from_utf8(&text[self.checked..stop]) {
            Ok(_) => self.checked = stop,
            Err(e) => self.bad = Some(self.checked + e.valid_up_to()),
        }
    }
}

#[derive(Deserialize)]
struct RawPlan<'a> {
    #[serde(borrow, default)]
    format_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    terraform_version: Option<Cow<'a, str>>,
    #[serde(default)]
    errored: Option<bool>,
    #[serde(default)]
    complete: Option<bool>,
    #[serde(default)]
    applyable: Option<bool>,
    #[serde(borrow, default)]
    resource_changes: Option<Vec<RawResourceChange<'a>>>,
    #[serde(borrow, default)]
    resource_drift: Option<Vec<RawDrift<'a>>>,
    #[serde(borrow, default)]
    prior_state: Option<RawState<'a>>,
    #[serde(default)]
    planned_values: Option<IgnoredAny>,
    #[serde(borrow, default)]
    configuration: Option<RawConfiguration<'a>>,
    #[serde(borrow, default)]
    action_invocations: Option<Vec<RawActionInvocation<'a>>>,
    #[serde(borrow, default)]
    deferred_action_invocations: Option<Vec<RawDeferredAction<'a>>>,
    // Present in state files and in `terraform show -json` of a state: used to name them.
    #[serde(default)]
    lineage: Option<IgnoredAny>,
    #[serde(default)]
    serial: Option<IgnoredAny>,
    #[serde(default)]
    values: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawResourceChange<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    module_address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type", default)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    provider_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    action_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    previous_address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    deposed: Option<Cow<'a, str>>,
    #[serde(borrow)]
    change: RawChange<'a>,
}

/// One of Terraform 1.14+'s `action_invocations`: only what ties it to a destroy is read.
#[derive(Deserialize)]
struct RawActionInvocation<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    lifecycle_action_trigger: Option<RawLifecycleTrigger<'a>>,
}

#[derive(Deserialize)]
struct RawLifecycleTrigger<'a> {
    #[serde(borrow, default)]
    triggering_resource_address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    action_trigger_event: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawDeferredAction<'a> {
    #[serde(borrow, default)]
    action_invocation: Option<RawActionInvocation<'a>>,
}

#[derive(Deserialize)]
struct RawChange<'a> {
    #[serde(borrow)]
    actions: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    before: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after: Option<&'a RawValue>,
    #[serde(borrow, default)]
    before_sensitive: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after_sensitive: Option<&'a RawValue>,
    #[serde(borrow, default)]
    before_identity: Option<&'a RawValue>,
    #[serde(default)]
    importing: Option<IgnoredAny>,
    #[serde(default)]
    replace_paths: Option<Vec<Vec<PathStep>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PathStep {
    Key(String),
    Index(i64),
}

#[derive(Deserialize)]
struct RawDrift<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow)]
    change: RawDriftChange<'a>,
}

#[derive(Deserialize)]
struct RawDriftChange<'a> {
    #[serde(borrow)]
    actions: Vec<Cow<'a, str>>,
}

// Of each prior-state resource only its mode, address and `depends_on` are read (borrowed):
// its values are skipped.
#[derive(Deserialize)]
struct RawState<'a> {
    #[serde(borrow, default)]
    values: Option<RawStateValues<'a>>,
}

#[derive(Deserialize)]
struct RawStateValues<'a> {
    #[serde(borrow, default)]
    root_module: Option<RawStateModule<'a>>,
}

#[derive(Deserialize)]
struct RawStateModule<'a> {
    #[serde(borrow, default)]
    resources: Option<Vec<RawStateResource<'a>>>,
    #[serde(borrow, default)]
    child_modules: Option<Vec<RawStateModule<'a>>>,
}

#[derive(Deserialize)]
struct RawStateResource<'a> {
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    depends_on: Option<Vec<Cow<'a, str>>>,
}

/// Of `configuration`, the root module and the provider configurations as raw JSON: read for
/// the dependencies between resources (`input::configuration`) and the accounts the providers
/// target.
#[derive(Deserialize)]
struct RawConfiguration<'a> {
    #[serde(borrow, default)]
    root_module: Option<&'a RawValue>,
    #[serde(borrow, default)]
    provider_config: Option<&'a RawValue>,
}

impl RawStateModule<'_> {
    fn managed_count(&self) -> usize {
        let own = self
            .resources
            .iter()
            .flatten()
            .filter(|r| r.mode.as_deref() != Some("data"))
            .count();
        own + self
            .child_modules
            .iter()
            .flatten()
            .map(RawStateModule::managed_count)
            .sum::<usize>()
    }
}

/// Every prior-state instance that records dependencies, taken out of the module tree.
fn state_dependencies<'a>(module: &mut RawStateModule<'a>, out: &mut Vec<StateDependency<'a>>) {
    for r in module.resources.iter_mut().flatten() {
        if let (Some(address), Some(depends_on)) = (r.address.take(), r.depends_on.take()) {
            if !depends_on.is_empty() {
                out.push(StateDependency {
                    address,
                    depends_on,
                });
            }
        }
    }
    for child in module.child_modules.iter_mut().flatten() {
        state_dependencies(child, out);
    }
}

/// Parse plan JSON text and check that it is a complete, readable plan.
pub fn parse_plan<'a>(json: &'a [u8], path: &Path) -> Result<Plan<'a>> {
    if json.first() == Some(&b'[') {
        return Err(Error::input(
            path,
            "is a JSON array, not a plan: expected the output of `terraform show -json PLANFILE`",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    let raw = RawPlan::deserialize(&mut de).map_err(|e| json_error(path, &e))?;
    if let Err(e) = de.end() {
        return Err(Error::input(
            path,
            format!(
                "has more data after the first JSON document ends (line {}): two documents concatenated? Write exactly one `terraform show -json` output per file",
                e.line()
            ),
        ));
    }
    validate(raw, path)
}

fn validate<'a>(mut raw: RawPlan<'a>, path: &Path) -> Result<Plan<'a>> {
    let format_version = check_document(&raw, path)?;
    let prior_state_resources = raw
        .prior_state
        .as_ref()
        .and_then(|s| s.values.as_ref())
        .and_then(|v| v.root_module.as_ref())
        .map(RawStateModule::managed_count);
    let mut prior_depends_on = Vec::new();
    if let Some(root) = raw
        .prior_state
        .as_mut()
        .and_then(|s| s.values.as_mut())
        .and_then(|v| v.root_module.as_mut())
    {
        state_dependencies(root, &mut prior_depends_on);
    }
    let configuration = raw.configuration.as_ref().and_then(|c| c.root_module);

    // Terraform omits an empty `resource_changes` (refresh-only plans, nothing configured);
    // a cut-off file never gets here, it fails as truncated JSON.
    let raw_changes = raw.resource_changes.unwrap_or_default();
    let mut changes = Vec::with_capacity(raw_changes.len());
    for rc in raw_changes {
        changes.push(normalise_change(rc, path)?);
    }
    check_consistent(&changes, prior_state_resources, configuration, path)?;

    let mut drift = Vec::new();
    for d in raw.resource_drift.unwrap_or_default() {
        let action = Action::from_list(&d.change.actions).ok_or_else(|| {
            unknown_actions(path, &d.address, &d.change.actions, "resource_drift")
        })?;
        drift.push(DriftChange {
            address: d.address,
            action,
        });
    }

    let invocations = raw
        .action_invocations
        .unwrap_or_default()
        .into_iter()
        .chain(
            raw.deferred_action_invocations
                .unwrap_or_default()
                .into_iter()
                .filter_map(|d| d.action_invocation),
        );
    let destroy_actions = invocations.filter_map(destroy_action).collect();

    Ok(Plan {
        format_version: format_version.into_owned(),
        terraform_version: raw.terraform_version.map(Cow::into_owned),
        complete: raw.complete,
        applyable: raw.applyable,
        changes,
        drift,
        prior_state_resources,
        destroy_actions,
        provider_config: raw.configuration.as_ref().and_then(|c| c.provider_config),
        configuration,
        prior_depends_on,
    })
}

/// The document is a plan, of a format version plangate reads, that did not fail to plan.
fn check_document<'a>(raw: &RawPlan<'a>, path: &Path) -> Result<Cow<'a, str>> {
    let plan_fields_present =
        raw.resource_changes.is_some() || raw.planned_values.is_some() || raw.prior_state.is_some();
    let Some(format_version) = raw.format_version.clone() else {
        if raw.lineage.is_some() || raw.serial.is_some() {
            return Err(Error::input(
                path,
                "is a Terraform state file, not a plan: run `terraform show -json PLANFILE` on a saved plan",
            ));
        }
        return Err(Error::input(
            path,
            "has no format_version: not the output of `terraform show -json PLANFILE` (hand-edited or trimmed?)",
        ));
    };
    if !plan_fields_present {
        let what = if raw.values.is_some() {
            "is `terraform show -json` of a state, not of a plan: pass the saved plan file to `terraform show -json`"
        } else {
            "has neither resource_changes nor planned_values: not a plan"
        };
        return Err(Error::input(path, what));
    }
    let major = format_version.split('.').next().unwrap_or_default();
    if major != "0" && major != "1" {
        return Err(Error::input(
            path,
            format!(
                "has format_version {}, which plangate does not know (it reads major versions 0 and 1): upgrade plangate",
                printable(&format_version)
            ),
        ));
    }
    if raw.errored == Some(true) {
        return Err(Error::input(
            path,
            "is an errored plan (\"errored\": true): planning failed and the plan is partial; fix the plan errors first",
        ));
    }
    Ok(format_version)
}

/// A plan whose state holds managed resources and whose configuration declares none deletes
/// all of them, and Terraform lists every such delete. One that lists no change at all
/// contradicts itself (trimmed, hand-edited, or written by something else): refused.
fn check_consistent(
    changes: &[ResourceChange<'_>],
    prior_state_resources: Option<usize>,
    configuration: Option<&RawValue>,
    path: &Path,
) -> Result<()> {
    let state = prior_state_resources.unwrap_or(0);
    let planned = changes.iter().filter(|c| c.is_managed()).count();
    // The configuration is read only when it decides.
    let declared = || configuration.map_or(Ok(0), crate::input::configuration::managed_count);
    if state > 0 && planned == 0 && declared().map_err(|e| json_error(path, &e))? == 0 {
        return Err(Error::input(
            path,
            format!(
                "lists no resource changes, but its prior_state holds {state} managed resources and its configuration declares none: a plan that deletes everything lists every delete, so this one is incomplete; write it again with `terraform show -json PLANFILE`"
            ),
        ));
    }
    Ok(())
}

/// An action invocation that a destroy triggers; `None` for every other kind.
fn destroy_action(invocation: RawActionInvocation<'_>) -> Option<DestroyAction> {
    let trigger = invocation.lifecycle_action_trigger?;
    let event = trigger.action_trigger_event?;
    if event != "BeforeDestroy" && event != "AfterDestroy" {
        return None;
    }
    Some(DestroyAction {
        action: printable(&invocation.address),
        resource: trigger.triggering_resource_address?.into_owned(),
        event: event.into_owned(),
    })
}

fn normalise_change<'a>(rc: RawResourceChange<'a>, path: &Path) -> Result<ResourceChange<'a>> {
    let action = Action::from_list(&rc.change.actions)
        // `open` is what an ephemeral resource does, and nothing else.
        .filter(|a| *a != Action::Open || rc.mode.as_deref() == Some("ephemeral"))
        .ok_or_else(|| {
            unknown_actions(path, &rc.address, &rc.change.actions, "resource_changes")
        })?;
    let mode = match rc.mode.as_deref() {
        Some("data") => ResourceMode::Data,
        Some("ephemeral") => ResourceMode::Ephemeral,
        Some("managed") => ResourceMode::Managed,
        Some(other) => {
            return Err(Error::input(
                path,
                format!(
                    "resource {} has an unknown mode {}: plangate cannot judge it",
                    printable(&rc.address),
                    printable(other)
                ),
            ))
        }
        None => return Err(missing_field(path, &rc.address, "mode")),
    };
    let Some(resource_type) = rc.resource_type else {
        return Err(missing_field(path, &rc.address, "type"));
    };
    let replace_paths = match rc.change.replace_paths {
        Some(paths) if !paths.is_empty() => {
            let marks = [rc.change.before_sensitive, rc.change.after_sensitive]
                .into_iter()
                .flatten()
                .filter_map(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
                .collect::<Vec<_>>();
            paths
                .iter()
                .map(|steps| render_path(steps, &marks))
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(ResourceChange {
        resource_type,
        name: rc.name.unwrap_or_default(),
        address: rc.address,
        module_address: rc.module_address,
        mode,
        provider_name: rc.provider_name,
        action,
        action_reason: rc.action_reason,
        previous_address: rc.previous_address,
        deposed: rc.deposed,
        importing: rc.change.importing.is_some(),
        replace_paths,
        before: rc.change.before.filter(|v| v.get() != "null"),
        before_sensitive: rc.change.before_sensitive,
        after: rc.change.after.filter(|v| v.get() != "null"),
        before_identity: rc.change.before_identity.filter(|v| v.get() != "null"),
    })
}

/// A `resource_changes` entry without a field every Terraform writes: not judged by guessing.
fn missing_field(path: &Path, address: &str, field: &str) -> Error {
    Error::input(
        path,
        format!(
            "resource_changes entry {} has no `{field}`: not what `terraform show -json` writes (hand-edited or trimmed?)",
            printable(address)
        ),
    )
}

/// A `replace_paths` entry as `a.b[0]`. Past the first step that either sensitivity tree marks
/// sensitive (a map key may itself be the secret), the rest is `(sensitive)`.
fn render_path(steps: &[PathStep], marks: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().enumerate() {
        if marks.iter().any(|m| marked(m, &steps[..i])) {
            out.push_str(".(sensitive)");
            return out;
        }
        match step {
            PathStep::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&printable(k));
            }
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether a sensitivity tree marks the value at `path` (or one that encloses it) `true`.
fn marked(mut mark: &serde_json::Value, path: &[PathStep]) -> bool {
    use serde_json::Value;
    for step in path {
        if mark == &Value::Bool(true) {
            return true;
        }
        let next = match (mark, step) {
            (Value::Object(map), PathStep::Key(k)) => map.get(k),
            (Value::Array(items), PathStep::Index(i)) => {
                usize::try_from(*i).ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        match next {
            Some(m) => mark = m,
            None => return false,
        }
    }
    mark == &Value::Bool(true)
}

fn unknown_actions(path: &Path, address: &str, actions: &[Cow<'_, str>], section: &str) -> Error {
    let list: Vec<String> = actions
        .iter()
        .map(|a| format!("{:?}", printable(a)))
        .collect();
    Error::input(
        path,
        format!(
            "{section} entry {} has an action list plangate does not know ([{}]): refusing to guess; upgrade plangate",
            printable(address),
            list.join(",")
        ),
    )
}

/// Serde's messages quote values they could not use; a plan value may be a secret, so every
/// quoted string is blanked before the message is shown.
fn json_error(path: &Path, e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    let at = format!("line {} column {}", e.line(), e.column());
    let message = match e.classify() {
        Category::Eof => {
            format!("is truncated: the JSON ends unexpectedly at {at} (an interrupted write or upload?)")
        }
        Category::Syntax => format!(
            "is not valid JSON: {} at {at}",
            strip_position(&redact_quoted(&e.to_string()))
        ),
        Category::Data => format!(
            "is JSON but not a valid plan: {} at {at}",
            strip_position(&redact_quoted(&e.to_string()))
        ),
        Category::Io => format!("could not be read: {e}"),
    };
    Error::input(path, message)
}

fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quote = false;
    for c in message.chars() {
        if c == '"' {
            if in_quote {
                out.push_str("\"…\"");
            }
            in_quote = !in_quote;
        } else if !in_quote {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_checked_across_chunk_boundaries() {
        let text = "aé€😀z".as_bytes();
        for split in 0..=text.len() {
            let mut check = Utf8Check::default();
            check.up_to(text, split);
            check.up_to(text, text.len());
            assert_eq!(check.bad, None, "split at {split}");
            assert_eq!(check.checked, text.len(), "split at {split}");
        }
        // A bad byte is reported where it is, whatever the chunking.
        let bad = b"ab\xc3(cd";
        for split in 0..=bad.len() {
            let mut check = Utf8Check::default();
            check.up_to(bad, split);
            check.up_to(bad, bad.len());
            assert_eq!(check.bad, Some(2), "split at {split}");
        }
        // A character cut off by the end of the text is invalid.
        let mut check = Utf8Check::default();
        check.up_to(&"ab€".as_bytes()[..4], 4);
        assert_eq!(check.bad, Some(2));
        // Stray continuation bytes are invalid wherever a piece ends.
        let stray = b"a\x80\x80\x80\x80\x80b";
        for split in 0..=stray.len() {
            let mut check = Utf8Check::default();
            check.up_to(stray, split);
            check.up_to(stray, stray.len());
            assert_eq!(check.bad, Some(1), "split at {split}");
        }
    }

    #[test]
    fn the_check_pass_finds_what_separate_passes_find() {
        // Several chunks: a UTF-8 character and the deep nesting straddle chunk boundaries.
        let mut text = String::from("{\"a\":\"");
        text.push_str(&"é".repeat(CHECK_CHUNK / 2 + 1));
        text.push_str("\",\"b\":");
        text.push_str(&"[".repeat(decode::MAX_DEPTH + 5));
        text.push_str(&"]".repeat(decode::MAX_DEPTH + 5));
        text.push('}');
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let source = PlanSource::from_bytes(Path::new("p.json"), bytes.clone()).unwrap();
        let (digest, too_deep, bad_utf8) = source.check();
        assert_eq!(digest, crate::input::sha256_hex(&bytes));
        assert_eq!(
            too_deep,
            decode::exceeds_depth(text.as_bytes(), decode::MAX_DEPTH)
        );
        assert!(too_deep.is_some());
        assert_eq!(bad_utf8, None);
        bytes.push(0xff);
        let source = PlanSource::from_bytes(Path::new("p.json"), bytes.clone()).unwrap();
        assert_eq!(source.check().2, Some(text.len()));
    }

    fn parse(json: &str) -> Result<Plan<'_>> {
        parse_plan(json.as_bytes(), Path::new("plan.json"))
    }

    fn err(json: &str) -> String {
        parse(json).unwrap_err().to_string()
    }

    #[test]
    fn open_is_an_ephemeral_action_only() {
        let entry = |mode: &str| {
            format!(
                r#"{{"format_version":"1.2","resource_changes":[{{"address":"x.y","mode":"{mode}","type":"x","name":"y","change":{{"actions":["open"],"before":null,"after":null}}}}]}}"#
            )
        };
        let ephemeral = entry("ephemeral");
        let plan = parse(&ephemeral).unwrap();
        assert_eq!(plan.changes[0].mode, ResourceMode::Ephemeral);
        let managed = entry("managed");
        assert!(
            err(&managed).contains("action list plangate does not know"),
            "{}",
            err(&managed)
        );
    }

    #[test]
    fn replace_paths_under_a_sensitive_value_name_no_key() {
        let text = r#"{"format_version":"1.2","resource_changes":[{"address":"a.b","mode":"managed","type":"a","name":"b",
          "change":{"actions":["delete","create"],"before":{},"before_sensitive":{"tags":true,"list":[false,{"x":true}]},
          "after_sensitive":{"secrets":{"api-key-s3cr3t":true}},
          "replace_paths":[["tags","s3cr3t-key"],["list",1,"x"],["list",0],["secrets","api-key-s3cr3t"],["engine"]]}}]}"#;
        let plan = parse(text).unwrap();
        assert_eq!(
            plan.changes[0].replace_paths,
            [
                "tags.(sensitive)",
                "list[1].x",
                "list[0]",
                "secrets.api-key-s3cr3t",
                "engine"
            ]
        );
    }

    const MINIMAL: &str = r#"{"format_version":"1.2","planned_values":{},"resource_changes":[
      {"address":"aws_instance.web[0]","mode":"managed","type":"aws_instance","name":"web","index":0,
       "change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"before_sensitive":{}}},
      {"address":"aws_db_instance.db","mode":"managed","type":"aws_db_instance","name":"db",
       "action_reason":"replace_because_cannot_update",
       "change":{"actions":["create","delete"],"before":{},"replace_paths":[["engine"],["tags","x"],["list",0]]}},
      {"address":"data.aws_ami.a","mode":"data","type":"aws_ami","name":"a","change":{"actions":["read"],"before":null}}
    ],"resource_drift":[{"address":"aws_s3_bucket.b","change":{"actions":["delete"]}}],
    "prior_state":{"values":{"root_module":{"resources":[{"mode":"managed"},{"mode":"data"}],
      "child_modules":[{"resources":[{"mode":"managed"}]}]}}}}"#;

    #[test]
    fn reads_the_fields_the_gate_needs() {
        let plan = parse(MINIMAL).unwrap();
        assert_eq!(plan.changes.len(), 3);
        assert_eq!(plan.changes[0].action, Action::Delete);
        assert_eq!(plan.changes[1].action, Action::ReplaceCreateFirst);
        assert_eq!(
            plan.changes[1].replace_paths,
            vec!["engine", "tags.x", "list[0]"]
        );
        assert_eq!(plan.changes[2].mode, ResourceMode::Data);
        assert!(plan.changes[2].before.is_none());
        assert_eq!(plan.drift.len(), 1);
        assert_eq!(plan.prior_state_resources, Some(2));
        assert_eq!(plan.state_resource_count(), 2);
    }

    #[test]
    fn fail_closed_cases_name_the_problem() {
        assert!(err(r#"{"planned_values":{}}"#).contains("no format_version"));
        assert!(
            err(r#"{"version":4,"serial":3,"lineage":"x","resources":[]}"#).contains("state file")
        );
        assert!(err(r#"{"format_version":"1.0","values":{}}"#).contains("of a state"));
        assert!(
            err(r#"{"format_version":"2.0","planned_values":{}}"#).contains("format_version 2.0")
        );
        assert!(
            err(r#"{"format_version":"1.2","planned_values":{},"errored":true}"#)
                .contains("errored plan")
        );
        assert!(err(r#"{"format_version":"1.2","planned_values":{}"#).contains("truncated"));
        assert!(
            err(r#"{"format_version":"1.2","planned_values":{}} {"a":1}"#)
                .contains("two documents")
        );
        assert!(err(r#"[1,2]"#).contains("JSON array"));
        assert!(err(r#"{"format_version":"1.2"}"#).contains("neither resource_changes"));
    }

    #[test]
    fn unknown_actions_are_errors_not_passes() {
        let e = err(
            r#"{"format_version":"1.2","planned_values":{},"resource_changes":[
            {"address":"a.b","mode":"managed","type":"a","name":"b","change":{"actions":["obliterate"]}}]}"#,
        );
        assert!(e.contains("does not know"), "{e}");
        assert!(e.contains("obliterate"), "{e}");
    }

    #[test]
    fn refresh_only_plans_without_changes_are_read() {
        // A refresh-only plan still has its configuration: nothing is deleted.
        let plan = parse(
            r#"{"format_version":"1.2","planned_values":{},
            "prior_state":{"values":{"root_module":{"resources":[{"mode":"managed"}]}}},
            "configuration":{"root_module":{"module_calls":{"m":{"module":{"resources":[{"mode":"managed"}]}}}}}}"#,
        )
        .unwrap();
        assert!(plan.changes.is_empty());
        assert_eq!(plan.state_resource_count(), 1);
    }

    #[test]
    fn a_plan_that_deletes_everything_but_lists_nothing_is_refused() {
        let state = r#""prior_state":{"values":{"root_module":{"resources":[{"mode":"managed"},{"mode":"managed"}]}}}"#;
        for changes in [
            "",
            r#""resource_changes":null,"#,
            r#""resource_changes":[],"#,
        ] {
            for config in [
                "",
                r#","configuration":{"root_module":{}}"#,
                r#","configuration":{"root_module":{"resources":[{"mode":"data"}]}}"#,
            ] {
                let text = format!(r#"{{"format_version":"1.2",{changes}{state}{config}}}"#);
                let e = err(&text);
                assert!(e.contains("holds 2 managed resources"), "{text}: {e}");
            }
        }
    }

    #[test]
    fn an_entry_without_mode_or_type_is_refused() {
        let entry = |fields: &str| {
            format!(
                r#"{{"format_version":"1.2","resource_changes":[{{"address":"x.y",{fields}"name":"y","change":{{"actions":["delete"]}}}}]}}"#
            )
        };
        assert!(err(&entry(r#""type":"x","#)).contains("has no `mode`"));
        assert!(err(&entry(r#""mode":"managed","#)).contains("has no `type`"));
        assert!(parse(&entry(r#""mode":"managed","type":"x","#)).is_ok());
    }

    #[test]
    fn type_errors_never_echo_values() {
        let e = err(r#"{"format_version":"1.2","planned_values":{},"errored":"hunter2-secret"}"#);
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn control_characters_are_escaped_in_messages() {
        assert_eq!(printable("a\nb"), "a\\nb");
    }
}
