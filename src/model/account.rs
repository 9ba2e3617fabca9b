//! Cloud accounts: the AWS account, GCP project, Azure subscription or Kubernetes context an
//! object lives in, read from a resource's own values or identity, and the accounts a plan's
//! provider configurations target. A policy environment lists its accounts (`accounts:`); an
//! account it lists is a strong environment signal (DESIGN section 13a).

use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::model::environment::sensitive_at;

/// An account and where it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// As the plan writes it: `111122223333`, `orders-prod`, a subscription GUID, a context.
    pub id: String,
    /// The attribute or setting it was read from: `arn`, `owner_id`, `assume_role.role_arn`.
    pub source: &'static str,
}

impl Account {
    fn new(id: &str, source: &'static str) -> Account {
        Account {
            id: id.to_string(),
            source,
        }
    }
}

/// The top-level prior-value attributes an account is read from.
pub const ACCOUNT_ATTRIBUTES: [&str; 6] = [
    "arn",
    "id",
    "self_link",
    "owner_id",
    "project",
    "account_id",
];

/// Reads an account out of one attribute's text.
type Reading = fn(&str) -> Option<&str>;

/// The readings of an object's own attributes, most telling first: its own ARN or resource
/// ID names the account it lives in; `account_id` comes last because on some resources
/// (memberships, launch permissions) it names another account, the one granted something.
const READINGS: [(&str, Reading); 7] = [
    ("arn", arn_account),
    ("id", arn_or_subscription),
    ("self_link", gcp_project_in_path),
    ("owner_id", aws_account_id),
    ("project", gcp_project_id),
    ("id", gcp_project_in_path),
    ("account_id", aws_account_id),
];

/// The account an object lives in, from its top-level attributes. `text(attr)` is the
/// attribute's string value when it may be read: present, a string, and not sensitive.
pub fn account_from<'v>(text: impl Fn(&'static str) -> Option<&'v str>) -> Option<Account> {
    READINGS.iter().find_map(|(attr, read)| {
        let value = text(attr)?;
        read(value).map(|id| Account::new(id, attr))
    })
}

/// The account in an object's values (`change.before` or `after`); an attribute marked in
/// `sensitive` (the matching `*_sensitive` tree) is never read.
pub fn account_in_values(values: &Value, sensitive: Option<&Value>) -> Option<Account> {
    account_from(|attr| {
        if sensitive.is_some_and(|s| sensitive_at(s, &[attr])) {
            return None;
        }
        values.get(attr)?.as_str()
    })
}

