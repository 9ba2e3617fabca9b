//! Findings become a report: levels applied from the policy, instances of one resource grouped,
//! everything sorted, and the verdict of each project and of the whole run decided. (The exit
//! code that follows from a verdict is the command line's to decide.)

use std::cell::Cell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::approval::{Approval, ApprovalNote, ApprovalReview};
use crate::model::change::{address_pattern, Action, ResourceMode};
use crate::model::finding::{Finding, RuleId};
use crate::model::level::Level;
use crate::model::policy::Policy;
use crate::model::project::ProjectPlan;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Block,
}

impl Verdict {
    pub fn from_levels(levels: impl IntoIterator<Item = Level>) -> Verdict {
        levels
            .into_iter()
            .map(|l| match l {
                Level::Deny => Verdict::Block,
                Level::Warn => Verdict::Warn,
                Level::Allow | Level::Info => Verdict::Pass,
            })
            .max()
            .unwrap_or(Verdict::Pass)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Block => "block",
        }
    }
}

/// Resource changes of one plan, by action. `move` and `import` count changes that also do
/// something else (a moved resource may also be updated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub read: usize,
    pub forget: usize,
    pub no_op: usize,
    #[serde(rename = "move")]
    pub moved: usize,
    pub import: usize,
    /// Replacements that keep the old object running unmanaged (`create,forget`).
    pub replace_keep: usize,
    /// OpenTofu ephemeral resources: opened for the run, never infrastructure changes.
    pub ephemeral: usize,
}

impl Counts {
    pub fn of(plan: &ProjectPlan<'_>) -> Counts {
        let mut c = Counts::default();
        for change in &plan.plan.changes {
            if change.mode == ResourceMode::Ephemeral {
                c.ephemeral += 1;
                continue;
            }
            match change.action {
                Action::NoOp => c.no_op += 1,
                Action::Create => c.create += 1,
                Action::Read => c.read += 1,
                Action::Update => c.update += 1,
                Action::ReplaceDeleteFirst | Action::ReplaceCreateFirst => c.replace += 1,
                Action::Delete => c.delete += 1,
                Action::Forget => c.forget += 1,
                Action::ReplaceForget => c.replace_keep += 1,
                // Only ephemeral resources open, and they were counted above.
                Action::Open => c.ephemeral += 1,
            }
            if change.previous_address.is_some() {
                c.moved += 1;
            }
            if change.importing {
                c.import += 1;
            }
        }
        c
    }

    pub fn destroys(&self) -> usize {
        self.delete + self.replace
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProjectReport {
    pub name: String,
    pub dir: String,
    pub workspace: String,
    pub environment: Option<String>,
    pub plan_sha256: String,
    pub verdict: Verdict,
    pub counts: Counts,
    pub plan: String,
    pub terraform_version: Option<String>,
    /// `false` for `-target`/deferred plans: only the changes shown were checked.
    pub complete: bool,
    /// Changes made outside Terraform (`resource_drift`): shown, never counted as planned.
    pub drift: usize,
    /// Actions that destroys in this plan run (Terraform 1.14+ action triggers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destroy_actions: Vec<DestroyActionReport>,
    /// How the plan was checked, where the reader should know (identities not searched for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An action a destroy runs, as the report names it beside the destroyed resource.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DestroyActionReport {
    pub action: String,
    pub resource: String,
    pub event: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub verdict: Verdict,
    pub projects: Vec<ProjectReport>,
    pub findings: Vec<Finding>,
    /// Approvals (DESIGN section 14): additive fields, absent when there are none.
    #[serde(flatten)]
    pub approval: ApprovalSummary,
}

/// What approvals did to a report: the approvals that count, the deny findings they approve
/// (moved out of `findings`, so nothing that reads `findings` sees them as blocking), and the
/// audit list of every approval and revocation read.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ApprovalSummary {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<Approval>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approved_findings: Vec<ApprovedFinding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approval_notes: Vec<ApprovalNote>,
    /// Approvers are in force (a trusted policy names some): a blocked plan whose every deny
    /// finding is a project's could still be approved.
    #[serde(skip)]
    pub approvable: bool,
}

/// A deny finding that an approval lets through, with who approved it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApprovedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub approved_by: Vec<ApprovedBy>,
}

