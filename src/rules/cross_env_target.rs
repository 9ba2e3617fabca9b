//! `cross-env-target`: a project's plan reaches into another environment's cloud account,
//! through the account a provider configuration targets or the account a changed resource
//! lives in.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::{address_list, Context, Rule};
use crate::model::account::{
    account_in_raw, provider_targets, Account, AccountFinder, ProviderTarget,
};
use crate::model::change::{address_pattern, Action, ResourceChange, ResourceMode};
use crate::model::environment::Environments;
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;
use crate::model::project::ProjectPlan;
use crate::text::printable;

pub struct CrossEnvTarget;

impl Rule for CrossEnvTarget {
    fn id(&self) -> RuleId {
        RuleId::new("cross-env-target")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Approval
    }

    fn summary(&self) -> &'static str {
        "a project's providers or changed resources target another environment's cloud account"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A project of one environment whose plan works in an account that the policy lists under another
environment (`environments.<name>.accounts`: AWS account IDs, GCP project IDs, Azure subscription
IDs, Kubernetes contexts). Two things say where a plan works:

- the accounts its provider configurations target, from constant values in
  `configuration.provider_config`: `assume_role.role_arn` (with chained roles, the last one),
  `assume_role_with_web_identity.role_arn`, else `allowed_account_ids`; `project`;
  `subscription_id`; `config_context` (and helm's `kubernetes.config_context`; an EKS context
  ARN counts by its account). A value given by a variable is not known before apply and says
  nothing;
- the accounts of the resources it changes, from their identity (`before_identity`) or their
  prior values: the ARN, `id` (an ARN, or an Azure `/subscriptions/<id>/...` ID), `self_link`
  and `id` (`projects/<id>/...`), `owner_id`, `project`, `account_id`. Sensitive values are
  never read. A resource being created has no prior values: its provider's target stands for it.

Deny when the plan changes something there: it updates, replaces or deletes a resource of that
account, or it changes (creates included) resources of a provider whose every configuration
they can use targets another environment's account. Warn when it only reads there (data
sources, resources it leaves unchanged), or when a provider has several configurations and the
plan does not say which one a changed resource uses (`resource_changes` name the provider, not
the configuration). A resource's own account decides over its provider's. A delete that
`cross-env-destroy` already reports at the same level or higher is not reported twice.

## Why
Incident 3: the dev cluster "lived in the same cloud account" the wrong project could reach. An
account is where a plan really acts, whatever the resources' tags say: a staging project whose
provider assumes a role in the production account is one `apply` away from production.

## Example
`project orders-staging (staging): provider aws targets account 111122223333 of production
(assume_role.role_arn), and the plan would change 2 resources through it
(aws_db_instance.primary, aws_s3_bucket.exports)`: blocked.

## Levels
`deny` by default; the reading and unattributable cases are at most `warn`. Declared destroy
intent does not excuse it.

