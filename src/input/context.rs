//! Dependents across projects (DESIGN 13): the identities of every destroyed resource (`id`,
//! `arn`, `self_link`, `before_identity` values, the identity attributes of the policy's
//! protected-resource matching), searched for in one multi-pattern pass
//! ([`crate::input::identity_search`]) over the raw JSON of each other input: the other plans
//! of the run and the `--context` files (`terraform show -json` of another project's state, or
//! its plan). A hit counts when it lies in a resource's prior values; it is mapped back to that
//! resource by the byte spans of the resources' values.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::input::{decode, InputBytes};
use crate::model::policy::IDENTITY_ATTRIBUTES;
use crate::{Error, Result};

/// One `--context` file, kept in memory (mapped when large) while its resources are looked up.
pub struct ContextSource {
    /// The project it stands for: `NAME` of `--context NAME=PATH`, else the path.
    pub name: String,
    pub path: PathBuf,
    bytes: InputBytes,
    transcoded: Option<Vec<u8>>,
    start: usize,
}

impl ContextSource {
    pub fn read(name: String, path: &Path) -> Result<ContextSource> {
        let bytes = crate::input::read_input_bytes(path)?;
        let decoded = decode::json_text(&bytes)
            .map_err(|p| Error::input(path, format!("(a --context file) {}", p.0)))?;
        let (transcoded, start) = match decoded {
            Cow::Borrowed(slice) => (None, slice.as_ptr() as usize - bytes.as_ptr() as usize),
            Cow::Owned(owned) => (Some(owned), 0),
        };
        Ok(ContextSource {
            name,
            path: path.to_path_buf(),
            bytes,
            transcoded,
            start,
        })
    }

    pub fn json(&self) -> &[u8] {
        match &self.transcoded {
            Some(text) => text,
            None => &self.bytes[self.start..],
        }
    }

    /// Every managed resource of the state (or of the plan's prior state), with the span of
    /// its values in [`ContextSource::json`], sorted by position.
    pub fn resources(&self) -> Result<Vec<Located<'_>>> {
        let json = self.json();
        let bad = |what: String| Error::input(&self.path, format!("(a --context file) {what}"));
        let mut de = serde_json::Deserializer::from_slice(json);
        let raw = RawContext::deserialize(&mut de).map_err(|e| {
            bad(format!(
                "is not valid JSON at line {} column {}",
                e.line(),
                e.column()
            ))
        })?;
        de.end()
            .map_err(|_| bad("has more data after its JSON document".into()))?;
        let root = match (raw.values, raw.prior_state) {
            (Some(values), _) => values.root_module,
            (None, Some(prior)) => prior.values.and_then(|v| v.root_module),
            (None, None) if raw.format_version.is_some() => None,
            (None, None) if raw.lineage.is_some() => {
                return Err(bad("is a raw state file: pass `terraform show -json` of it".into()))
            }
            (None, None) => {
                return Err(bad(
                    "is neither `terraform show -json` of a state nor a plan (no format_version, values or prior_state)".into(),
                ))
            }
        };
        let mut out = Vec::new();
        if let Some(root) = root {
            collect(root, json, &mut out);
        }
        out.sort_by_key(|r| r.start);
        Ok(out)
    }
}

/// A resource of another input and where its prior values are in that input's text.
#[derive(Debug, Clone)]
pub struct Located<'a> {
    pub address: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
}

/// The span of a raw value inside `json`, which it borrows from.
pub fn span(json: &[u8], raw: &RawValue) -> (usize, usize) {
    let start = raw.get().as_ptr() as usize - json.as_ptr() as usize;
    (start, start + raw.get().len())
}

fn collect<'a>(module: RawModule<'a>, json: &[u8], out: &mut Vec<Located<'a>>) {
    for r in module.resources {
        if r.mode.as_deref() == Some("data") {
            continue;
        }
        if let Some(values) = r.values {
            let (start, end) = span(json, values);
            out.push(Located {
                address: r.address,
                start,
                end,
            });
        }
    }
    for child in module.child_modules {
        collect(child, json, out);
    }
}

#[derive(Deserialize)]
struct RawContext<'a> {
    #[serde(default)]
    format_version: Option<IgnoredAny>,
    #[serde(default)]
    lineage: Option<IgnoredAny>,
    #[serde(borrow, default)]
    values: Option<RawValues<'a>>,
    #[serde(borrow, default)]
    prior_state: Option<RawPrior<'a>>,
}

#[derive(Deserialize)]
struct RawPrior<'a> {
    #[serde(borrow, default)]
    values: Option<RawValues<'a>>,
}

#[derive(Deserialize)]
struct RawValues<'a> {
    #[serde(borrow, default)]
    root_module: Option<RawModule<'a>>,
}

#[derive(Deserialize)]
struct RawModule<'a> {
    #[serde(borrow, default)]
    resources: Vec<RawResource<'a>>,
    #[serde(borrow, default)]
    child_modules: Vec<RawModule<'a>>,
}