/// One approver of an approved finding: who, when (as the forge wrote it), why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApprovedBy {
    pub by: String,
    pub at: String,
    pub reason: Option<String>,
}

impl ApprovedFinding {
    /// `approved by bob (2026-12-02T08:00:00Z: planned teardown), carol (...)`.
    pub fn approved_text(&self) -> String {
        let who: Vec<String> = self
            .approved_by
            .iter()
            .map(|a| match &a.reason {
                Some(r) => format!("{} ({}: {})", a.by, a.at, crate::text::one_line(r)),
                None => format!("{} ({})", a.by, a.at),
            })
            .collect();
        format!("approved by {}", who.join(", "))
    }
}

impl Report {
    /// Apply levels, group, sort and decide the verdicts.
    pub fn build(policy: &Policy, plans: &[ProjectPlan<'_>], raw: Vec<Finding>) -> Report {
        let findings = group(apply_levels(policy, raw));
        let projects = plans
            .iter()
            .map(|p| {
                let verdict = Verdict::from_levels(
                    findings
                        .iter()
                        .filter(|f| f.project.as_deref() == Some(&p.project.name))
                        .map(|f| f.level),
                );
                ProjectReport {
                    name: p.project.name.clone(),
                    dir: p.project.dir.clone(),
                    workspace: p.project.workspace.clone(),
                    environment: p.project.environment.name().map(str::to_string),
                    plan_sha256: p.plan_sha256.clone(),
                    verdict,
                    counts: Counts::of(p),
                    plan: p.plan_path.display().to_string(),
                    terraform_version: p.plan.terraform_version.clone(),
                    complete: p.plan.complete != Some(false),
                    drift: p.plan.drift.len(),
                    destroy_actions: p
                        .plan
                        .destroy_actions
                        .iter()
                        .map(|a| DestroyActionReport {
                            action: a.action.clone(),
                            resource: a.resource.clone(),
                            event: a.event.clone(),
                        })
                        .collect(),
                    notes: p.notes.clone(),
                }
            })
            .collect();
        Report::assemble(projects, findings)
    }

    /// A report with no plans (atlantis.yaml and policy linting).
    pub fn lint(policy: &Policy, raw: Vec<Finding>) -> Report {
        Report::assemble(Vec::new(), group(apply_levels(policy, raw)))
    }

    fn assemble(projects: Vec<ProjectReport>, findings: Vec<Finding>) -> Report {
        let verdict = Verdict::from_levels(findings.iter().map(|f| f.level));
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "plangate",
                version: env!("CARGO_PKG_VERSION"),
            },
            verdict,
            projects,
            findings,
            approval: ApprovalSummary::default(),
        }
    }

    /// Lay approvals over the report: each project's deny findings are approved by the
    /// approvals of its current plan, and stop counting toward the verdicts. Findings of no
    /// project (`policy-weakened`) are approved by nobody.
    pub fn apply_approvals(&mut self, review: ApprovalReview) {
        let ApprovalReview {
            mut approvals,
            notes,
        } = review;
        approvals.retain(|a| {
            self.projects
                .iter()
                .any(|p| p.name == a.project && p.plan_sha256 == a.plan_sha256)
        });
        let (approved, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| {
                f.level == Level::Deny
                    && approvals
                        .iter()
                        .any(|a| Some(a.project.as_str()) == f.project.as_deref())
            });
        self.findings = kept;
        for a in &mut approvals {
            let mut rules: Vec<String> = approved
                .iter()
                .filter(|f| f.project.as_deref() == Some(a.project.as_str()))
                .map(|f| f.rule.as_str().to_string())
                .collect();
            rules.sort();
            rules.dedup();
            a.rules = rules;
        }
        for f in approved {
            let approved_by = approvals
                .iter()
                .filter(|a| Some(a.project.as_str()) == f.project.as_deref())
                .map(|a| ApprovedBy {
                    by: a.by.clone(),
                    at: a.at.clone(),
                    reason: a.reason.clone(),
                })
                .collect();
            self.approval.approved_findings.push(ApprovedFinding {
                finding: f,
                approved_by,
            });
        }
        for p in &mut self.projects {
            p.verdict = Verdict::from_levels(
                self.findings
                    .iter()
                    .filter(|f| f.project.as_deref() == Some(&p.name))
                    .map(|f| f.level),
            );
        }
        self.verdict = Verdict::from_levels(self.findings.iter().map(|f| f.level));
        self.approval.approvals.extend(approvals);
        self.approval.approval_notes.extend(notes);
    }

    /// Whether an approval could still let this blocked report pass: approvers are in force
    /// and every deny finding belongs to a project (an approval covers nothing else).
    pub fn could_be_approved(&self) -> bool {
        self.approval.approvable
            && self
                .findings
                .iter()
                .filter(|f| f.level == Level::Deny)
                .all(|f| f.project.is_some())
    }

    /// Whether deny findings of `project` (of any project when `None`) were approved.
    pub fn is_approved(&self, project: Option<&str>) -> bool {
        self.approval
            .approved_findings
            .iter()
            .any(|a| project.is_none() || a.finding.project.as_deref() == project)
    }

    /// The verdict as people read it: `pass (approved)` when approvals let it pass.
    pub fn verdict_label(&self, project: Option<&str>) -> String {
        let verdict = match project {
            Some(name) => self
                .projects
                .iter()
                .find(|p| p.name == name)
                .map_or(self.verdict, |p| p.verdict),
            None => self.verdict,
        };
        match verdict != Verdict::Block && self.is_approved(project) {
            true => format!("{} (approved)", verdict.as_str()),
            false => verdict.as_str().to_string(),
        }
    }

    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }
}