/// The account in a provider's identity of the object (`before_identity`, Terraform 1.12+ and
/// OpenTofu 1.12): AWS `account_id`, Google `project`, Azure `subscription_id`.
pub fn account_in_identity(identity: &Value) -> Option<Account> {
    let readings: [(&str, &'static str, Reading); 3] = [
        ("account_id", "identity account_id", aws_account_id),
        ("project", "identity project", gcp_project_id),
        (
            "subscription_id",
            "identity subscription_id",
            subscription_id,
        ),
    ];
    readings.iter().find_map(|(key, source, read)| {
        let value = identity.get(*key)?.as_str()?;
        read(value).map(|id| Account::new(id, source))
    })
}

/// The account of a plan entry read from its raw JSON: its identity first, then its values
/// (attributes marked in `sensitive` are skipped). Only the account attributes are parsed.
pub fn account_in_raw(
    identity: Option<&RawValue>,
    values: Option<&RawValue>,
    sensitive: Option<&RawValue>,
) -> Option<Account> {
    if let Some(found) = identity
        .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
        .and_then(|v| account_in_identity(&v))
    {
        return Some(found);
    }
    let values: AccountValues<'_> = serde_json::from_str(values?.get()).ok()?;
    let marks: SensitiveMarks = match sensitive.map(|raw| raw.get().trim()) {
        None => SensitiveMarks::default(),
        Some("true") => return None,
        Some(text) => serde_json::from_str(text).unwrap_or_default(),
    };
    account_from(|attr| {
        if marks.get(attr) {
            return None;
        }
        values.get(attr)
    })
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` of an AWS partition (`aws`, `aws-cn`,
/// `aws-us-gov`, ...): the 12-digit account, when the ARN has one (S3 buckets' do not; AWS
/// managed policies say `aws`).
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" || !parts.next()?.starts_with("aws") {
        return None;
    }
    let (_service, _region) = (parts.next()?, parts.next()?);
    let account = parts.next()?;
    parts.next()?;
    aws_account_id(account)
}

/// An AWS account ID: exactly 12 digits.
pub fn aws_account_id(text: &str) -> Option<&str> {
    (text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

/// The subscription of an Azure resource ID (`/subscriptions/<guid>/resourceGroups/...`).
pub fn azure_subscription(id: &str) -> Option<&str> {
    let prefix = "/subscriptions/";
    let head = id.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    subscription_id(id[prefix.len()..].split('/').next()?)
}

/// An Azure subscription ID: a GUID's hex digits and hyphens.
fn subscription_id(text: &str) -> Option<&str> {
    let hex = text.bytes().filter(u8::is_ascii_hexdigit).count();
    let hyphens = text.bytes().filter(|b| *b == b'-').count();
    (hex == 32 && hyphens == text.len() - hex).then_some(text)
}

fn arn_or_subscription(id: &str) -> Option<&str> {
    arn_account(id).or_else(|| azure_subscription(id))
}

/// The project of a Google resource path or link: the segment after `projects/`
/// (`https://www.googleapis.com/compute/v1/projects/orders-prod/zones/...`).
pub fn gcp_project_in_path(path: &str) -> Option<&str> {
    let mut segments = path.split('/');
    while let Some(segment) = segments.next() {
        if segment == "projects" {
            return segments.next().and_then(gcp_project_id);
        }
    }
    None
}

/// A Google project ID (`orders-prod`, `example.com:orders`) or project number: lower-case
/// letters, digits, hyphens, and a domain's dots and colon.
pub fn gcp_project_id(text: &str) -> Option<&str> {
    let first_ok = text.bytes().next()?.is_ascii_alphanumeric();
    let all_ok = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:".contains(&b));
    (first_ok && all_ok && text.len() <= 100).then_some(text)
}

/// The account attributes of an object's values, parsed without building anything else.
#[derive(Default, serde::Deserialize)]
struct AccountValues<'a> {
    #[serde(borrow, default)]
    arn: Text<'a>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    self_link: Text<'a>,
    #[serde(borrow, default)]
    owner_id: Text<'a>,
    #[serde(borrow, default)]
    project: Text<'a>,
    #[serde(borrow, default)]
    account_id: Text<'a>,
}

impl AccountValues<'_> {
    fn get(&self, attr: &str) -> Option<&str> {
        let text = match attr {
            "arn" => &self.arn,
            "id" => &self.id,
            "self_link" => &self.self_link,
            "owner_id" => &self.owner_id,
            "project" => &self.project,
            "account_id" => &self.account_id,
            _ => return None,
        };
        text.0.as_deref()
    }
}

/// Which account attributes a `*_sensitive` tree marks `true`.
#[derive(Default, serde::Deserialize)]
struct SensitiveMarks {
    #[serde(default)]
    arn: Mark,
    #[serde(default)]
    id: Mark,
    #[serde(default)]
    self_link: Mark,
    #[serde(default)]
    owner_id: Mark,
    #[serde(default)]
    project: Mark,
    #[serde(default)]
    account_id: Mark,
}

impl SensitiveMarks {
    fn get(&self, attr: &str) -> bool {
        let mark = match attr {
            "arn" => &self.arn,
            "id" => &self.id,
            "self_link" => &self.self_link,
            "owner_id" => &self.owner_id,
            "project" => &self.project,
            "account_id" => &self.account_id,
            _ => return false,
        };
        mark.0
    }
}

/// A value kept only when it is a string; anything else is skipped.
#[derive(Default)]
struct Text<'a>(Option<Cow<'a, str>>);

/// A sensitivity mark: `true` marks the value; anything else (a tree of marks) is skipped.
#[derive(Default)]
struct Mark(bool);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Kept(|v: Scalar<'de>| match v {
            Scalar::Str(s) => Text(Some(s)),
            _ => Text(None),
        }))
    }
}

impl<'de> Deserialize<'de> for Mark {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Kept(|v: Scalar<'de>| Mark(matches!(v, Scalar::True))))
    }
}

