//! `policy-weakened`: the policy in force is weaker than the one it is checked against, the
//! trusted policy or the repository's own policy before the pull request. Also the relaxation
//! classifier: a pure function over two policies.

use std::collections::BTreeSet;

use super::{all, Context, Rule};
use crate::model::finding::{Finding, Location, RuleId, WayOut};
use crate::model::level::Level;
use crate::model::policy::{Policy, Relaxation, RelaxationKind};

pub struct PolicyWeakened;

impl Rule for PolicyWeakened {
    fn id(&self) -> RuleId {
        RuleId::new("policy-weakened")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Fix(
            "land the policy change first, in a pull request of its own, or have it approved",
        )
    }

    fn summary(&self) -> &'static str {
        "the pull request relaxes the policy that gates it (a rule, a threshold, a protection, an environment)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A pull request can edit the repository's `plangate.yaml`, so it could switch off the gate that
checks it. plangate compares the policy in force with the one it may only tighten:

- with a trusted policy (`--policy PATH` or `$PLANGATE_POLICY`, set by the operator in the
  server-side Atlantis workflow or the default branch's CI), the repository's file is a layer
  over it that may only tighten, unless the trusted policy's `repository-may:` allows a kind of
  relaxation (`relax-rules`, `relax-thresholds`, `remove-protections`, `change-environments`);
- without one, the repository's file against its own version at the merge base with the branch
  the pull request merges into (`--base-ref`, default `$BASE_BRANCH_NAME`, `$GITHUB_BASE_REF` or
  `$CI_MERGE_REQUEST_TARGET_BRANCH_NAME`); a file the base did not have is compared with the
  built-in default.

Every relaxation is one finding: a rule's level lowered, a numeric option moved the permissive
way (every option is more permissive when raised), a protected resource, protected
environment or project or stateful type removed, an environment or alias removed, added or moved,
an account removed or moved, or added to an environment that is not protected (its untagged
resources would count as that environment), a project mapping that gives projects another
environment, a tag key or attribute path no longer read, or `repository-may:` itself changed.
Anything not provably a tightening counts.

## Why
A gate the pull request can edit out is not a gate: `rules: {protected-project-destroy: allow}`
appended to `plangate.yaml` would otherwise turn a block on production into a pass.

## Levels
`deny`. Its level comes only from the trusted policy (or the base version): the layer under
review cannot lower it. Declared destroy intent and labels never excuse it.

## Configure
Land the policy change first, in a pull request of its own, or have it approved. To let
repositories relax what they own, the trusted policy says so:
```yaml
repository-may: [relax-thresholds]
```
"#
    }

    fn lint(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        self.check(ctx, out);
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        for relaxation in &ctx.review.relaxations {
            let mut f = Finding::new(
                self.id(),
                format!(
                    "{} ({}), compared with {}",
                    relaxation.what,
                    relaxation.kind.as_str(),
                    ctx.review.against
                ),
            );
            if let Some(file) = &ctx.review.file {
                f = f.location(Location::File {
                    path: file.clone(),
                    line: None,
                });
            }
            out.push(f);
        }
    }
}

/// Every way `head` is weaker than `base`, in a stable order. Pure: the two policies and the
/// rules' defaults are all it reads.
pub fn relaxations(base: &Policy, head: &Policy) -> Vec<Relaxation> {
    let mut out = BTreeSet::new();
    rule_levels(base, head, &mut out);
    thresholds(base, head, &mut out);
    protections(base, head, &mut out);
    environments(base, head, &mut out);
    accounts(base, head, &mut out);
    mappings(base, head, &mut out);
    resource_environment(base, head, &mut out);
    for kind in &head.repository_may {
        if !base.repository_may.contains(kind) {
            out.insert(relax(
                RelaxationKind::Trust,
                format!("repository-may: {} added", kind.as_str()),
            ));
        }
    }
    out.into_iter().collect()
}