fn apply_levels(policy: &Policy, raw: Vec<Finding>) -> Vec<Finding> {
    raw.into_iter()
        .filter_map(|mut f| {
            // The rule set its default level; the policy's setting wins over it.
            let configured = policy.rule_level(f.rule.as_str()).unwrap_or(f.level);
            f.level = configured.min(f.cap);
            (f.level != Level::Allow).then_some(f)
        })
        .collect()
}

/// What the instances of one resource share when they become one finding.
type GroupKey = (
    Level,
    Option<String>,
    RuleId,
    Option<String>,
    Option<&'static str>,
    Option<String>,
);

fn group_key(f: &Finding) -> Option<GroupKey> {
    match &f.address {
        Some(address) if address.contains('[') && f.instances == 1 => Some((
            f.level,
            f.project.clone(),
            f.rule,
            Some(address_pattern(address)),
            f.action_label(),
            f.resource_environment.clone(),
        )),
        _ => None,
    }
}

/// The findings that group with another, taken out of `findings` by their key. Counted first,
/// so that only the members of a group of two or more leave the list: the others stay where
/// they are, and the list's own memory takes the merged findings back (on a mass destroy the
/// findings are most of the heap; a second list would double it).
fn take_groups(findings: &mut Vec<Finding>) -> BTreeMap<GroupKey, Vec<Finding>> {
    let mut sizes: BTreeMap<GroupKey, usize> = BTreeMap::new();
    for f in findings.iter() {
        if let Some(k) = group_key(f) {
            *sizes.entry(k).or_default() += 1;
        }
    }
    sizes.retain(|_, n| *n > 1);
    let mut groups: BTreeMap<GroupKey, Vec<Finding>> = BTreeMap::new();
    if sizes.is_empty() {
        return groups;
    }
    // The key the filter built for the finding it lets out, handed to the loop that takes it.
    let taken: Cell<Option<GroupKey>> = Cell::new(None);
    let members = findings.extract_if(.., |f| match group_key(f) {
        Some(k) if sizes.contains_key(&k) => {
            taken.set(Some(k));
            true
        }
        _ => false,
    });
    for f in members {
        if let Some(k) = taken.take() {
            let size = sizes.get(&k).copied().unwrap_or(0);
            groups
                .entry(k)
                .or_insert_with(|| Vec::with_capacity(size))
                .push(f);
        }
    }
    groups
}

