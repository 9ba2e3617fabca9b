//! `protected-resource-destroy`: a delete or replace of a resource the policy protects, matched
//! by address, by type and attribute, or by cloud identity read from its prior values.

use serde_json::Value;

use super::{Context, Rule};
use crate::model::change::ResourceChange;
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;
use crate::model::policy::{
    ProtectedMatcher, ProtectedResource, IDENTITY_ATTRIBUTES, NAMESPACE_PATHS,
};
use crate::model::project::DestroyedResource;

pub struct ProtectedResourceDestroy;

impl Rule for ProtectedResourceDestroy {
    fn id(&self) -> RuleId {
        RuleId::new("protected-resource-destroy")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Approval
    }

    fn summary(&self) -> &'static str {
        "delete/replace of a resource the policy protects, by address, type+attribute or cloud identity"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A delete or replacement of a resource matched by the policy's `protected-resources`:
- by address glob (`module.db.aws_db_instance.*`; a moved resource's previous address counts);
- by type and attribute (`kubernetes_namespace` whose `metadata.0.name` is `argocd`);
- by cloud identity (`arn`, `id`, `self_link`, `name`, ... read from the prior values), so that
  deleting, commenting out or moving the resource block does not remove the protection, which
  Terraform's own `prevent_destroy` cannot do.

Any namespaced object (a `helm_release`, a deployment, a config map) whose namespace is protected
counts too: destroying what is inside a protected scope is destroying the scope's contents.

The built-in default protects the Kubernetes namespaces `kube-system`, `kube-public`,
`kube-node-lease`, `default`, `argocd` and the namespaces named after production's aliases.

## Why
Incident 1: a trial deployment pruned the namespace `production` and the staging platform was down
for 15 hours. Incident 2: a CD tool deleted its own namespace. Some objects must never be destroyed
by a pull request, whichever project it comes from.

## Levels
`deny` by default. Declared destroy intent never excuses this rule: remove the protection in the
policy, in a reviewed change, first.

## Configure
```yaml
protected-resources:
  - address: "module.vault.*"
  - type: aws_db_instance
    attribute: identifier
    values: ["payments-*"]
  - identity: "arn:aws:s3:::audit-logs*"
    reason: audit trail, legally required
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for plan in ctx.plans {
            for destroyed in &plan.destroyed {
                let change = plan.change(destroyed);
                let Some((rule, why)) = ctx
                    .policy
                    .protected_resources
                    .iter()
                    .find_map(|p| matches(p, change, destroyed).map(|why| (p, why)))
                else {
                    continue;
                };
                let mut message = format!(
                    "{} would be {}: it is protected ({why}; policy entry: {})",
                    change.display_address(),
                    if change.action.is_replace() {
                        "replaced"
                    } else {
                        "deleted"
                    },
                    rule.description
                );
                if let Some(reason) = &rule.reason {
                    message.push_str(&format!(", because: {reason}"));
                }
                out.push(
                    Finding::new(self.id(), message)
                        .project(plan)
                        .address(change.address.to_string())
                        .action(change.action)
                        .resource_environment(
                            destroyed
                                .environment
                                .as_ref()
                                .map(|e| e.environment.as_str()),
                        ),
                );
            }
        }
    }
}

/// Why a protected-resource entry matches this change, if it does. Matching reads values that
/// may be sensitive: the explanation names attributes, never their values, except for names of
/// namespaces and addresses, which are not secrets.
fn matches(
    rule: &ProtectedResource,
    change: &ResourceChange<'_>,
    destroyed: &DestroyedResource,
) -> Option<String> {
    let kept = &destroyed.kept;
    match &rule.matcher {
        ProtectedMatcher::Address(glob) => {
            if glob.is_match(change.address.as_ref()) {
                Some(format!("address {}", change.address))
            } else {
                change
                    .previous_address
                    .as_deref()
                    .filter(|prev| glob.is_match(prev))
                    .map(|prev| format!("previous address {prev}"))
            }
        }
        ProtectedMatcher::TypeAttribute {
            resource_type,
            attribute,
            values,
        } => {
            let path: Vec<&str> = attribute.split('.').collect();
            let shown = |path: &[&str], value: &str| {
                if kept.is_sensitive(path) {
                    "(sensitive)".to_string()
                } else {
                    crate::text::printable(value)
                }
            };
            if resource_type.is_match(change.resource_type.as_ref()) {
                let value = kept.get(&path).and_then(Value::as_str)?;
                return values.iter().any(|g| g.is_match(value)).then(|| {
                    format!(
                        "{} {attribute}={}",
                        change.resource_type,
                        shown(&path, value)
                    )
                });
            }
            // Objects inside a protected namespace: the rule protects namespaces by name.
            if resource_type.is_match("kubernetes_namespace") && attribute == "metadata.0.name" {
                let (at, namespace) = NAMESPACE_PATHS
                    .iter()
                    .find_map(|p| kept.get(p).and_then(Value::as_str).map(|v| (*p, v)))?;
                return values
                    .iter()
                    .any(|g| g.is_match(namespace))
                    .then(|| format!("inside the protected namespace {}", shown(at, namespace)));
            }
            None
        }
        ProtectedMatcher::Identity(glob) => IDENTITY_ATTRIBUTES
            .iter()
            .find_map(|attr| {
                kept.get(&[attr])
                    .and_then(Value::as_str)
                    .filter(|v| glob.is_match(v))
                    .map(|_| format!("its {attr} matches the protected identity"))
            })
            .or_else(|| identity_match(glob, &destroyed.identity)),
    }
}

/// Keys of a provider identity that say where an object lives, not which object it is: an
/// account or region matches many objects.
const IDENTITY_SCOPE_KEYS: [&str; 4] = ["account_id", "region", "project", "subscription_id"];

/// A protected identity matched against the provider's own identity of the object
/// (`before_identity`, Terraform 1.12+ and OpenTofu 1.12).
fn identity_match(glob: &globset::GlobMatcher, identity: &Value) -> Option<String> {
    identity.as_object()?.iter().find_map(|(key, value)| {
        (!IDENTITY_SCOPE_KEYS.contains(&key.as_str()))
            .then(|| value.as_str())
            .flatten()
            .filter(|v| glob.is_match(v))
            .map(|_| format!("its identity's {key} matches the protected identity"))
    })
}