fn relax(kind: RelaxationKind, what: String) -> Relaxation {
    Relaxation { kind, what }
}

fn rule_levels(base: &Policy, head: &Policy, out: &mut BTreeSet<Relaxation>) {
    for rule in all() {
        let id = rule.id().as_str();
        let before = base.rule_level(id).unwrap_or(rule.default_level());
        let after = head.rule_level(id).unwrap_or(rule.default_level());
        if after < before {
            out.insert(relax(
                RelaxationKind::RelaxRules,
                format!("rules.{id}: {} -> {}", before.as_str(), after.as_str()),
            ));
        }
    }
}

fn thresholds(base: &Policy, head: &Policy, out: &mut BTreeSet<Relaxation>) {
    let environments: BTreeSet<&str> = base
        .environments
        .defs
        .iter()
        .chain(&head.environments.defs)
        .map(|d| d.name.as_str())
        .collect();
    for rule in all() {
        let id = rule.id().as_str();
        for (option, default) in rule.option_defaults() {
            let value = |p: &Policy, env: Option<&str>| {
                p.rule_options(id, env).get(option).unwrap_or(*default)
            };
            let (top_before, top_after) = (value(base, None), value(head, None));
            if top_after > top_before {
                out.insert(relax(
                    RelaxationKind::RelaxThresholds,
                    format!("rules.{id}.{option}: {top_before} -> {top_after}"),
                ));
            }
            for env in &environments {
                let (before, after) = (value(base, Some(env)), value(head, Some(env)));
                if after > before && (before, after) != (top_before, top_after) {
                    out.insert(relax(
                        RelaxationKind::RelaxThresholds,
                        format!("rules.{id}.environments.{env}.{option}: {before} -> {after}"),
                    ));
                }
            }
        }
    }
}

fn protections(base: &Policy, head: &Policy, out: &mut BTreeSet<Relaxation>) {
    let kept: BTreeSet<&str> = head
        .protected_resources
        .iter()
        .map(|p| p.description.as_str())
        .collect();
    for p in &base.protected_resources {
        if !kept.contains(p.description.as_str()) {
            out.insert(relax(
                RelaxationKind::RemoveProtections,
                format!("protected-resources: removed {}", p.description),
            ));
        }
    }
    for env in base.environments.defs.iter().filter(|d| d.protected) {
        if !head
            .environments
            .get(&env.name)
            .is_some_and(|d| d.protected)
        {
            out.insert(relax(
                RelaxationKind::RemoveProtections,
                format!("environments.{}: protected: true removed", env.name),
            ));
        }
    }
    for m in base.projects.iter().filter(|m| m.protected) {
        let still = head
            .projects
            .iter()
            .any(|h| h.protected && h.description == m.description);
        if !still {
            out.insert(relax(
                RelaxationKind::RemoveProtections,
                format!("projects: protected: true removed from {}", m.description),
            ));
        }
    }
    let types: BTreeSet<&String> = head.extra_stateful_types.iter().collect();
    for t in &base.extra_stateful_types {
        if !types.contains(t) {
            out.insert(relax(
                RelaxationKind::RemoveProtections,
                format!("stateful-types: removed {t}"),
            ));
        }
    }
}

/// Environments and the words that name them: a word that names another environment (or none)
/// than before changes which projects and resources are told apart, either way.
fn environments(base: &Policy, head: &Policy, out: &mut BTreeSet<Relaxation>) {
    let words = |p: &Policy| -> BTreeSet<(String, String)> {
        p.environments
            .defs
            .iter()
            .flat_map(|d| {
                std::iter::once(&d.name)
                    .chain(&d.aliases)
                    .map(|w| (w.clone(), d.name.clone()))
            })
            .collect()
    };
    let (before, after) = (words(base), words(head));
    for (word, env) in &before {
        match head.environments.resolve_word(word) {
            None if word == env => {
                out.insert(relax(
                    RelaxationKind::ChangeEnvironments,
                    format!("environments: {env} removed"),
                ));
            }
            None => {
                out.insert(relax(
                    RelaxationKind::ChangeEnvironments,
                    format!("environments.{env}: alias {word} removed"),
                ));
            }
            Some(now) if &now.name != env => {
                out.insert(relax(
                    RelaxationKind::ChangeEnvironments,
                    format!("environments: {word} moved from {env} to {}", now.name),
                ));
            }
            Some(_) => {}
        }
    }
    for (word, env) in after.difference(&before) {
        if base.environments.resolve_word(word).is_none() {
            out.insert(relax(
                RelaxationKind::ChangeEnvironments,
                format!("environments.{env}: {word} added (what it names changes environment)"),
            ));
        }
    }
}

