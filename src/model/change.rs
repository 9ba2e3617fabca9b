//! One planned change to one resource instance, normalised from the plan's `resource_changes`.

use std::borrow::Cow;

use serde_json::value::RawValue;

/// What Terraform/OpenTofu will do to one resource instance. Every action list a plan can hold
/// maps to exactly one variant; an unrecognised list is an input error, never a silent no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    /// `["delete","create"]`: the old object is destroyed first.
    ReplaceDeleteFirst,
    /// `["create","delete"]` (create_before_destroy): the old object is destroyed after.
    ReplaceCreateFirst,
    Delete,
    /// `["forget"]` (a `removed` block with `destroy = false`): dropped from state, keeps running.
    Forget,
    /// `["create","forget"]` (Terraform 1.16) / `["forget","create"]` (OpenTofu 1.12): a
    /// replacement that leaves the old object running unmanaged instead of destroying it.
    ReplaceForget,
    /// `["open"]`: an OpenTofu 1.11 ephemeral resource opened for the run; nothing persists.
    Open,
}

impl Action {
    /// Parse a plan's `change.actions` list.
    pub fn from_list<S: AsRef<str>>(list: &[S]) -> Option<Action> {
        let parts: Vec<&str> = list.iter().map(|s| s.as_ref()).collect();
        Some(match parts.as_slice() {
            ["no-op"] => Action::NoOp,
            ["create"] => Action::Create,
            ["read"] => Action::Read,
            ["update"] => Action::Update,
            ["delete", "create"] => Action::ReplaceDeleteFirst,
            ["create", "delete"] => Action::ReplaceCreateFirst,
            ["delete"] => Action::Delete,
            ["forget"] => Action::Forget,
            ["create", "forget"] | ["forget", "create"] => Action::ReplaceForget,
            ["open"] => Action::Open,
            _ => return None,
        })
    }

    /// The action list as Terraform writes it, joined with commas (`delete,create`).
    pub fn terraform_list(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::ReplaceDeleteFirst => "delete,create",
            Action::ReplaceCreateFirst => "create,delete",
            Action::Delete => "delete",
            Action::Forget => "forget",
            Action::ReplaceForget => "create,forget",
            Action::Open => "open",
        }
    }

    /// The word used in reports: `create`, `update`, `replace`, `replace-keep`, `delete`,
    /// `read`, `forget`, `open`, `no-op`.
    pub fn label(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::ReplaceDeleteFirst | Action::ReplaceCreateFirst => "replace",
            Action::Delete => "delete",
            Action::Forget => "forget",
            Action::ReplaceForget => "replace-keep",
            Action::Open => "open",
        }
    }

    /// True when the existing object is destroyed: deletes and both replace orders.
    pub fn destroys(self) -> bool {
        matches!(
            self,
            Action::Delete | Action::ReplaceDeleteFirst | Action::ReplaceCreateFirst
        )
    }

    pub fn is_replace(self) -> bool {
        matches!(
            self,
            Action::ReplaceDeleteFirst | Action::ReplaceCreateFirst
        )
    }

    /// True when the object leaves Terraform's management without being destroyed.
    pub fn forgets(self) -> bool {
        matches!(self, Action::Forget | Action::ReplaceForget)
    }
}

/// `managed` resources are what Terraform owns; `data` sources are only read; `ephemeral`
/// resources (OpenTofu 1.11+) exist for one run and leave nothing behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceMode {
    Managed,
    Data,
    Ephemeral,
}

/// One entry of `resource_changes`. Strings borrow from the plan text where they can; the
/// prior and planned values stay raw JSON until a rule asks for an attribute, so a plan of
/// hundreds of MB is never materialised as a tree.
#[derive(Debug, Clone)]
pub struct ResourceChange<'a> {
    pub address: Cow<'a, str>,
    pub module_address: Option<Cow<'a, str>>,
    pub mode: ResourceMode,
    pub resource_type: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub provider_name: Option<Cow<'a, str>>,
    pub action: Action,
    pub action_reason: Option<Cow<'a, str>>,
    /// Set when a `moved` block (or a refactoring) gave the object a new address.
    pub previous_address: Option<Cow<'a, str>>,
    /// Set for a deposed object (left over from an interrupted create_before_destroy).
    pub deposed: Option<Cow<'a, str>>,
    /// Set when the object is being imported.
    pub importing: bool,
    /// Attribute paths that force the replacement (`replace_paths`), rendered `a.b[0]`.
    pub replace_paths: Vec<String>,
    /// Prior values (`change.before`): where a resource's environment and identity are read.
    pub before: Option<&'a RawValue>,
    /// Which prior values are sensitive (`change.before_sensitive`): never print those.
    pub before_sensitive: Option<&'a RawValue>,
    /// Planned values (`change.after`) of a create: read only to tell a delete in one project
    /// and the create of the same object in another apart from a loss (a move).
    pub after: Option<&'a RawValue>,
    /// The object's identity before the change (`change.before_identity`, Terraform 1.12+ and
    /// OpenTofu 1.12): what the provider says identifies it, besides `id`/`arn`/`self_link`.
    pub before_identity: Option<&'a RawValue>,
}

