//! The [`Rule`] trait every rule implements, and the [`Context`] a rule may look at.

use crate::model::atlantis::AtlantisConfig;
use crate::model::finding::{Finding, RuleId};
use crate::model::intent::DestroyIntent;
use crate::model::level::Level;
use crate::model::policy::{Policy, PolicyReview};
use crate::model::project::ProjectPlan;

/// Everything a rule may look at.
pub struct Context<'a> {
    pub policy: &'a Policy,
    pub plans: &'a [ProjectPlan<'a>],
    pub atlantis: Option<&'a AtlantisConfig>,
    pub intent: &'a DestroyIntent,
    /// How the policy in force compares with the one it may only tighten.
    pub review: &'a PolicyReview,
}

/// A check with a stable kebab-case id and its own documentation.
pub trait Rule: Sync {
    fn id(&self) -> RuleId;
    fn default_level(&self) -> Level;
    /// One line for `plangate rules`.
    fn summary(&self) -> &'static str;
    /// The full Markdown documentation for `plangate explain` and the README: what it
    /// catches, why (the incident), an example, how to configure or silence it.
    fn docs(&self) -> &'static str;
    /// Option names the rule accepts under `rules.<id>` besides `level`.
    fn options(&self) -> &'static [&'static str] {
        &[]
    }
    /// The value each numeric option has when the policy does not set it. Every option is
    /// more permissive when raised.
    fn option_defaults(&self) -> &'static [(&'static str, f64)] {
        &[]
    }
    /// Runs on `check`: findings about the plans (and, for configuration rules, about the
    /// projects being checked).
    fn check(&self, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
    /// Runs on `lint`: findings about atlantis.yaml and the policy alone, for every project.
    fn lint(&self, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
}