## Configure
```yaml
environments:
  production:
    aliases: [prod]
    protected: true
    accounts: ["111122223333", "orders-prod", "prod-eu-1"]
  staging:
    accounts: ["444455556666", "orders-staging"]
rules:
  cross-env-target: deny
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let envs = &ctx.policy.environments;
        if !envs.has_accounts() {
            return;
        }
        let finder = AccountFinder::new(envs.accounts().map(|(account, _)| account));
        for plan in ctx.plans {
            let Some(home) = plan.project.environment.name() else {
                continue;
            };
            let targets = provider_targets(plan.plan.provider_config);
            let scan = PlanScan::new(envs, home, plan, &targets, &finder);
            self.resource_findings(plan, home, &scan, out);
            self.provider_findings(plan, home, &scan, out);
        }
    }
}

/// `1 resource`, `3 resources`.
fn resources(n: usize) -> String {
    format!("{n} resource{}", if n == 1 { "" } else { "s" })
}

/// Whether an action changes the remote object, rather than reading it or leaving it be.
fn changes_object(change: &ResourceChange<'_>) -> bool {
    change.is_managed()
        && matches!(
            change.action,
            Action::Create
                | Action::Update
                | Action::ReplaceDeleteFirst
                | Action::ReplaceCreateFirst
                | Action::Delete
                | Action::ReplaceForget
        )
}

/// A provider configuration that may reach another environment's account.
struct ForeignTarget<'t> {
    target: &'t ProviderTarget,
    /// Its first account that belongs to another environment, and that environment.
    account: &'t Account,
    environment: String,
    /// Every account it may target belongs to another environment: it surely works there.
    definite: bool,
}

/// A resource change whose own account belongs to another environment.
struct ForeignResource {
    index: usize,
    account: Account,
    environment: String,
}

/// What one plan's providers and resources say about the accounts it works in.
struct PlanScan<'t> {
    foreign_targets: Vec<ForeignTarget<'t>>,
    foreign_resources: Vec<ForeignResource>,
    /// Per foreign target (by index): the changes that surely go through it, that may, and
    /// the ones that only read through it or leave their object unchanged.
    definite: Vec<Vec<usize>>,
    possible: Vec<Vec<usize>>,
    reads: Vec<Vec<usize>>,
}

impl<'t> PlanScan<'t> {
    fn new(
        envs: &Environments,
        home: &str,
        plan: &ProjectPlan<'_>,
        targets: &'t [ProviderTarget],
        finder: &AccountFinder,
    ) -> PlanScan<'t> {
        let foreign_targets: Vec<ForeignTarget<'t>> = targets
            .iter()
            .filter_map(|t| foreign_target(envs, home, t))
            .collect();
        let n = foreign_targets.len();
        let mut scan = PlanScan {
            foreign_targets,
            foreign_resources: Vec::new(),
            definite: vec![Vec::new(); n],
            possible: vec![Vec::new(); n],
            reads: vec![Vec::new(); n],
        };
        for (index, change) in plan.plan.changes.iter().enumerate() {
            if change.mode == ResourceMode::Ephemeral {
                continue;
            }
            // A resource's own account, when the policy lists it, decides where it is.
            let own = own_account(change, finder)
                .and_then(|a| envs.account_environment(&a.id).map(|d| (a, d.name.clone())));
            match own {
                Some((account, environment)) if environment != home => {
                    scan.foreign_resources.push(ForeignResource {
                        index,
                        account,
                        environment,
                    });
                }
                Some(_) => {}
                None => scan.attribute(targets, index, change),
            }
        }
        scan
    }

    /// File a change whose own account is not known under the foreign configurations of its
    /// provider that it may use.
    fn attribute(&mut self, targets: &[ProviderTarget], index: usize, change: &ResourceChange<'_>) {
        let candidates = candidates(targets, change);
        let foreign: Vec<usize> = (0..self.foreign_targets.len())
            .filter(|i| {
                candidates
                    .iter()
                    .any(|c| std::ptr::eq(*c, self.foreign_targets[*i].target))
            })
            .collect();
        let Some(first) = foreign.first() else {
            return;
        };
        if !changes_object(change) {
            foreign.iter().for_each(|i| self.reads[*i].push(index));
        } else if foreign.len() == candidates.len()
            && foreign.iter().all(|i| self.foreign_targets[*i].definite)
        {
            self.definite[*first].push(index);
        } else {
            foreign.iter().for_each(|i| self.possible[*i].push(index));
        }
    }
}

/// A provider configuration's foreign account, if one of its accounts belongs to another
/// environment than the project's.
fn foreign_target<'t>(
    envs: &Environments,
    home: &str,
    target: &'t ProviderTarget,
) -> Option<ForeignTarget<'t>> {
    let environment_of = |a: &Account| envs.account_environment(&a.id).map(|d| d.name.clone());
    let (account, environment) = target
        .accounts
        .iter()
        .find_map(|a| environment_of(a).filter(|e| e != home).map(|e| (a, e)))?;
    let definite = target
        .accounts
        .iter()
        .all(|a| environment_of(a).is_some_and(|e| e != home));
    Some(ForeignTarget {
        target,
        account,
        environment,
        definite,
    })
}

/// The account a change's object lives in, from its identity or prior values. Only values
/// that may hold a listed account are parsed.
fn own_account(change: &ResourceChange<'_>, finder: &AccountFinder) -> Option<Account> {
    let holds = |raw: Option<&RawValue>| raw.is_some_and(|r| finder.may_hold(r.get()));
    if !holds(change.before_identity) && !holds(change.before) {
        return None;
    }
    account_in_raw(
        change.before_identity,
        change.before,
        change.before_sensitive,
    )
}

/// The provider configurations a change may use: those of its provider declared in the
/// innermost module (of its own module and the ones above it) that declares one.
fn candidates<'t>(
    targets: &'t [ProviderTarget],
    change: &ResourceChange<'_>,
) -> Vec<&'t ProviderTarget> {
    let Some(provider) = change.provider_name.as_deref() else {
        return Vec::new();
    };
    let path = change
        .module_address
        .as_deref()
        .map(|m| address_pattern(m).replace("[*]", ""))
        .unwrap_or_default();
    let in_scope = |module: &str| {
        module.is_empty() || path == module || path.starts_with(&format!("{module}."))
    };
    let same: Vec<&ProviderTarget> = targets
        .iter()
        .filter(|t| same_provider(&t.provider, provider) && in_scope(&t.module))
        .collect();
    let deepest = same.iter().map(|t| t.module.len()).max();
    same.into_iter()
        .filter(|t| Some(t.module.len()) == deepest)
        .collect()
}

/// A configuration's provider (a full name, or a local name in older plans) against a
/// resource change's `provider_name`.
fn same_provider(config: &str, resource: &str) -> bool {
    config == resource || (!config.contains('/') && resource.rsplit('/').next() == Some(config))
}

impl CrossEnvTarget {
    /// Changed resources that live in another environment's account: one finding each; the
    /// ones left unchanged, one warning per account.
    fn resource_findings(
        &self,
        plan: &ProjectPlan<'_>,
        home: &str,
        scan: &PlanScan<'_>,
        out: &mut Vec<Finding>,
    ) {
        let mut unchanged: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for found in &scan.foreign_resources {
            let change = &plan.plan.changes[found.index];
            let where_ = format!(
                "account {} of {}, by its {}",
                printable(&found.account.id),
                found.environment,
                found.account.source
            );
            if !changes_object(change) {
                unchanged
                    .entry((found.environment.as_str(), found.account.id.as_str()))
                    .or_default()
                    .push(change.address.as_ref());
                continue;
            }
            out.push(
                Finding::new(
                    self.id(),
                    format!(
                        "project {} ({home}) would {} {}, which lives in {where_}",
                        plan.project.name,
                        change.action.label(),
                        change.display_address()
                    ),
                )
                .project(plan)
                .address(change.address.to_string())
                .action(change.action)
                .resource_environment(Some(&found.environment)),
            );
        }
        for ((environment, account), addresses) in unchanged {
            let count = addresses.len();
            out.push(
                Finding::new(
                    self.id(),
                    format!(
                        "project {} ({home}) reaches account {} of {environment}, but changes nothing there ({} unchanged: {})",
                        plan.project.name,
                        printable(account),
                        resources(count),
                        address_list(addresses.into_iter(), 5)
                    ),
                )
                .project(plan)
                .resource_environment(Some(environment))
                .at_most(Level::Warn),
            );
        }
    }

    /// One finding per provider configuration that targets another environment's account.
    fn provider_findings(
        &self,
        plan: &ProjectPlan<'_>,
        home: &str,
        scan: &PlanScan<'_>,
        out: &mut Vec<Finding>,
    ) {
        let addresses = |indexes: &[usize]| {
            address_list(
                indexes
                    .iter()
                    .map(|i| plan.plan.changes[*i].address.as_ref()),
                5,
            )
        };
        for (i, foreign) in scan.foreign_targets.iter().enumerate() {
            let mut message = format!(
                "project {} ({home}): provider {} targets account {} of {} ({})",
                plan.project.name,
                printable(&foreign.target.key),
                printable(&foreign.account.id),
                foreign.environment,
                foreign.account.source
            );
            let mut finding = Finding::new(self.id(), String::new());
            let (definite, possible) = (&scan.definite[i], &scan.possible[i]);
            if !definite.is_empty() {
                message.push_str(&format!(
                    ", and the plan would change {} through it ({})",
                    resources(definite.len()),
                    addresses(definite)
                ));
            } else if !possible.is_empty() {
                message.push_str(&format!(
                    "; the plan changes {} of the provider ({}), and a plan does not say which configuration each uses: check that none goes through {}",
                    resources(possible.len()),
                    addresses(possible),
                    printable(&foreign.target.key)
                ));
                finding = finding.at_most(Level::Warn);
            } else {
                message.push_str(&format!(
                    ", but the plan changes nothing through it (it only reads there; {} unchanged)",
                    resources(scan.reads[i].len())
                ));
                finding = finding.at_most(Level::Warn);
            }
            finding.message = message;
            out.push(
                finding
                    .project(plan)
                    .resource_environment(Some(&foreign.environment)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    const AWS: &str = "registry.terraform.io/hashicorp/aws";

    fn target(key: &str, provider: &str, module: &str) -> ProviderTarget {
        ProviderTarget {
            key: key.into(),
            provider: provider.into(),
            module: module.into(),
            accounts: Vec::new(),
        }
    }

    fn change(provider: &str, module: Option<&str>) -> ResourceChange<'static> {
        ResourceChange {
            address: Cow::Owned(format!(
                "{}aws_s3_bucket.b",
                module.map(|m| format!("{m}.")).unwrap_or_default()
            )),
            module_address: module.map(|m| Cow::Owned(m.to_string())),
            mode: ResourceMode::Managed,
            resource_type: Cow::Borrowed("aws_s3_bucket"),
            name: Cow::Borrowed("b"),
            provider_name: Some(Cow::Owned(provider.to_string())),
            action: Action::Update,
            action_reason: None,
            previous_address: None,
            deposed: None,
            importing: false,
            replace_paths: Vec::new(),
            before: None,
            before_sensitive: None,
            after: None,
            before_identity: None,
        }
    }

    fn keys(targets: &[ProviderTarget], change: &ResourceChange<'_>) -> Vec<String> {
        candidates(targets, change)
            .iter()
            .map(|t| t.key.clone())
            .collect()
    }

    #[test]
    fn a_resource_may_use_its_providers_configurations_of_the_innermost_module() {
        let targets = [
            target("aws", AWS, ""),
            target("aws.prod", AWS, ""),
            target("module.net:aws", AWS, "module.net"),
            target("google", "registry.terraform.io/hashicorp/google", ""),
        ];
        assert_eq!(keys(&targets, &change(AWS, None)), ["aws", "aws.prod"]);
        // A module that declares its own configuration uses it; its instances too.
        assert_eq!(
            keys(
                &targets,
                &change(AWS, Some("module.net[\"eu\"].module.subnets"))
            ),
            ["module.net:aws"]
        );
        // `module.network` is not inside `module.net`.
        assert_eq!(
            keys(&targets, &change(AWS, Some("module.network"))),
            ["aws", "aws.prod"]
        );
        // Older plans name a configuration's provider by its local name only.
        let local = [target("aws", "aws", "")];
        assert_eq!(keys(&local, &change(AWS, None)), ["aws"]);
        assert!(keys(
            &targets,
            &change("registry.terraform.io/hashicorp/azurerm", None)
        )
        .is_empty());
    }
}
