//! `approvers:` of a policy file: who may approve a blocked plan (DESIGN section 14). Only a
//! trusted policy's approvers count; `pipeline::trust` decides that, this only reads them.
//!
//! ```yaml
//! approvers:
//!   users: [alice, bob]          # logins (GitHub) or usernames (GitLab)
//!   teams: [acme/sre]            # org/team (GitHub), group/subgroup (GitLab)
//!   codeowners: true             # the CODEOWNERS owners of the project's dir, base branch
//!   required:                    # distinct approvals per environment (default 1)
//!     production: 2
//! ```

use crate::input::yaml::{join, Checker, Kind, Node};
use crate::model::approval::Approvers;
use crate::model::environment::Environments;

const KEYS: &[&str] = &["users", "teams", "codeowners", "required"];

/// Read `approvers:`; problems are collected in `yaml` with file:line.
pub fn read(yaml: &mut Checker<'_>, node: &Node, envs: &Environments) -> Approvers {
    let label = "approvers";
    let mut approvers = Approvers::default();
    let Some(fields) = yaml.table(node, label, KEYS) else {
        return approvers;
    };
    for (user, at) in yaml.string_list(fields.get("users"), &join(label, "users")) {
        let user = user.trim().trim_start_matches('@').to_string();
        if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c == '/') {
            yaml.error(
                at,
                format!(
                    "approvers.users: `{}` is not a login",
                    crate::text::printable(&user)
                ),
            );
        } else if !approvers.lists_user(&user) {
            approvers.users.push(user);
        }
    }
    for (team, at) in yaml.string_list(fields.get("teams"), &join(label, "teams")) {
        let team = team.trim().trim_start_matches('@').to_string();
        let parts: Vec<&str> = team.split('/').collect();
        let ok = parts.len() >= 2
            && parts.iter().all(|p| !p.is_empty())
            && !team.contains(char::is_whitespace);
        if !ok {
            yaml.error(
                at,
                format!(
                    "approvers.teams: `{}` is not a team: write org/team (GitHub) or group/subgroup (GitLab)",
                    crate::text::printable(&team)
                ),
            );
        } else if !approvers
            .teams
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&team))
        {
            approvers.teams.push(team);
        }
    }
    approvers.codeowners = yaml
        .bool(fields.get("codeowners"), &join(label, "codeowners"))
        .unwrap_or(false);
    if let Some(node) = fields.get("required") {
        required(yaml, node, envs, &mut approvers);
    }
    approvers
}

/// `required: {production: 2}`: keyed by an environment's name or alias, at least 1.
fn required(yaml: &mut Checker<'_>, node: &Node, envs: &Environments, approvers: &mut Approvers) {
    let Kind::Map(entries) = &node.kind else {
        yaml.error(
            node.position,
            format!(
                "approvers.required: must be a mapping of environment to a number, found {}",
                node.describe()
            ),
        );
        return;
    };
    for (key, value) in entries {
        let Some(word) = key.scalar_text() else {
            continue;
        };
        let label = format!("approvers.required.{word}");
        let Some(def) = envs.resolve_word(&word) else {
            yaml.error(
                key.position,
                format!(
                    "approvers.required: `{word}` is not an environment of the policy (known: {})",
                    envs.describe()
                ),
            );
            continue;
        };
        match yaml.int(Some(value), &label) {
            Some(n) if n >= 1 => {
                approvers
                    .required
                    .insert(def.name.clone(), usize::try_from(n).unwrap_or(usize::MAX));
            }
            Some(_) => yaml.error(value.position, format!("{label}: must be at least 1")),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn parse(text: &str) -> crate::Result<crate::model::policy::Policy> {
        crate::input::policy::parse(text, Path::new("p.yaml"), &crate::rules::catalog())
    }

    #[test]
    fn the_starters_approvers_example_is_valid_uncommented() {
        let starter = crate::input::policy::STARTER_POLICY;
        assert!(starter.contains("# approvers:"));
        let uncommented: String = starter
            .lines()
            .skip_while(|l| !l.starts_with("# approvers:"))
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect();
        let p = parse(&format!("{starter}\n{uncommented}")).unwrap();
        assert_eq!(p.approvers.required_for(Some("production")), 2);
        assert_eq!(p.approvers.teams, ["acme/sre"]);
    }

    #[test]
    fn approvers_are_read_and_checked() {
        let p = parse("approvers:\n  users: [alice, \"@bob\", Alice]\n  teams: [acme/sre]\n  codeowners: true\n  required:\n    prod: 2\n").unwrap();
        let a = &p.approvers;
        assert_eq!(a.users, ["alice", "bob"]);
        assert_eq!(a.teams, ["acme/sre"]);
        assert!(a.codeowners);
        assert_eq!(a.required_for(Some("production")), 2);
        assert_eq!(a.required_for(Some("staging")), 1);
        let e = match parse("approvers:\n  users: [\"a b\"]\n  teams: [sre]\n  required:\n    perf: 2\n    production: 0\n  who: [x]\n") {
            Err(crate::Error::Config(d)) => d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"),
            other => panic!("expected config errors, got {other:?}"),
        };
        for needle in [
            "not a login",
            "not a team",
            "`perf` is not an environment",
            "at least 1",
            "unknown key `who`",
        ] {
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }
}