impl ResourceChange<'_> {
    /// The address with every instance key replaced by `[*]`, so that the instances of one
    /// `count`/`for_each` resource (and of modules) group together: `aws_instance.web[*]`.
    pub fn address_pattern(&self) -> String {
        address_pattern(&self.address)
    }

    /// The address as shown to people: deposed objects say so.
    pub fn display_address(&self) -> String {
        match &self.deposed {
            Some(key) => format!("{} (deposed object {key})", self.address),
            None => self.address.to_string(),
        }
    }

    pub fn is_managed(&self) -> bool {
        self.mode == ResourceMode::Managed
    }

    /// The address has an instance key of its own (`count`/`for_each`), not only its module.
    pub fn has_instance_key(&self) -> bool {
        self.address.ends_with(']')
    }
}

/// An entry of `resource_drift`: a change made outside Terraform, reported but never counted
/// as a planned action.
#[derive(Debug, Clone)]
pub struct DriftChange<'a> {
    pub address: Cow<'a, str>,
    pub action: Action,
}

/// Replace each bracketed instance key in a resource address with `[*]`. Quoted keys may hold
/// any character, `]` included, so the scan follows JSON-style string quoting.
pub fn address_pattern(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut chars = address.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '[' {
            out.push(c);
            continue;
        }
        // Skip the key up to its closing bracket.
        let mut in_string = false;
        let mut escaped = false;
        for k in chars.by_ref() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if k == '\\' {
                    escaped = true;
                } else if k == '"' {
                    in_string = false;
                }
            } else if k == '"' {
                in_string = true;
            } else if k == ']' {
                break;
            }
        }
        out.push_str("[*]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_terraform_action_list_is_understood() {
        for (list, action) in [
            (vec!["no-op"], Action::NoOp),
            (vec!["create"], Action::Create),
            (vec!["read"], Action::Read),
            (vec!["update"], Action::Update),
            (vec!["delete", "create"], Action::ReplaceDeleteFirst),
            (vec!["create", "delete"], Action::ReplaceCreateFirst),
            (vec!["delete"], Action::Delete),
            (vec!["forget"], Action::Forget),
            (vec!["create", "forget"], Action::ReplaceForget),
            (vec!["forget", "create"], Action::ReplaceForget),
            (vec!["open"], Action::Open),
        ] {
            assert_eq!(Action::from_list(&list), Some(action), "{list:?}");
        }
    }

    #[test]
    fn unknown_action_lists_are_refused() {
        for list in [
            vec![],
            vec!["destroy"],
            vec!["delete", "delete"],
            vec!["open", "close"],
            vec!["renew"],
        ] {
            assert_eq!(Action::from_list(&list), None, "{list:?}");
        }
    }

    #[test]
    fn both_replace_orders_destroy() {
        assert!(Action::ReplaceDeleteFirst.destroys());
        assert!(Action::ReplaceCreateFirst.destroys());
        assert!(!Action::ReplaceForget.destroys());
        assert!(!Action::Forget.destroys());
        assert_eq!(Action::ReplaceCreateFirst.label(), "replace");
    }

    #[test]
    fn address_patterns_hide_instance_keys() {
        assert_eq!(
            address_pattern("aws_instance.web[3]"),
            "aws_instance.web[*]"
        );
        assert_eq!(
            address_pattern(r#"module.m["a]b"].aws_s3_bucket.b["x\"]y"]"#),
            "module.m[*].aws_s3_bucket.b[*]"
        );
        assert_eq!(address_pattern("data.aws_ami.x"), "data.aws_ami.x");
    }
}