/// Accounts listed under environments. Removing or moving one takes a resource's strongest
/// signal away or gives it another environment: a relaxation. Adding one is a tightening only
/// when it cannot put a resource into a less strict environment (see
/// [`account_addition_tightens`]).
fn accounts(base: &Policy, head: &Policy, out: &mut BTreeSet<Relaxation>) {
    for (account, env) in base.environments.accounts() {
        let what = match head.environments.account_environment(account) {
            None => format!("environments.{env}: account {account} removed"),
            Some(now) if now.name != env => {
                format!(
                    "environments: account {account} moved from {env} to {}",
                    now.name
                )
            }
            Some(_) => continue,
        };
        out.insert(relax(RelaxationKind::ChangeEnvironments, what));
    }
    for (account, env) in head.environments.accounts() {
        if base.environments.account_environment(account).is_none()
            && !account_addition_tightens(head, env)
        {
            out.insert(relax(
                RelaxationKind::ChangeEnvironments,
                format!(
                    "environments.{env}: account {account} added (its untagged resources would count as {env}: only an account added to a protected environment tightens)"
                ),
            ));
        }
    }
}

/// An account newly listed under `env` changes only the resources in it that carry no strong
/// signal of their own (tags stay readings beside the account): those without any lose
/// `untagged-destroy`, those with a name token lose their weak `cross-env-destroy` warning, and
/// everything else can only gain findings (`cross-env-destroy` in other environments'
/// projects, `env-conflict`, `cross-env-target`). The findings lost are in projects of `env`
/// and in projects of unknown environment. So the addition tightens when `env` is protected
/// (every destroy in its projects is `protected-project-destroy`, at least a warning under
/// declared intent) and, in `head`, neither that rule nor `unknown-environment` sits below
/// what is lost: a verdict can then never get more lenient.
fn account_addition_tightens(head: &Policy, env: &str) -> bool {
    let level = |id: &str| {
        head.rule_level(id)
            .or_else(|| super::find(id).map(|r| r.default_level()))
            .unwrap_or(Level::Deny)
    };
    let protected = head.environments.get(env).is_some_and(|d| d.protected);
    // Under intent protected-project-destroy is at most a warning.
    let kept = level("protected-project-destroy").min(Level::Warn);
    let untagged = level("untagged-destroy");
    let weak = level("cross-env-destroy").min(Level::Warn);
    protected && untagged <= kept && weak <= kept && untagged <= level("unknown-environment")
}

/// Project mappings that give projects an environment: any change to them can move a project.
fn mappings(base: &Policy, head: &Policy, out: &mut BTreeSet<Relaxation>) {
    let with_env = |p: &Policy| -> Vec<(String, String)> {
        p.projects
            .iter()
            .filter_map(|m| Some((m.description.clone(), m.environment.clone()?)))
            .collect()
    };
    let (before, after) = (with_env(base), with_env(head));
    if before == after {
        return;
    }
    let env_of = |list: &[(String, String)], matcher: &str| {
        list.iter()
            .find(|(m, _)| m == matcher)
            .map(|(_, e)| e.clone())
    };
    let mut changed = false;
    for (matcher, env) in &before {
        let what = match env_of(&after, matcher) {
            Some(now) if &now == env => continue,
            Some(now) => format!("projects: mapping {matcher}: {env} -> {now}"),
            None => format!("projects: mapping {matcher} -> {env} removed"),
        };
        changed = true;
        out.insert(relax(RelaxationKind::ChangeEnvironments, what));
    }
    for (matcher, env) in &after {
        if env_of(&before, matcher).is_none() {
            changed = true;
            out.insert(relax(
                RelaxationKind::ChangeEnvironments,
                format!("projects: mapping {matcher} -> {env} added"),
            ));
        }
    }
    if !changed {
        // The first mapping that matches wins: a new order can give projects another one.
        out.insert(relax(
            RelaxationKind::ChangeEnvironments,
            "projects: mappings reordered".into(),
        ));
    }
}