/// The one thing [`Kept`] tells apart: a string, `true`, or anything else.
enum Scalar<'de> {
    Str(Cow<'de, str>),
    True,
    Other,
}

/// Visits any JSON value, skipping containers without building them.
struct Kept<F>(F);

impl<'de, T, F: FnOnce(Scalar<'de>) -> T> Visitor<'de> for Kept<F> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<T, E> {
        Ok((self.0)(Scalar::Str(Cow::Borrowed(v))))
    }

    fn visit_str<E>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(Scalar::Str(Cow::Owned(v.to_string()))))
    }

    fn visit_bool<E>(self, v: bool) -> Result<T, E> {
        Ok((self.0)(if v { Scalar::True } else { Scalar::Other }))
    }

    fn visit_i64<E>(self, _: i64) -> Result<T, E> {
        Ok((self.0)(Scalar::Other))
    }

    fn visit_u64<E>(self, _: u64) -> Result<T, E> {
        Ok((self.0)(Scalar::Other))
    }

    fn visit_f64<E>(self, _: f64) -> Result<T, E> {
        Ok((self.0)(Scalar::Other))
    }

    fn visit_unit<E>(self) -> Result<T, E> {
        Ok((self.0)(Scalar::Other))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((self.0)(Scalar::Other))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((self.0)(Scalar::Other))
    }
}

/// A provider configuration of the plan (`configuration.provider_config`) and the accounts
/// it may run in: one of `accounts` is where its resources go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderTarget {
    /// Its key in `provider_config`: `aws`, `aws.prod`, `module.net:aws`.
    pub key: String,
    /// `registry.terraform.io/hashicorp/aws`, as resource changes name their provider; the
    /// local name when the plan gives no full name.
    pub provider: String,
    /// `module.net` for a configuration declared inside a module; empty at the root.
    pub module: String,
    /// Every account it may target, read from constant values only. Several when
    /// `allowed_account_ids` lists several; none when nothing says.
    pub accounts: Vec<Account>,
}

/// The provider configurations of a plan with what they say about their accounts. A shape
/// plangate does not expect says nothing (Terraform's JSON keys are open), never an error.
pub fn provider_targets(provider_config: Option<&RawValue>) -> Vec<ProviderTarget> {
    let Some(Value::Object(configs)) =
        provider_config.and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
    else {
        return Vec::new();
    };
    let mut targets: Vec<ProviderTarget> = configs
        .iter()
        .map(|(key, config)| {
            let text = |field: &str| config.get(field).and_then(Value::as_str);
            let provider = text("full_name").or(text("name")).unwrap_or(key);
            ProviderTarget {
                key: key.clone(),
                provider: provider.to_string(),
                module: text("module_address").unwrap_or_default().to_string(),
                accounts: config
                    .get("expressions")
                    .map(configured_accounts)
                    .unwrap_or_default(),
            }
        })
        .collect();
    targets.sort_by(|a, b| a.key.cmp(&b.key));
    targets
}

/// The accounts a provider block's expressions name with constant values. A role to assume
/// is where the provider works, so it wins over `allowed_account_ids`; with chained roles
/// (`assume_role` as a list) the last one is.
fn configured_accounts(expressions: &Value) -> Vec<Account> {
    let mut found = Vec::new();
    for (block, source) in [
        ("assume_role", "assume_role.role_arn"),
        (
            "assume_role_with_web_identity",
            "assume_role_with_web_identity.role_arn",
        ),
    ] {
        let last = blocks(expressions.get(block)).last();
        if let Some(id) = last
            .and_then(|b| constant_text(b, "role_arn"))
            .and_then(arn_account)
        {
            found.push(Account::new(id, source));
        }
    }
    if found.is_empty() {
        let allowed = expressions
            .get("allowed_account_ids")
            .and_then(|e| e.get("constant_value"));
        let ids: Vec<&str> = match allowed {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(one)) => vec![one.as_str()],
            _ => Vec::new(),
        };
        found.extend(
            ids.into_iter()
                .map(|id| Account::new(id, "allowed_account_ids")),
        );
    }
    for (field, source) in [
        ("project", "project"),
        ("subscription_id", "subscription_id"),
        ("config_context", "config_context"),
    ] {
        if let Some(id) = constant_text(expressions, field) {
            found.push(Account::new(id, source));
        }
    }
    // The helm provider keeps its cluster in a `kubernetes` block (an object in helm 3).
    let helm = expressions.get("kubernetes");
    let context = blocks(helm)
        .find_map(|b| constant_text(b, "config_context"))
        .or_else(|| helm?.get("constant_value")?.get("config_context")?.as_str());
    if let Some(id) = context {
        found.push(Account::new(id, "kubernetes.config_context"));
    }
    found.retain(|a| !a.id.is_empty());
    found
}