/// Findings of one rule, level, project, action and resource environment on the instances
/// of one resource (`aws_instance.web[0..29]`) become one finding `aws_instance.web[*]`.
fn group(mut findings: Vec<Finding>) -> Vec<Finding> {
    // Every group has two members or more; the rest stayed in the list.
    let groups = take_groups(&mut findings);
    let mut ungrouped = findings;
    for ((_, _, _, pattern, _, _), mut members) in groups {
        members.sort_by(|a, b| a.address.cmp(&b.address));
        let pattern = pattern.unwrap_or_default();
        let n = members.len();
        let mut first = members[0].clone();
        let first_address = first.address.clone().unwrap_or_default();
        let message = first.message.replace(&first_address, &pattern);
        // `(tag env=dev)` becomes `(tag env=dev; 30 instances)`, not two brackets in a row.
        first.message = match message.strip_suffix(')') {
            Some(open) => format!("{open}; {n} instances)"),
            None => format!("{message} ({n} instances)"),
        };
        // The blast radius of the group: every member's dependents, once each.
        let mut dependents: Vec<_> = members
            .iter()
            .flat_map(|m| m.dependents.iter().cloned())
            .collect();
        dependents.sort();
        dependents.dedup();
        first.dependents = dependents;
        first.addresses = members.into_iter().filter_map(|m| m.address).collect();
        first.address = Some(pattern);
        first.instances = n;
        ungrouped.push(first);
    }
    ungrouped.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then_with(|| a.project.cmp(&b.project))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.address.cmp(&b.address))
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.message.cmp(&b.message))
    });
    ungrouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(address: &str) -> Finding {
        Finding::new(
            "cross-env-destroy",
            format!("would destroy {address} tagged env=dev"),
        )
        .project_name("app-staging")
        .address(address)
        .action(Action::Delete)
        .resource_environment(Some("development"))
    }

    #[test]
    fn instances_of_one_resource_group_into_one_finding() {
        let raw: Vec<Finding> = (0..30)
            .map(|i| finding(&format!("aws_instance.web[{i}]")))
            .chain([finding("aws_db_instance.db")])
            .collect();
        let grouped = group(raw);
        assert_eq!(grouped.len(), 2);
        let web = grouped.iter().find(|f| f.instances == 30).unwrap();
        assert_eq!(web.address.as_deref(), Some("aws_instance.web[*]"));
        assert_eq!(
            web.message,
            "would destroy aws_instance.web[*] tagged env=dev (30 instances)"
        );
        assert_eq!(web.addresses.len(), 30);
    }

    #[test]
    fn a_single_instance_is_not_grouped() {
        let grouped = group(vec![finding("aws_instance.web[0]")]);
        assert_eq!(grouped[0].address.as_deref(), Some("aws_instance.web[0]"));
        assert_eq!(grouped[0].instances, 1);
    }

    #[test]
    fn levels_are_capped_and_allow_drops() {
        let policy = crate::input::policy::parse(
            "rules:\n  untagged-destroy: allow\n",
            std::path::Path::new("p.yaml"),
            &crate::rules::catalog(),
        )
        .unwrap();
        let raw = vec![
            Finding::new("cross-env-destroy", "weak").at_most(Level::Warn),
            Finding::new("untagged-destroy", "dropped"),
            Finding::new("cross-env-destroy", "strong"),
        ];
        let out = apply_levels(&policy, raw);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].level, Level::Warn);
        assert_eq!(out[1].level, Level::Deny);
    }

    #[test]
    fn verdict_is_the_worst_level() {
        assert_eq!(Verdict::from_levels([]), Verdict::Pass);
        assert_eq!(Verdict::from_levels([Level::Warn]), Verdict::Warn);
        assert_eq!(
            Verdict::from_levels([Level::Warn, Level::Deny]),
            Verdict::Block
        );
    }
}
