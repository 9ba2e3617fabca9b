//! One plan as the rules see it: its resource changes, drift and what the prior state holds.

use serde_json::value::RawValue;

use crate::model::change::{Action, DriftChange, ResourceChange};
use crate::model::dependents::StateDependency;

/// A validated plan: what the rules see of one `terraform show -json` document.
#[derive(Debug)]
pub struct Plan<'a> {
    pub format_version: String,
    pub terraform_version: Option<String>,
    /// `false` for `-target` plans and plans with deferred changes; `None` when not stated.
    pub complete: Option<bool>,
    pub applyable: Option<bool>,
    pub changes: Vec<ResourceChange<'a>>,
    pub drift: Vec<DriftChange<'a>>,
    /// Managed resource instances in the prior state, when the plan carries `prior_state`.
    pub prior_state_resources: Option<usize>,
    /// Actions (Terraform 1.14+ `action_invocations`) that run when a resource is destroyed.
    pub destroy_actions: Vec<DestroyAction>,
    /// `configuration.provider_config` as the plan wrote it, read only for the accounts the
    /// providers target (`model::account::provider_targets`).
    pub provider_config: Option<&'a RawValue>,
    /// `configuration.root_module` as the plan wrote it: read for the dependencies between
    /// resources (`input::configuration`) only when the plan destroys something.
    pub configuration: Option<&'a RawValue>,
    /// The prior-state instances that record dependencies (`depends_on`).
    pub prior_depends_on: Vec<StateDependency<'a>>,
}

/// An action a destroy triggers (`BeforeDestroy`/`AfterDestroy`): a side effect of the destroy
/// that the report names beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestroyAction {
    /// `action.aws_lambda_invoke.notify`.
    pub action: String,
    /// The resource instance whose destroy triggers it.
    pub resource: String,
    /// `BeforeDestroy` or `AfterDestroy`.
    pub event: String,
}

impl Plan<'_> {
    /// How many managed resource instances the state holds before this plan: from
    /// `prior_state` when present, else every managed change that is not a create.
    pub fn state_resource_count(&self) -> usize {
        self.prior_state_resources.unwrap_or_else(|| {
            self.changes
                .iter()
                .filter(|c| c.is_managed() && c.deposed.is_none())
                .filter(|c| !matches!(c.action, Action::Create))
                .count()
        })
    }
}
