//! `policy-unverified`: the repository's policy could not be compared with its version before
//! the pull request, so a relaxation in it would go unseen.

use super::{Context, Rule};
use crate::model::finding::{Finding, RuleId};
use crate::model::level::Level;

pub struct PolicyUnverified;

impl Rule for PolicyUnverified {
    fn id(&self) -> RuleId {
        RuleId::new("policy-unverified")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn summary(&self) -> &'static str {
        "the repository's policy could not be compared with its version on the base branch"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
Without a trusted policy, plangate compares the repository's `plangate.yaml` with its version at
the merge base of the pull request (see `policy-weakened`). When that version cannot be read (a
shallow clone without the base branch, a base ref that does not exist), the comparison is not
made and this warning says why and how to fix it.

## Why
A relaxation nobody can see is the bypass `policy-weakened` exists to stop. Checkouts in CI are
often shallow: `actions/checkout` fetches one commit unless told otherwise.

## Levels
`warn`. Make it `deny` in the trusted policy to refuse unverifiable policies outright.

## Configure
Fetch the base branch (`actions/checkout` with `fetch-depth: 0`, or `git fetch origin BRANCH`),
pass `--base-ref`, or give a trusted policy with `--policy`/`$PLANGATE_POLICY`.
```yaml
rules:
  policy-unverified: deny
```
"#
    }

    fn lint(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        self.check(ctx, out);
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        if let Some(why) = &ctx.review.unverified {
            out.push(Finding::new(self.id(), why.clone()));
        }
    }
}