fn resource_environment(base: &Policy, head: &Policy, out: &mut BTreeSet<Relaxation>) {
    let (b, h) = (&base.resource_environment, &head.resource_environment);
    for key in &b.tag_keys {
        if !h.tag_keys.contains(key) {
            out.insert(relax(
                RelaxationKind::ChangeEnvironments,
                format!("resource-environment.tag-keys: {key} no longer read"),
            ));
        }
    }
    for attr in &b.attributes {
        if !h.attributes.contains(attr) {
            out.insert(relax(
                RelaxationKind::ChangeEnvironments,
                format!("resource-environment.attributes: {attr} no longer read"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse_policy;
    use proptest::prelude::*;

    fn policy(yaml: &str) -> Policy {
        parse_policy(yaml, std::path::Path::new("plangate.yaml"))
            .unwrap_or_else(|e| panic!("{e}\n{yaml}"))
    }

    /// A repository policy that sets something of every kind.
    const BASE: &str = "version: 1
environments:
  production:
    aliases: [prod, prd]
    protected: true
  staging:
    aliases: [stg]
  development:
    aliases: [dev]
projects:
  - name: \"payments-.*\"
    environment: production
  - dir: \"platform/**\"
    protected: true
resource-environment:
  tag-keys: [env, Environment]
  attributes: [labels.team_env]
protected-resources:
  - address: \"module.db.*\"
stateful-types: [mongodbatlas_cluster]
rules:
  untagged-destroy: deny
  mass-deletion:
    max-deletes: 10
    environments:
      production:
        max-deletes: 3
";

    fn changed(from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "{from}");
        BASE.replacen(from, to, 1)
    }

    fn kinds(head: &str) -> Vec<(RelaxationKind, String)> {
        relaxations(&policy(BASE), &policy(head))
            .into_iter()
            .map(|r| (r.kind, r.what))
            .collect()
    }

    fn assert_one(head: &str, kind: RelaxationKind, what: &str) {
        let found = kinds(head);
        assert_eq!(found, vec![(kind, what.to_string())], "{head}");
    }

    #[test]
    fn the_same_policy_relaxes_nothing() {
        assert!(kinds(BASE).is_empty());
    }

    #[test]
    fn a_lowered_level_relaxes_rules() {
        assert_one(
            &changed("untagged-destroy: deny", "untagged-destroy: warn"),
            RelaxationKind::RelaxRules,
            "rules.untagged-destroy: deny -> warn",
        );
        let appended = format!("{BASE}  protected-project-destroy: allow\n");
        assert_one(
            &appended,
            RelaxationKind::RelaxRules,
            "rules.protected-project-destroy: deny -> allow",
        );
    }

    #[test]
    fn raised_thresholds_relax_thresholds() {
        assert_one(
            &changed("    max-deletes: 10\n", "    max-deletes: 50\n"),
            RelaxationKind::RelaxThresholds,
            "rules.mass-deletion.max-deletes: 10 -> 50",
        );
        assert_one(
            &changed("        max-deletes: 3", "        max-deletes: 8"),
            RelaxationKind::RelaxThresholds,
            "rules.mass-deletion.environments.production.max-deletes: 3 -> 8",
        );
        // Removing a setting falls back to the default, which is more permissive here.
        assert_one(
            &changed("    max-deletes: 10\n", ""),
            RelaxationKind::RelaxThresholds,
            "rules.mass-deletion.max-deletes: 10 -> 20",
        );
    }

    #[test]
    fn removed_protections() {
        assert_one(
            &changed("protected-resources:\n  - address: \"module.db.*\"\n", ""),
            RelaxationKind::RemoveProtections,
            "protected-resources: removed address module.db.*",
        );
        assert_one(
            &changed("module.db.*", "module.db.aws_db_instance.main"),
            RelaxationKind::RemoveProtections,
            "protected-resources: removed address module.db.*",
        );
        assert_one(
            &changed("    protected: true\n  staging", "  staging"),
            RelaxationKind::RemoveProtections,
            "environments.production: protected: true removed",
        );
        assert_one(
            &changed(
                "stateful-types: [mongodbatlas_cluster]",
                "stateful-types: []",
            ),
            RelaxationKind::RemoveProtections,
            "stateful-types: removed mongodbatlas_cluster",
        );
        assert_one(
            &changed("  - dir: \"platform/**\"\n    protected: true\n", ""),
            RelaxationKind::RemoveProtections,
            "projects: protected: true removed from dir \"platform/**\"",
        );
    }

    #[test]
    fn changed_environments() {
        let c = RelaxationKind::ChangeEnvironments;
        assert_one(
            &changed("    aliases: [prod, prd]", "    aliases: [prod]"),
            c,
            "environments.production: alias prd removed",
        );
        assert_one(
            &changed(
                "    aliases: [stg]\n  development:\n    aliases: [dev]",
                "    aliases: [stg, dev]\n  development:\n    aliases: []",
            ),
            c,
            "environments: dev moved from development to staging",
        );
        assert_one(
            &changed("    aliases: [dev]", "    aliases: [dev, sandbox]"),
            c,
            "environments.development: sandbox added (what it names changes environment)",
        );
        assert_one(
            &changed("    environment: production", "    environment: staging"),
            c,
            "projects: mapping name \"payments-.*\": production -> staging",
        );
        assert_one(
            &changed("tag-keys: [env, Environment]", "tag-keys: [env]"),
            c,
            "resource-environment.tag-keys: Environment no longer read",
        );
        assert_one(
            &changed(
                "attributes: [labels.team_env]",
                "attributes: [labels.other]",
            ),
            c,
            "resource-environment.attributes: labels.team_env no longer read",
        );
        let removed = kinds(&changed("  development:\n    aliases: [dev]\n", ""));
        assert!(
            removed.contains(&(c, "environments: development removed".into())),
            "{removed:?}"
        );
    }

    /// BASE with accounts, and `untagged-destroy` at its default (warn).
    fn with_accounts() -> String {
        changed("  untagged-destroy: deny\n", "").replacen(
            "    aliases: [stg]\n",
            "    aliases: [stg]\n    accounts: [\"444455556666\", orders-staging]\n",
            1,
        )
    }

    fn account_kinds(base: &str, head: &str) -> Vec<(RelaxationKind, String)> {
        relaxations(&policy(base), &policy(head))
            .into_iter()
            .map(|r| (r.kind, r.what))
            .collect()
    }

    #[test]
    fn removed_or_moved_accounts_change_environments() {
        let base = with_accounts();
        let c = RelaxationKind::ChangeEnvironments;
        let removed = base.replacen("[\"444455556666\", orders-staging]", "[orders-staging]", 1);
        assert_eq!(
            account_kinds(&base, &removed),
            [(
                c,
                "environments.staging: account 444455556666 removed".to_string()
            )]
        );
        let moved = removed.replacen(
            "    aliases: [dev]\n",
            "    aliases: [dev]\n    accounts: [\"444455556666\"]\n",
            1,
        );
        assert_eq!(
            account_kinds(&base, &moved),
            [(
                c,
                "environments: account 444455556666 moved from staging to development".to_string()
            )]
        );
        // Written in another case, an account is the same account.
        let recased = base.replacen("orders-staging", "Orders-Staging", 1);
        assert!(account_kinds(&base, &recased).is_empty());
    }

    #[test]
    fn an_added_account_tightens_only_in_a_protected_environment() {
        let base = with_accounts();
        let to_production = base.replacen(
            "    protected: true\n  staging",
            "    protected: true\n    accounts: [\"111122223333\"]\n  staging",
            1,
        );
        assert!(account_kinds(&base, &to_production).is_empty());
        // In staging, an untagged resource of the account would stop being a warning for
        // staging's projects: a relaxation.
        let to_staging = base.replacen("orders-staging]", "orders-staging, \"111122223333\"]", 1);
        assert_eq!(
            account_kinds(&base, &to_staging),
            [(
                RelaxationKind::ChangeEnvironments,
                "environments.staging: account 111122223333 added (its untagged resources would count as staging: only an account added to a protected environment tightens)".to_string()
            )]
        );
        // With untagged-destroy at deny, even production's projects would lose a blocking
        // finding under declared intent (protected-project-destroy is then a warning).
        let strict = format!("{base}  untagged-destroy: deny\n");
        let strict_head = format!("{to_production}  untagged-destroy: deny\n");
        assert_eq!(account_kinds(&strict, &strict_head).len(), 1);
        // Unprotecting production in the same change is reported, and the account too.
        let unprotected = to_production.replacen("    protected: true\n", "", 1);
        let found = account_kinds(&base, &unprotected);
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn granting_itself_relaxations_is_trust() {
        assert_one(
            &format!("repository-may: [relax-rules]\n{BASE}"),
            RelaxationKind::Trust,
            "repository-may: relax-rules added",
        );
    }

    #[test]
    fn tightenings_relax_nothing() {
        for head in [
            changed(
                "untagged-destroy: deny",
                "untagged-destroy: deny\n  state-forget: deny",
            ),
            changed("    max-deletes: 10\n", "    max-deletes: 5\n"),
            changed(
                "  - address: \"module.db.*\"",
                "  - address: \"module.db.*\"\n  - identity: \"arn:aws:s3:::audit*\"",
            ),
            changed(
                "  staging:\n    aliases: [stg]",
                "  staging:\n    aliases: [stg]\n    protected: true",
            ),
            changed(
                "stateful-types: [mongodbatlas_cluster]",
                "stateful-types: [mongodbatlas_cluster, x_db]",
            ),
            changed(
                "tag-keys: [env, Environment]",
                "tag-keys: [env, Environment, stage]",
            ),
            changed(
                "projects:\n",
                "projects:\n  - name: \"legacy-.*\"\n    protected: true\n",
            ),
        ] {
            assert!(kinds(&head).is_empty(), "{head}\n{:?}", kinds(&head));
        }
    }

    /// One change to a policy, as the YAML a pull request would write.
    #[derive(Debug, Clone)]
    enum Change {
        RaiseLevel(&'static str),
        LowerLevel(&'static str),
        LowerThreshold(usize),
        RaiseThreshold(usize),
        AddProtection(u8),
        RemoveProtection,
        ProtectEnvironment,
        UnprotectProduction,
        AddTagKey,
        RemoveTagKey,
        AddStatefulType,
        RemoveAlias,
    }

    impl Change {
        fn tightens(&self) -> bool {
            matches!(
                self,
                Change::RaiseLevel(_)
                    | Change::LowerThreshold(_)
                    | Change::AddProtection(_)
                    | Change::ProtectEnvironment
                    | Change::AddTagKey
                    | Change::AddStatefulType
            )
        }

        fn apply(&self, yaml: &str) -> String {
            match self {
                Change::RaiseLevel(rule) => format!("{yaml}  {rule}: deny\n"),
                Change::LowerLevel(rule) => format!("{yaml}  {rule}: allow\n"),
                Change::LowerThreshold(n) => yaml.replacen(
                    "        max-deletes: 3",
                    &format!("        max-deletes: {}", n % 3),
                    1,
                ),
                Change::RaiseThreshold(n) => yaml.replacen(
                    "    max-deletes: 10\n",
                    &format!("    max-deletes: {}\n", 11 + n),
                    1,
                ),
                Change::AddProtection(i) => yaml.replacen(
                    "protected-resources:\n",
                    &format!("protected-resources:\n  - address: \"module.extra{i}.*\"\n"),
                    1,
                ),
                Change::RemoveProtection => yaml.replacen("  - address: \"module.db.*\"\n", "", 1),
                Change::ProtectEnvironment => yaml.replacen(
                    "    aliases: [stg]\n",
                    "    aliases: [stg]\n    protected: true\n",
                    1,
                ),
                Change::UnprotectProduction => {
                    yaml.replacen("    protected: true\n  staging", "  staging", 1)
                }
                Change::AddTagKey => yaml.replacen(
                    "tag-keys: [env, Environment]",
                    "tag-keys: [env, Environment, Stage]",
                    1,
                ),
                Change::RemoveTagKey => yaml.replacen("tag-keys: [env, ", "tag-keys: [", 1),
                Change::AddStatefulType => yaml.replacen(
                    "[mongodbatlas_cluster]",
                    "[mongodbatlas_cluster, extra_db]",
                    1,
                ),
                Change::RemoveAlias => yaml.replacen("[prod, prd]", "[prod]", 1),
            }
        }
    }

    /// Each kind of change once (a second of the same kind would repeat a YAML key).
    fn distinct(changes: &[Change]) -> Vec<&Change> {
        let mut seen = std::collections::HashSet::new();
        changes
            .iter()
            .filter(|c| seen.insert(std::mem::discriminant(*c)))
            .collect()
    }

    fn change() -> impl Strategy<Value = Change> {
        // Rules the base policy leaves at their default (warn or deny).
        let unset =
            prop::sample::select(vec!["state-forget", "incomplete-plan", "policy-unverified"]);
        let denied = prop::sample::select(vec![
            "cross-env-destroy",
            "collection-collapse",
            "stateful-replace",
        ]);
        prop_oneof![
            unset.prop_map(Change::RaiseLevel),
            denied.prop_map(Change::LowerLevel),
            (0usize..10).prop_map(Change::LowerThreshold),
            (0usize..100).prop_map(Change::RaiseThreshold),
            any::<u8>().prop_map(Change::AddProtection),
            Just(Change::RemoveProtection),
            Just(Change::ProtectEnvironment),
            Just(Change::UnprotectProduction),
            Just(Change::AddTagKey),
            Just(Change::RemoveTagKey),
            Just(Change::AddStatefulType),
            Just(Change::RemoveAlias),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any number of tightenings never produce a finding.
        #[test]
        fn tightening_never_relaxes(changes in prop::collection::vec(change(), 0..6)) {
            let mut yaml = BASE.to_string();
            for c in distinct(&changes).into_iter().filter(|c| c.tightens()) {
                yaml = c.apply(&yaml);
            }
            prop_assert!(kinds(&yaml).is_empty(), "{yaml}");
        }

        /// One relaxation among any tightenings always produces a finding.
        #[test]
        fn any_single_relaxation_is_found(
            changes in prop::collection::vec(change(), 0..5),
            relaxation in change().prop_filter("a relaxation", |c| !c.tightens()),
        ) {
            let mut yaml = BASE.to_string();
            for c in distinct(&changes).into_iter().filter(|c| c.tightens()) {
                yaml = c.apply(&yaml);
            }
            let relaxed = relaxation.apply(&yaml);
            prop_assert_ne!(&relaxed, &yaml, "the change applies");
            prop_assert!(!kinds(&relaxed).is_empty(), "{relaxation:?}\n{relaxed}");
        }
    }
}