#[derive(Deserialize)]
struct RawResource<'a> {
    #[serde(borrow, default)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    values: Option<&'a RawValue>,
}

/// Identity attributes read from a destroyed resource's prior values, besides every string of
/// its `before_identity`.
pub fn identity_attributes() -> impl Iterator<Item = &'static str> {
    IDENTITY_ATTRIBUTES.into_iter()
}

/// Values too common to identify anything, even when long enough.
const COMMON: &[&str] = &[
    "disabled",
    "enabled",
    "external",
    "internal",
    "standard",
    "regional",
    "terraform",
    "kubernetes",
    "production",
    "development",
    "staging",
    "private",
    "public",
];

/// Shortest identity searched for.
pub const MIN_IDENTITY_LEN: usize = 8;

/// Whether a value can identify one object: long enough, not a plain number below 12 digits,
/// not a common word.
pub fn searchable(value: &str) -> bool {
    let numeric = value
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    let too_plain = value.len() < MIN_IDENTITY_LEN
        || (numeric && value.len() < 12)
        || COMMON.contains(&value.to_ascii_lowercase().as_str());
    // Quotes and backslashes are escaped in JSON text: such a value is never found as written.
    !too_plain && !value.contains(['"', '\\'])
}

/// The string values of `attributes` at the top level of prior values (skipping any that the
/// sensitivity marks hide), in attribute order.
pub fn top_level_strings(
    before: &RawValue,
    sensitive: Option<&RawValue>,
    attributes: &[&str],
) -> Vec<(String, String)> {
    let hidden: Vec<String> = sensitive
        .and_then(|s| serde_json::from_str::<Marks>(s.get()).ok())
        .map(|m| m.0)
        .unwrap_or_default();
    if hidden.iter().any(|h| h == "*") {
        return Vec::new();
    }
    let Ok(found) = serde_json::from_str::<Strings>(before.get()) else {
        return Vec::new();
    };
    found
        .0
        .into_iter()
        .filter(|(k, _)| attributes.contains(&k.as_str()) && !hidden.contains(k))
        .collect()
}

/// The object's own identity values (`id`, `arn`, `self_link`) from the JSON text of its
/// values (a span of an input).
pub fn own_identities(values: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Strings>(values)
        .map(|s| {
            s.0.into_iter()
                .filter(|(k, _)| matches!(k.as_str(), "id" | "arn" | "self_link"))
                .map(|(_, v)| v)
                .collect()
        })
        .unwrap_or_default()
}

/// The top-level string values of an object.
struct Strings(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strings;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("prior values")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Strings, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match map.next_value::<Scalar>()? {
                        Scalar::Text(v) => out.push((key, v)),
                        Scalar::False | Scalar::Other => {}
                    }
                }
                Ok(Strings(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Attributes a sensitivity tree marks `true` at the top level (`*`: all of it).
struct Marks(Vec<String>);

impl<'de> Deserialize<'de> for Marks {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Marks;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("sensitivity marks")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Marks, E> {
                Ok(Marks(if v { vec!["*".into()] } else { Vec::new() }))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Marks, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    // Anything but `false` may hide a part of the value: the value is not used.
                    if !matches!(map.next_value::<Scalar>()?, Scalar::False) {
                        out.push(key);
                    }
                }
                Ok(Marks(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value: a string kept, `false` told apart, anything else skipped.
enum Scalar {
    Text(String),
    False,
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Scalar, E> {
                Ok(if v { Scalar::Other } else { Scalar::False })
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The index of the resource of `resources` (sorted by start) whose values span holds
/// `offset`.
pub fn owner(resources: &[Located<'_>], offset: usize) -> Option<usize> {
    let i = resources
        .partition_point(|r| r.start <= offset)
        .checked_sub(1)?;
    (offset < resources[i].end).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_common_values_are_not_searched() {
        for value in [
            "default",
            "true",
            "12345",
            "1234567890",
            "Enabled",
            "disabled",
            "a\"b-long-value",
        ] {
            assert!(!searchable(value), "{value}");
        }
        for value in ["vpc-0dev1", "arn:aws:s3:::bucket", "123456789012"] {
            assert!(searchable(value), "{value}");
        }
    }

    #[test]
    fn sensitive_identities_are_never_used() {
        let before =
            RawValue::from_string(r#"{"id":"secret-id-1","arn":"arn:aws:x:y","name":"n"}"#.into())
                .unwrap();
        let marks = RawValue::from_string(r#"{"id":true,"arn":false}"#.into()).unwrap();
        let found = top_level_strings(&before, Some(&marks), &["id", "arn"]);
        assert_eq!(found, [("arn".to_string(), "arn:aws:x:y".to_string())]);
        let all = RawValue::from_string("true".into()).unwrap();
        assert!(top_level_strings(&before, Some(&all), &["id", "arn"]).is_empty());
    }
}