/// Nested blocks as Terraform writes them: a list of expression maps, or one map.
fn blocks(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    let (list, one) = match value {
        Some(Value::Array(items)) => (items.as_slice(), None),
        Some(v @ Value::Object(map)) if !map.contains_key("constant_value") => (&[][..], Some(v)),
        _ => (&[][..], None),
    };
    list.iter().chain(one)
}

/// A block's attribute given as a constant string (`{"constant_value": "..."}`); an
/// expression with references is not known before apply.
fn constant_text<'v>(block: &'v Value, field: &str) -> Option<&'v str> {
    block.get(field)?.get("constant_value")?.as_str()
}

/// A quick test for whether a JSON text can hold any of the policy's accounts, so that only
/// the values that do are parsed: one pass over the text, as fast as a literal search.
pub struct AccountFinder {
    pattern: Option<regex::bytes::Regex>,
    /// There are accounts to find: without a pattern (one could not be built), every text
    /// may hold one.
    any: bool,
}

impl AccountFinder {
    pub fn new<'a>(accounts: impl IntoIterator<Item = &'a str>) -> AccountFinder {
        let alternatives: Vec<String> = accounts
            .into_iter()
            .filter(|a| !a.is_empty())
            .map(regex::escape)
            .collect();
        let any = !alternatives.is_empty();
        let pattern = any
            .then(|| {
                regex::bytes::RegexBuilder::new(&alternatives.join("|"))
                    .case_insensitive(true)
                    .build()
                    .ok()
            })
            .flatten();
        AccountFinder { pattern, any }
    }

    /// Whether `text` may hold one of the accounts (a literal occurrence). With no accounts
    /// nothing can.
    pub fn may_hold(&self, text: &str) -> bool {
        match &self.pattern {
            Some(pattern) => pattern.is_match(text.as_bytes()),
            None => self.any,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(value: &Value) -> Box<RawValue> {
        RawValue::from_string(value.to_string()).unwrap()
    }

    fn id(found: Option<Account>) -> Option<(String, &'static str)> {
        found.map(|a| (a.id, a.source))
    }

    #[test]
    fn arns_of_every_aws_partition_name_their_account() {
        for (arn, want) in [
            (
                "arn:aws:iam::123456789012:role/orders",
                Some("123456789012"),
            ),
            (
                "arn:aws-us-gov:rds:us-gov-west-1:111122223333:db:orders",
                Some("111122223333"),
            ),
            (
                "arn:aws-cn:ec2:cn-north-1:444455556666:vpc/vpc-1",
                Some("444455556666"),
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1",
                Some("123456789012"),
            ),
            // S3 bucket ARNs have no account; AWS managed policies say `aws`.
            ("arn:aws:s3:::orders-assets", None),
            ("arn:aws:iam::aws:policy/ReadOnlyAccess", None),
            ("arn:aws:iam::12345678901:role/short", None),
            ("arn:azure:x::123456789012:y", None),
            ("arn:aws:iam::123456789012", None),
            ("not-an-arn", None),
        ] {
            assert_eq!(arn_account(arn), want, "{arn}");
        }
    }

    /// Value shapes as real plans write them (the shared corpus's AWS and Google plans; the
    /// values are made up).
    #[test]
    fn accounts_from_real_value_shapes() {
        let role = json!({"arn": "arn:aws:iam::123456789012:instance-profile/orders-web-profile",
            "id": "orders-web-profile", "name": "orders-web-profile"});
        assert_eq!(
            id(account_in_values(&role, None)),
            Some(("123456789012".into(), "arn"))
        );
        let alb = json!({"id": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders-web-alb/50dc6c495c0c9188",
            "internal": true});
        assert_eq!(
            id(account_in_values(&alb, None)),
            Some(("123456789012".into(), "id"))
        );
        let sg = json!({"owner_id": "123456789012", "vpc_id": "vpc-1", "arn": null});
        assert_eq!(
            id(account_in_values(&sg, None)),
            Some(("123456789012".into(), "owner_id"))
        );
        let instance = json!({"project": "orders-dev-1", "zone": "us-central1-a",
            "self_link": null, "name": "tgc-iam"});
        assert_eq!(
            id(account_in_values(&instance, None)),
            Some(("orders-dev-1".into(), "project"))
        );
        let disk = json!({"self_link": "https://www.googleapis.com/compute/v1/projects/orders-prod/zones/europe-west1-b/disks/data",
            "project": "orders-prod"});
        assert_eq!(
            id(account_in_values(&disk, None)),
            Some(("orders-prod".into(), "self_link"))
        );
        // google_service_account's account_id is the account's short name, not an AWS account.
        let sa = json!({"account_id": "abc123", "display_name": "x"});
        assert_eq!(account_in_values(&sa, None), None);
        let rg = json!({"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/orders-prod",
            "name": "orders-prod"});
        assert_eq!(
            id(account_in_values(&rg, None)),
            Some(("0b1f6471-1bf0-4dda-aec3-cb9272f09590".into(), "id"))
        );
        let secret = json!({"id": "projects/orders-prod/secrets/db-password"});
        assert_eq!(
            id(account_in_values(&secret, None)),
            Some(("orders-prod".into(), "id"))
        );
        assert_eq!(account_in_values(&json!({"id": "i-0abc"}), None), None);
    }

    #[test]
    fn the_objects_own_arn_wins_over_an_account_it_names() {
        // A membership names the member account; its own ARN says where it lives.
        let member = json!({"account_id": "999999999999", "arn": "arn:aws:guardduty:eu-west-1:111122223333:detector/x/member/999999999999"});
        assert_eq!(
            id(account_in_values(&member, None)),
            Some(("111122223333".into(), "arn"))
        );
    }

    #[test]
    fn sensitive_attributes_are_never_read() {
        let before = json!({"arn": "arn:aws:iam::123456789012:role/x", "owner_id": "111122223333"});
        let marks = json!({"arn": true});
        assert_eq!(
            id(account_in_values(&before, Some(&marks))),
            Some(("111122223333".into(), "owner_id"))
        );
        assert_eq!(account_in_values(&before, Some(&json!(true))), None);
        let raw_before = raw(&before);
        assert_eq!(
            id(account_in_raw(
                None,
                Some(&raw_before),
                Some(&raw(&json!({"arn": true, "owner_id": true})))
            )),
            None
        );
        assert_eq!(
            account_in_raw(None, Some(&raw_before), Some(&raw(&json!(true)))),
            None
        );
    }

    #[test]
    fn raw_values_are_read_like_parsed_ones() {
        let before = json!({"tags": {"env": "x"}, "arn": "arn:aws:rds:eu-west-1:111122223333:db:orders",
            "id": 42, "project": ["list"], "nested": {"arn": "arn:aws:iam::999999999999:role/x"}});
        let marks = json!({"tags": {"env": true}, "project": [true]});
        assert_eq!(
            account_in_raw(None, Some(&raw(&before)), Some(&raw(&marks))),
            account_in_values(&before, Some(&marks))
        );
        assert_eq!(
            id(account_in_raw(None, Some(&raw(&before)), None)),
            Some(("111122223333".into(), "arn"))
        );
    }

    #[test]
    fn identities_name_their_account_first() {
        // AWS provider identity schemas as in Terraform 1.12's plans.
        let identity =
            raw(&json!({"account_id": "111122223333", "region": "eu-west-1", "bucket": "exports"}));
        let before = raw(&json!({"arn": "arn:aws:s3:::exports"}));
        assert_eq!(
            id(account_in_raw(Some(&identity), Some(&before), None)),
            Some(("111122223333".into(), "identity account_id"))
        );
        let google = json!({"project": "orders-prod", "name": "x"});
        assert_eq!(
            id(account_in_identity(&google)),
            Some(("orders-prod".into(), "identity project"))
        );
    }

    #[test]
    fn provider_configurations_name_the_accounts_they_target() {
        // The shapes Terraform's jsonconfig writes: attributes as expressions, nested blocks as
        // lists of expression maps; references instead of constants say nothing.
        let config = raw(&json!({
            "aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
                "expressions": {"region": {"constant_value": "eu-west-1"},
                    "allowed_account_ids": {"constant_value": ["111122223333", "444455556666"]}}},
            "aws.prod": {"name": "aws", "alias": "prod", "full_name": "registry.terraform.io/hashicorp/aws",
                "expressions": {"allowed_account_ids": {"constant_value": ["111122223333"]},
                    "assume_role": [{"role_arn": {"constant_value": "arn:aws:iam::999999999999:role/deploy"}}]}},
            "aws.chained": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
                "expressions": {"assume_role": [
                    {"role_arn": {"constant_value": "arn:aws:iam::111122223333:role/hop"}},
                    {"role_arn": {"references": ["var.role"]}}]}},
            "module.net:google": {"name": "google", "full_name": "registry.terraform.io/hashicorp/google",
                "module_address": "module.net", "expressions": {"project": {"constant_value": "net-prod"}}},
            "azurerm": {"name": "azurerm", "expressions": {"features": [{}],
                "subscription_id": {"constant_value": "0b1f6471-1bf0-4dda-aec3-cb9272f09590"}}},
            "kubernetes": {"name": "kubernetes", "expressions": {"config_context": {"constant_value": "prod-eu"}}},
            "helm": {"name": "helm", "expressions": {"kubernetes": [{"config_context": {"constant_value": "stg-eu"}}]}},
            "helm.v3": {"name": "helm", "expressions": {"kubernetes": {"constant_value": {"config_context": "dev-eu"}}}},
            "google.refs": {"name": "google", "expressions": {"project": {"references": ["var.project"]}}}
        }));
        let targets = provider_targets(Some(&config));
        let by_key = |k: &str| targets.iter().find(|t| t.key == k).unwrap();
        let ids = |k: &str| -> Vec<(String, &str)> {
            by_key(k)
                .accounts
                .iter()
                .map(|a| (a.id.clone(), a.source))
                .collect()
        };
        assert_eq!(
            ids("aws"),
            [
                ("111122223333".to_string(), "allowed_account_ids"),
                ("444455556666".to_string(), "allowed_account_ids")
            ]
        );
        assert_eq!(
            ids("aws.prod"),
            [("999999999999".to_string(), "assume_role.role_arn")]
        );
        assert!(ids("aws.chained").is_empty(), "the last role is not known");
        assert_eq!(by_key("module.net:google").module, "module.net");
        assert_eq!(
            ids("module.net:google"),
            [("net-prod".to_string(), "project")]
        );
        assert_eq!(by_key("azurerm").provider, "azurerm");
        assert_eq!(
            ids("kubernetes"),
            [("prod-eu".to_string(), "config_context")]
        );
        assert_eq!(
            ids("helm"),
            [("stg-eu".to_string(), "kubernetes.config_context")]
        );
        assert_eq!(
            ids("helm.v3"),
            [("dev-eu".to_string(), "kubernetes.config_context")]
        );
        assert!(ids("google.refs").is_empty());
        assert!(provider_targets(None).is_empty());
        assert!(provider_targets(Some(&raw_text("[1]"))).is_empty());
    }

    fn raw_text(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn the_finder_only_lets_through_texts_that_hold_an_account() {
        let finder = AccountFinder::new(["111122223333", "Orders-Prod"]);
        assert!(finder.may_hold(r#"{"arn":"arn:aws:iam::111122223333:role/x"}"#));
        assert!(finder.may_hold(r#"{"project":"orders-prod"}"#));
        assert!(!finder.may_hold(r#"{"arn":"arn:aws:iam::444455556666:role/x"}"#));
        assert!(!AccountFinder::new([]).may_hold("111122223333"));
        let unicode = AccountFinder::new(["kontekst-ÆØÅ"]);
        assert!(unicode.may_hold(r#"{"context":"kontekst-æøå"}"#));
    }
}
