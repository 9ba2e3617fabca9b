//! The atlantis.yaml and repos.yaml readers against Atlantis's own rules.

use std::fmt;

use super::names::*;
use super::*;
use crate::error::{Diagnostic, Error, Position};
use crate::model::atlantis::*;

const FILE: &str = "atlantis.yaml";

fn parse_ok(yaml: &str) -> AtlantisConfig {
    match parse(yaml, Path::new(FILE)) {
        Ok(config) => config,
        Err(e) => panic!("expected a valid config, got: {e:?}"),
    }
}

fn diagnostics_of(result: crate::Result<impl fmt::Debug>) -> Vec<Diagnostic> {
    match result {
        Err(Error::Config(diagnostics)) => {
            for d in &diagnostics {
                assert!(!d.message.contains('\n'), "multi-line message: {d}");
                assert_eq!(d.path, Path::new(FILE));
            }
            diagnostics
        }
        other => panic!("expected config diagnostics, got: {other:?}"),
    }
}

/// (line, message) of every diagnostic.
fn errors(yaml: &str) -> Vec<(usize, String)> {
    diagnostics_of(parse(yaml, Path::new(FILE)))
        .into_iter()
        .map(|d| (d.position.map_or(0, |p| p.line), d.message))
        .collect()
}

fn repos_errors(yaml: &str) -> Vec<(usize, String)> {
    diagnostics_of(parse_repos_yaml(yaml, Path::new(FILE)))
        .into_iter()
        .map(|d| (d.position.map_or(0, |p| p.line), d.message))
        .collect()
}

/// Asserts exactly one diagnostic, on `line`, containing `needle`.
fn assert_one(yaml: &str, line: usize, needle: &str) {
    let found = errors(yaml);
    assert_eq!(found.len(), 1, "expected one diagnostic, got {found:#?}");
    assert_eq!(found[0].0, line, "wrong line: {found:#?}");
    assert!(
        found[0].1.contains(needle),
        "{:?} does not contain {needle:?}",
        found[0].1
    );
}

fn project(yaml_body: &str) -> String {
    format!("version: 3\nprojects:\n{yaml_body}")
}

// --- valid files ------------------------------------------------------------------------

#[test]
fn minimal_file_has_defaults() {
    let config = parse_ok("version: 3\nprojects:\n- dir: envs/prod\n");
    assert_eq!(config.version, 3);
    assert_eq!(config.projects.len(), 1);
    let p = &config.projects[0];
    assert_eq!(p.dir, "envs/prod");
    assert_eq!(p.workspace, "default");
    assert_eq!(p.name, None);
    assert_eq!(p.position, Position { line: 3, column: 3 });
    assert_eq!(p.name_position, None);
    assert!(p.when_modified.is_empty());
    assert_eq!(p.autoplan_enabled, None);
}

#[test]
fn version_2_is_accepted() {
    assert_eq!(parse_ok("version: 2\n").version, 2);
}

#[test]
fn fields_are_read() {
    let config = parse_ok(
        "version: 3\nautomerge: true\nparallel_plan: false\nparallel_apply: yes\n\
         projects:\n\
         - name: app-prod\n  dir: ./envs/prod/\n  workspace: blue\n  workflow: custom\n  \
         branch: /^main$/\n  terraform_version: 1.10\n  terraform_distribution: opentofu\n  \
         execution_order_group: 2.0\n  depends_on: [net]\n  \
         autoplan:\n    enabled: false\n    when_modified: ['*.tf', '../modules/**']\n  \
         apply_requirements: [approved, mergeable]\n  plan_requirements: [undiverged]\n  \
         import_requirements: [approved]\n  policy_check: true\n  custom_policy_check: on\n  \
         repo_locking: false\n",
    );
    assert_eq!(config.automerge, Some(true));
    assert_eq!(config.parallel_plan, Some(false));
    assert_eq!(config.parallel_apply, Some(true));
    let p = &config.projects[0];
    assert_eq!(p.name.as_deref(), Some("app-prod"));
    assert_eq!(p.name_position, Some(Position { line: 6, column: 9 }));
    assert_eq!(p.dir, "envs/prod");
    assert_eq!(p.workspace, "blue");
    assert_eq!(p.workflow.as_deref(), Some("custom"));
    assert_eq!(p.branch.as_deref(), Some("/^main$/"));
    // The source text, not the float 1.1.
    assert_eq!(p.terraform_version.as_deref(), Some("1.10"));
    assert_eq!(p.terraform_distribution.as_deref(), Some("opentofu"));
    assert_eq!(p.execution_order_group, Some(2));
    assert_eq!(p.depends_on, vec!["net"]);
    assert_eq!(p.autoplan_enabled, Some(false));
    assert_eq!(p.when_modified, vec!["*.tf", "../modules/**"]);
    assert_eq!(p.apply_requirements, vec!["approved", "mergeable"]);
    assert_eq!(p.plan_requirements, vec!["undiverged"]);
    assert_eq!(p.import_requirements, vec!["approved"]);
    assert_eq!(p.policy_check, Some(true));
    assert_eq!(p.custom_policy_check, Some(true));
    assert_eq!(p.repo_locking, Some(false));
}

#[test]
fn dirs_are_normalised_like_atlantis() {
    for (raw, expected) in [
        (".", "."),
        ("./", "."),
        ("/", "."),
        ("envs/prod/", "envs/prod"),
        ("./envs//prod", "envs/prod"),
        ("envs/./prod", "envs/prod"),
        ("/envs/prod", "envs/prod"),
    ] {
        let config = parse_ok(&project(&format!("- dir: \"{raw}\"\n")));
        assert_eq!(config.projects[0].dir, expected, "dir {raw:?}");
    }
    assert_eq!(normalize_dir("a/b/../c"), "a/c");
    assert_eq!(normalize_dir("../a"), "../a");
    assert_eq!(normalize_dir(""), ".");
}

#[test]
fn empty_workspace_means_default() {
    let config = parse_ok(&project("- dir: a\n  workspace: \"\"\n"));
    assert_eq!(config.projects[0].workspace, "default");
}

#[test]
fn null_name_leaves_project_unnamed() {
    // go-yaml leaves a *string nil for `name:` with no value.
    let config = parse_ok(&project("- dir: a\n  name:\n"));
    assert_eq!(config.projects[0].name, None);
}

#[test]
fn full_featured_file_with_policies_and_autodiscover() {
    let config = parse_ok(
        "version: 3\nautodiscover:\n  mode: auto\n  ignore_paths: [modules/**]\n\
         delete_source_branch_on_merge: true\nabort_on_execution_order_fail: true\n\
         emoji_reaction: eyes\nallowed_regexp_prefixes: [dev/]\nsilence_pr_comments: [apply]\n\
         repo_locks:\n  mode: on_apply\n\
         policies:\n  conftest_version: v0.25.0\n  owners:\n    users: [alice]\n  \
         policy_sets:\n    - name: base\n      path: policy/\n      source: local\n\
         projects:\n- dir: a\n  repo_locks: {mode: disabled}\n  silence_pr_comments: [plan]\n  \
         delete_source_branch_on_merge: false\n",
    );
    assert_eq!(config.projects.len(), 1);
}

// --- version ------------------------------------------------------------------------------

#[test]
fn version_is_required() {
    assert_one("projects:\n- dir: a\n", 1, "version: is required");
}

#[test]
fn version_must_be_2_or_3() {
    assert_one(
        "version: 4\n",
        1,
        "version: only versions 2 and 3 are supported, found 4",
    );
}

#[test]
fn quoted_version_is_a_type_error() {
    assert_one(
        "\nversion: \"3\"\n",
        2,
        "version: must be an integer, found string \"3\"",
    );
}

#[test]
fn comment_only_file_needs_a_version() {
    assert_one("# nothing yet\n", 1, "version: is required");
}

// --- strict keys --------------------------------------------------------------------------

#[test]
fn unknown_top_level_key() {
    assert_one(
        "version: 3\nrepo_config: {}\n",
        2,
        "unknown key `repo_config` at the top level (Atlantis rejects unknown keys)",
    );
}

#[test]
fn unknown_project_key_suggests_the_right_one() {
    assert_one(
        &project("- dir: a\n  worksapce: dev\n"),
        4,
        "unknown key `worksapce` in projects[0] (Atlantis rejects unknown keys); did you mean \
         `workspace`?",
    );
}

#[test]
fn unknown_autoplan_key() {
    assert_one(
        &project("- dir: a\n  autoplan:\n    apply_requirements: [approved]\n"),
        5,
        "unknown key `apply_requirements` in projects[0].autoplan",
    );
}

#[test]
fn messages_stay_on_one_line() {
    assert_one(
        "version: 3\n\"bad\\nkey\": 1\n",
        2,
        "unknown key `bad\\nkey` at the top level",
    );
}

#[test]
fn non_string_key_is_unknown() {
    assert_one(
        &project("- dir: a\n  1: x\n"),
        4,
        "unknown key `1` in projects[0]",
    );
}

#[test]
fn yaml_11_boolean_words_stay_keys() {
    // `on:` must not turn into the key `true`.
    assert_one(&project("- dir: a\n  on: x\n"), 4, "unknown key `on`");
}

// --- project rules ------------------------------------------------------------------------

#[test]
fn dir_is_required() {
    assert_one(&project("- name: a\n"), 3, "projects[0]: `dir` is required");
    assert_one(
        &project("- dir: \"\"\n"),
        3,
        "projects[0]: `dir` is required",
    );
    assert_one(&project("- dir:\n"), 3, "projects[0]: `dir` is required");
}

#[test]
fn dir_cannot_climb() {
    assert_one(
        &project("- dir: envs/../../x\n"),
        3,
        "projects[0].dir: cannot contain '..'",
    );
}

#[test]
fn name_if_set_cannot_be_empty() {
    assert_one(
        &project("- dir: a\n  name: \"\"\n"),
        4,
        "projects[0].name: if set cannot be empty",
    );
}

#[test]
fn name_must_be_url_safe() {
    assert_one(
        &project("- dir: a\n  name: my project\n"),
        4,
        "\"my project\" is not allowed: must contain only URL safe characters",
    );
    let config = parse_ok(&project("- dir: a\n  name: team/app-prod_1.2~x\n"));
    assert_eq!(
        config.projects[0].name.as_deref(),
        Some("team/app-prod_1.2~x")
    );
}

#[test]
fn name_cannot_contain_glob_characters() {
    assert_one(
        &project("- dir: a\n  name: app-*\n"),
        4,
        "projects[0].name: cannot contain glob pattern characters",
    );
}

#[test]
fn name_cannot_be_used_with_a_glob_dir() {
    assert_one(
        &project("- dir: \"modules/*\"\n  name: mods\n"),
        4,
        "cannot be used with glob patterns in 'dir'",
    );
    // Unnamed glob projects are fine (Atlantis expands them).
    parse_ok(&project(
        "- dir: \"envs/*\"\n- dir: \"envs/*\"\n  workspace: b\n",
    ));
}

#[test]
fn workspace_rules() {
    for (workspace, reason) in [
        ("a/b", "cannot contain '/' or '\\'"),
        ("-x", "cannot start with '-'"),
        ("~x", "cannot start with '~'"),
        ("a..b", "cannot contain '..'"),
        ("$WS", "cannot contain '$'"),
        ("\".\"", "cannot be '.'"),
        ("\"a b\"", "cannot contain whitespace"),
    ] {
        assert_one(
            &project(&format!("- dir: a\n  workspace: {workspace}\n")),
            4,
            reason,
        );
    }
}

#[test]
fn branch_must_be_a_slashed_regex() {
    assert_one(
        &project("- dir: a\n  branch: main\n"),
        4,
        "projects[0].branch: regex must begin and end with a slash '/', found \"main\"",
    );
    assert_one(
        &project("- dir: a\n  branch: /\n"),
        4,
        "regex must begin and end with a slash",
    );
    assert_one(
        &project("- dir: a\n  branch: /(main/\n"),
        4,
        "projects[0].branch: /(main/ is not a valid regex: unclosed group",
    );
}

#[test]
fn requirements_are_checked_per_item() {
    assert_one(
        &project("- dir: a\n  apply_requirements:\n    - approved\n    - reviewed\n"),
        6,
        "projects[0].apply_requirements: \"reviewed\" is not a valid apply_requirement, only \
         \"approved\", \"mergeable\" and \"undiverged\" are supported",
    );
    assert_one(
        &project("- dir: a\n  plan_requirements: [policies_passed]\n"),
        4,
        "is not a valid plan_requirement",
    );
    assert_one(
        &project("- dir: a\n  import_requirements: [nope]\n"),
        4,
        "is not a valid import_requirement",
    );
}

#[test]
fn a_string_where_a_list_is_expected() {
    assert_one(
        &project("- dir: a\n  apply_requirements: approved\n"),
        4,
        "projects[0].apply_requirements: must be a list of strings, found string \"approved\" \
         (write it as a list: [approved])",
    );
}

#[test]
fn terraform_distribution_values() {
    assert_one(
        &project("- dir: a\n  terraform_distribution: tofu\n"),
        4,
        "\"tofu\" is not a valid terraform_distribution, only 'terraform' and 'opentofu'",
    );
}

#[test]
fn terraform_version_must_parse() {
    assert_one(
        &project("- dir: a\n  terraform_version: <TERRAFORM_VERSION>\n"),
        4,
        "projects[0].terraform_version: version \"<TERRAFORM_VERSION>\" could not be parsed",
    );
    assert_one(
        &project("- dir: a\n  terraform_version: \">= 1.5\"\n"),
        4,
        "could not be parsed",
    );
    for good in [
        "v1.2",
        "1.7.0",
        "1.5.0-beta1",
        "1.5.0-rc.1+build.2",
        "0.12.0beta1",
        "1",
    ] {
        parse_ok(&project(&format!(
            "- dir: a\n  terraform_version: {good}\n"
        )));
    }
}

#[test]
fn integers_and_booleans_are_typed() {
    assert_one(
        &project("- dir: a\n  execution_order_group: 1.5\n"),
        4,
        "projects[0].execution_order_group: must be an integer, found number 1.5",
    );
    assert_one(
        &project("- dir: a\n  execution_order_group: \"1\"\n"),
        4,
        "must be an integer, found string \"1\"",
    );
    assert_one(
        &project("- dir: a\n  autoplan:\n    enabled: maybe\n"),
        5,
        "projects[0].autoplan.enabled: must be true or false, found string \"maybe\"",
    );
}

#[test]
fn silence_pr_comments_values() {
    assert_one(
        &project("- dir: a\n  silence_pr_comments: [import]\n"),
        4,
        "value \"import\" is not supported, supported values are [plan, apply]",
    );
}

#[test]
fn wrong_shapes_are_reported() {
    assert_one(
        "version: 3\nprojects: {dir: a}\n",
        2,
        "projects: must be a list of projects",
    );
    assert_one(
        &project("- just-a-dir\n"),
        3,
        "projects[0]: must be a mapping, found string",
    );
    assert_one(&project("-\n"), 3, "projects[0]: empty project");
    assert_one(
        &project("- dir: [a]\n"),
        3,
        "projects[0].dir: must be a string, found a list",
    );
    assert_one(
        "- version: 3\n",
        1,
        "must be a mapping with `version` and `projects`",
    );
}

// --- cross-project rules ------------------------------------------------------------------

#[test]
fn duplicate_names_are_rejected() {
    assert_one(
        &project("- name: app\n  dir: a\n- name: app\n  dir: b\n"),
        5,
        "found two or more projects with name \"app\"; project names must be unique (first at \
         line 3)",
    );
}

#[test]
fn duplicate_names_on_different_branches_are_allowed() {
    // Atlantis filters projects by the base branch before checking names.
    parse_ok(&project(
        "- name: app\n  dir: a\n  branch: /main/\n- name: app\n  dir: a\n  branch: /dev/\n",
    ));
    assert_one(
        &project("- name: app\n  dir: a\n  branch: /main/\n- name: app\n  dir: b\n"),
        6,
        "found two or more projects with name \"app\"",
    );
}

#[test]
fn unnamed_projects_sharing_dir_and_workspace_are_rejected() {
    assert_one(
        &project("- dir: a\n- dir: ./a/\n"),
        4,
        "there are two or more projects with dir: \"a\" workspace: \"default\" that are not \
         all named",
    );
    assert_one(
        &project("- name: x\n  dir: a\n- dir: a\n"),
        5,
        "that are not all named",
    );
    // Other workspaces are other states.
    parse_ok(&project("- dir: a\n- dir: a\n  workspace: staging\n"));
}

#[test]
fn named_projects_sharing_a_state_are_kept_and_reported_by_shared_states() {
    let config = parse_ok(&project(
        "- name: one\n  dir: a\n- name: two\n  dir: a/\n- name: three\n  dir: b\n",
    ));
    let groups = config.shared_states();
    assert_eq!(groups.len(), 1);
    let names: Vec<_> = groups[0].iter().map(|p| p.display_name()).collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(groups[0][1].position.line, 5);
}

#[test]
fn workflows_with_their_own_backends_do_not_share_state() {
    // The pattern of Atlantis's custom-workflows documentation: one dir, two named projects,
    // each workflow passing its own -backend-config to init.
    let yaml = "version: 3
projects:
- name: app-staging
  dir: app
  workflow: staging
- name: app-production
  dir: app
  workflow: production
- name: app-copy
  dir: app
  workflow: staging
- name: data-a
  dir: data
  workflow: data-a
- name: data-b
  dir: data
  workflow: data-b
workflows:
  staging:
    plan:
      steps:
      - init:
          extra_args: [\"-backend-config=staging.backend.tfvars\"]
      - plan
  production:
    plan:
      steps:
      - init:
          extra_args: [\"-backend-config=production.backend.tfvars\"]
      - plan
  data-a:
    plan:
      steps:
      - env:
          name: TF_DATA_DIR
          value: .terraform-a
      - init
      - plan
  data-b:
    plan:
      steps:
      - run: terraform init -backend-config=b.tfvars
      - plan
";
    let config = parse_ok(yaml);
    let groups: Vec<Vec<String>> = config
        .shared_states()
        .iter()
        .map(|g| g.iter().map(|p| p.display_name()).collect())
        .collect();
    // Two projects on one workflow still share its backend.
    assert_eq!(groups, [["app-staging", "app-copy"]]);
}

#[test]
fn unnamed_then_named_on_one_state_is_accepted_like_atlantis() {
    // Atlantis only complains when an unnamed project follows another on the same state.
    let config = parse_ok(&project("- dir: a\n- name: two\n  dir: a\n"));
    assert_eq!(config.shared_states().len(), 1);
}

#[test]
fn projects_on_different_branches_do_not_share_state() {
    let config = parse_ok(&project(
        "- name: one\n  dir: .\n  branch: /main/\n- name: two\n  dir: .\n  branch: /dev/\n\
         - name: three\n  dir: b\n  branch: /main/\n- name: four\n  dir: b\n",
    ));
    let groups = config.shared_states();
    assert_eq!(groups.len(), 1);
    let names: Vec<_> = groups[0].iter().map(|p| p.display_name()).collect();
    assert_eq!(names, ["three", "four"]);
}

#[test]
fn lookups() {
    let config = parse_ok(&project(
        "- name: app\n  dir: envs/prod\n- dir: envs/stg\n  workspace: blue\n- dir: .\n",
    ));
    assert_eq!(
        config.find_by_name("app").map(|p| p.dir.as_str()),
        Some("envs/prod")
    );
    assert!(config.find_by_name("nope").is_none());
    assert_eq!(
        config
            .find_by_dir_workspace("./envs/prod/", "default")
            .len(),
        1
    );
    assert_eq!(config.find_by_dir_workspace("envs/prod", "").len(), 1);
    assert_eq!(config.find_by_dir_workspace("envs/stg", "default").len(), 0);
    assert_eq!(config.find_by_dir_workspace("envs/stg", "blue").len(), 1);
    assert_eq!(config.find_by_dir_workspace("", "default").len(), 1);
    let names: Vec<_> = config.projects.iter().map(|p| p.display_name()).collect();
    assert_eq!(names, ["app", "envs/stg:blue", "."]);
}

#[test]
fn glob_dirs_match_the_directories_they_expand_to() {
    let config = parse_ok(&project(
        "- dir: \"modules/*\"\n- dir: \"stacks/**/live\"\n  workspace: prod\n",
    ));
    assert_eq!(
        config.find_by_dir_workspace("modules/vpc", "default").len(),
        1
    );
    assert_eq!(
        config
            .find_by_dir_workspace("modules/vpc/sub", "default")
            .len(),
        0
    );
    assert_eq!(
        config
            .find_by_dir_workspace("stacks/eu/a/live", "prod")
            .len(),
        1
    );
    assert_eq!(
        config
            .find_by_dir_workspace("stacks/eu/a/live", "default")
            .len(),
        0
    );
    assert_eq!(config.projects[0].dir, "modules/*");
    assert!(config.shared_states().is_empty());
    assert_one(
        &project("- dir: \"modules/[a\"\n"),
        3,
        "projects[0].dir: invalid glob pattern \"modules/[a\"",
    );
}

// --- all problems at once -------------------------------------------------------------

#[test]
fn every_problem_is_collected_in_line_order() {
    let found = errors(
        "version: 5\nfoo: 1\nprojects:\n- dir: ../x\n  bar: 2\n- name: a\n  dir: b\n\
         - name: a\n  dir: c\n  apply_requirements: [x]\n",
    );
    let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [1, 2, 4, 5, 8, 10], "{found:#?}");
}

// --- YAML level -----------------------------------------------------------------------

#[test]
fn merge_keys_work() {
    let config = parse_ok(
        "version: 3\nprojects:\n- &base\n  name: one\n  dir: envs/one\n  \
         terraform_version: v1.5.0\n  apply_requirements: [approved]\n\
         - <<: *base\n  name: two\n  dir: envs/two\n",
    );
    let two = &config.projects[1];
    assert_eq!(two.name.as_deref(), Some("two"));
    assert_eq!(two.dir, "envs/two");
    assert_eq!(two.terraform_version.as_deref(), Some("v1.5.0"));
    assert_eq!(two.apply_requirements, vec!["approved"]);
    assert_eq!(two.position.line, 8);
}

#[test]
fn merged_problems_point_at_the_merge_and_name_the_source() {
    let found = errors(
        "version: 3\nprojects:\n- &base\n  dir: a\n  name: one\n  tf_version: x\n\
         - <<: *base\n  name: two\n",
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, 6);
    assert!(found[0]
        .1
        .contains("unknown key `tf_version` in projects[0] (Atlantis"));
    assert_eq!(found[1].0, 7);
    assert!(found[1]
        .1
        .contains("unknown key `tf_version` in projects[1] (defined at line 6)"));
}

#[test]
fn syntax_errors_carry_a_line() {
    assert_one(
        "version: 3\nprojects:\n- dir: a\n\tname: x\n",
        3,
        "invalid YAML: while scanning a plain scalar, found a tab",
    );
}

#[test]
fn duplicate_yaml_keys_are_rejected() {
    assert_one(
        "version: 3\nprojects:\n- dir: a\n  dir: b\n",
        4,
        "invalid YAML: duplicate key `dir`",
    );
}

#[test]
fn unquoted_glob_reads_as_an_alias() {
    assert_one(
        &project("- dir: a\n  autoplan:\n    when_modified:\n      - **/*.tf\n"),
        6,
        "alias refers to an unknown anchor (a plain value starting with `*` is read as an \
         alias; quote it",
    );
}

#[test]
fn alias_bomb_fails_fast() {
    let mut yaml = String::from("version: 3\na: &a [x, x, x, x, x, x, x, x, x]\n");
    let mut previous = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        yaml.push_str(&format!("{name}: &{name} [{refs}]\n"));
        previous = name;
    }
    let started = std::time::Instant::now();
    let found = errors(&yaml);
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].1.contains("safety limits"), "{found:#?}");
    assert!(found[0].0 > 0);
}

#[test]
fn deep_nesting_fails_fast() {
    let block: String = (1..200)
        .map(|depth| format!("{}k:\n", "  ".repeat(depth)))
        .collect();
    let found = errors(&format!("version: 3\nx:\n{block}"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].1.contains("safety limits"), "{found:#?}");

    let flow = format!(
        "version: 3\nprojects: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let found = errors(&flow);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].1.contains("safety limits"), "{found:#?}");
}

#[test]
fn one_anchor_used_by_many_projects_is_fine() {
    let mut yaml = String::from("version: 3\nprojects:\n");
    yaml.push_str("- {name: p0, dir: d0, terraform_version: &tf v1.6.0}\n");
    for i in 1..400 {
        yaml.push_str(&format!(
            "- {{name: p{i}, dir: d{i}, terraform_version: *tf}}\n"
        ));
    }
    assert_eq!(parse_ok(&yaml).projects.len(), 400);
}

#[test]
fn only_the_first_document_counts() {
    // go-yaml's Decoder.Decode reads one document; Atlantis ignores the rest.
    let config = parse_ok("version: 3\nprojects:\n- dir: a\n---\nversion: 9\n");
    assert_eq!(config.projects.len(), 1);
}

#[test]
fn empty_text_is_an_input_error() {
    for text in ["", "  \n\n", "\u{feff}"] {
        match parse(text, Path::new(FILE)) {
            Err(Error::Input { message, .. }) => assert_eq!(message, "is empty"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn bom_is_skipped() {
    parse_ok("\u{feff}version: 3\nprojects:\n- dir: a\n");
}

#[test]
fn display_names_file_line_and_column() {
    let err = match parse("version: 3\nbogus: 1\n", Path::new("repo/atlantis.yaml")) {
        Err(e) => e,
        Ok(_) => panic!("expected an error"),
    };
    assert!(err
        .to_string()
        .starts_with("repo/atlantis.yaml:2:1: unknown key `bogus`"));
}

// --- repos.yaml vs atlantis.yaml --------------------------------------------------------

#[test]
fn server_side_repos_yaml_is_rejected_as_atlantis_yaml() {
    assert_one(
        "repos:\n- id: /.*/\n  allow_custom_workflows: true\n",
        1,
        "this is a server-side repos.yaml (top-level `repos:`), not a repo-level atlantis.yaml",
    );
}

#[test]
fn atlantis_yaml_is_rejected_as_repos_yaml() {
    let found = repos_errors("version: 3\nprojects:\n- dir: .\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 1);
    assert!(found[0].1.contains("this is a repo-level atlantis.yaml"));
}

// --- workflows ----------------------------------------------------------------------------

#[test]
fn workflows_and_steps_are_read() {
    let config = parse_ok(
        "version: 3\nworkflows:\n  gate:\n    plan:\n      steps:\n      - init\n      \
         - plan: {extra_args: [-lock=false]}\n      - show\n      \
         - run: plangate check --mode report\n      \
         - env: {name: TF_IN_AUTOMATION, value: \"1\"}\n      \
         - run: {command: make plan, output: strip_refreshing, shell: bash, shellArgs: [-eu, -c]}\n      \
         - multienv: {command: ./envs.sh, output: hide}\n      \
         - run:\n          command: make\n          output: [hide, {filter_regex: 'secret: .*'}]\n    \
         apply:\n      steps: [apply]\n  empty:\n",
    );
    assert_eq!(config.workflows, ["gate", "empty"]);
    let gate = config.workflow("gate").expect("gate");
    let plan = gate.stage("plan").expect("plan stage");
    let kinds: Vec<&str> = plan.steps.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["init", "plan", "show", "run", "env", "run", "multienv", "run"]
    );
    assert_eq!(plan.steps[1].extra_args, ["-lock=false"]);
    assert_eq!(
        plan.steps[3].command.as_deref(),
        Some("plangate check --mode report")
    );
    assert_eq!(plan.steps[4].env_name.as_deref(), Some("TF_IN_AUTOMATION"));
    assert_eq!(plan.steps[5].command.as_deref(), Some("make plan"));
    assert_eq!(plan.steps[3].position.line, 9);
    assert_eq!(gate.stage("apply").map(|s| s.steps.len()), Some(1));
    assert!(config
        .workflow("empty")
        .is_some_and(|w| w.stages.is_empty()));
}

fn step_errors(steps: &str) -> Vec<(usize, String)> {
    errors(&format!(
        "version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n{steps}"
    ))
}

fn assert_step(steps: &str, line: usize, needle: &str) {
    let found = step_errors(steps);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, line, "{found:#?}");
    assert!(
        found[0].1.contains(needle),
        "{:?} lacks {needle:?}",
        found[0].1
    );
}

#[test]
fn step_rules() {
    assert_step(
        "      - run\n",
        6,
        "workflows.w.plan.steps[0]: \"run\" is not a valid step type, maybe you omitted the \
         'run' key",
    );
    assert_step("      - deploy\n", 6, "\"deploy\" is not a valid step type");
    assert_step("      - {}\n", 6, "step element is empty");
    assert_step(
        "      - run: a\n        output: hide\n",
        6,
        "step element can only contain a single key, found 2: run,output",
    );
    assert_step(
        "      - plan: -lock=false\n",
        6,
        "\"plan\" is not a valid step type for a string value",
    );
    assert_step(
        "      - plan: {args: [x]}\n",
        6,
        "built-in steps only support a single extra_args key, found \"args\" in step plan",
    );
    assert_step(
        "      - deploy: {x: 1}\n",
        6,
        "\"deploy\" is not a valid step type",
    );
    assert_step(
        "      - env: {value: x}\n",
        6,
        "env steps must have a \"name\" key set",
    );
    assert_step(
        "      - env: {name: A, value: x, command: y}\n",
        6,
        "env steps only support one of the \"value\" or \"command\" keys, found both",
    );
    assert_step(
        "      - run: {output: hide}\n",
        6,
        "\"run\" step must have a \"command\" key set",
    );
    assert_step(
        "      - run: {command: x, shellArgs: -c}\n",
        6,
        "\"shellArgs\" key in combination with \"shell\" key",
    );
    assert_step(
        "      - env: {name: A, shell: bash}\n",
        6,
        "\"shell\" key in combination with \"command\" key",
    );
    assert_step(
        "      - run: {command: x, output: loud}\n",
        6,
        "run step output must be one of show, hide, strip_refreshing or filter_regex, found \
         \"loud\"",
    );
    assert_step(
        "      - multienv: {command: x, output: strip_refreshing}\n",
        6,
        "multienv step output must be one of show, hide, found \"strip_refreshing\"",
    );
    assert_step(
        "      - run: {command: x, output: [{filter_regex: '(['}]}\n",
        6,
        "filter_regex \"([\" is not a valid regex: unclosed character class",
    );
    assert_step(
        "      - run: {command: x, shell: bash, shell_args: [-c]}\n",
        6,
        "unknown key `shell_args` in workflows.w.plan.steps[0].run (Atlantis rejects unknown \
         keys); did you mean `shellArgs`?",
    );
    assert_step(
        "      - [init]\n",
        6,
        "a step must be a step name or a one-key mapping",
    );
}

#[test]
fn unknown_stage_and_stage_keys() {
    let found = errors(
        "version: 3\nworkflows:\n  w:\n    deploy:\n      steps: []\n    plan:\n      run: x\n",
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, 4);
    assert!(found[0].1.contains("unknown key `deploy` in workflows.w"));
    assert_eq!(found[1].0, 7);
    assert!(found[1].1.contains("unknown key `run` in workflows.w.plan"));
}

// --- repos.yaml -----------------------------------------------------------------------

#[test]
fn repos_yaml_is_read() {
    let config = match parse_repos_yaml(
        "repos:\n- id: /.*/\n  branch: /main/\n  workflow: gate\n  \
         allowed_overrides: [workflow, apply_requirements]\n  allowed_workflows: [gate, default]\n  \
         allow_custom_workflows: false\n  apply_requirements: [approved, mergeable]\n  \
         policy_check: true\n  custom_policy_check: true\n  repo_config_file: infra/atlantis.yaml\n  \
         pre_workflow_hooks:\n    - run: echo hi\n      description: greet\n      shell: bash\n  \
         post_workflow_hooks:\n    - run: echo bye\n\
         workflows:\n  gate:\n    plan:\n      steps: [init, plan, show, {run: plangate check}]\n\
         policies:\n  policy_sets:\n    - {name: plangate, path: policy, source: local}\n\
         metrics:\n  prometheus: {endpoint: /metrics}\n\
         team_authz: {command: ./authz.sh, args: [--x]}\n\
         external_stores:\n  plan_store: {type: s3, s3: {bucket: b, region: eu-west-1}}\n",
        Path::new(FILE),
    ) {
        Ok(config) => config,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(config.workflows, ["gate"]);
    assert!(config.has_policies);
    assert_eq!(config.policy_sets, ["plangate"]);
    let repo = &config.repos[0];
    assert_eq!(repo.id, "/.*/");
    assert_eq!(repo.position.line, 2);
    assert_eq!(repo.workflow.as_deref(), Some("gate"));
    assert_eq!(repo.allowed_overrides, ["workflow", "apply_requirements"]);
    assert_eq!(repo.allow_custom_workflows, Some(false));
    assert_eq!(repo.custom_policy_check, Some(true));
    assert_eq!(repo.pre_workflow_hooks[0].run.as_deref(), Some("echo hi"));
    assert_eq!(
        repo.pre_workflow_hooks[0].description.as_deref(),
        Some("greet")
    );
    assert_eq!(repo.post_workflow_hooks.len(), 1);
    let steps = &config.workflow("gate").expect("gate").stages[0].steps;
    assert_eq!(steps[3].command.as_deref(), Some("plangate check"));
}

#[test]
fn repos_yaml_rules() {
    let found = repos_errors(
        "repos:\n- id: /(/\n  workflow: missing\n  allowed_overrides: [workflow, terraform_version]\n  \
         allowed_workflows: [nope]\n  repo_config_file: /abs.yaml\n  \
         repo_locks: {mode: sometimes}\n  autodiscover: {mode: maybe}\n  bogus: 1\n\
         - branch: /x/\n\
         metrics:\n  statsd: {host: localhost, port: abc}\n\
         external_stores:\n  plan_store: {type: gcs}\n",
    );
    let expected: [(usize, &str); 11] = [
        (2, "repos[0].id: /(/ is not a valid regex"),
        (3, "repos[0].workflow: workflow \"missing\" is not defined"),
        (4, "\"terraform_version\" is not a valid override"),
        (
            5,
            "repos[0].allowed_workflows: workflow \"nope\" is not defined",
        ),
        (
            6,
            "repos[0].repo_config_file: must not start with a slash '/'",
        ),
        (
            7,
            "repos[0].repo_locks.mode: must be one of disabled, on_plan, on_apply",
        ),
        (
            8,
            "repos[0].autodiscover.mode: must be one of auto, disabled, enabled",
        ),
        (9, "unknown key `bogus` in repos[0]"),
        (10, "repos[1]: `id` is required"),
        (12, "metrics.statsd.port: must be an integer, found \"abc\""),
        (14, "unsupported plan store type \"gcs\""),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for ((line, message), (want_line, needle)) in found.iter().zip(expected) {
        assert_eq!(*line, want_line, "{message}");
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}

#[test]
fn repos_yaml_unknown_top_level_key() {
    let found = repos_errors("repos: []\nrepo_config: {}\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 2);
    assert!(found[0]
        .1
        .contains("unknown key `repo_config` at the top level"));
}

// --- files ------------------------------------------------------------------------------

fn input_message(result: crate::Result<AtlantisConfig>) -> String {
    match result {
        Err(Error::Input { message, .. }) => message,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn load_reads_files_and_names_bad_ones() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let good = dir.path().join("atlantis.yaml");
    fs::write(&good, "\u{feff}version: 3\nprojects:\n- dir: a\n")?;
    assert!(load(&good).is_ok());

    let missing = dir.path().join("missing.yaml");
    assert_eq!(input_message(load(&missing)), "does not exist");
    assert_eq!(
        input_message(load(dir.path())),
        "is a directory, not a file"
    );

    let empty = dir.path().join("empty.yaml");
    fs::write(&empty, "")?;
    assert_eq!(input_message(load(&empty)), "is empty");

    let latin1 = dir.path().join("latin1.yaml");
    fs::write(&latin1, b"version: 3\nprojects:\n- dir: caf\xe9\n")?;
    assert!(input_message(load(&latin1)).starts_with("is not UTF-8 text"));

    let utf16 = dir.path().join("utf16.yaml");
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "version: 3\nprojects:\n- dir: a\n".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    fs::write(&utf16, bytes)?;
    assert_eq!(load(&utf16).map(|c| c.projects.len()).ok(), Some(1));

    let bad = dir.path().join("bad.yaml");
    fs::write(&bad, "version: 3\nnope: 1\n")?;
    match load(&bad) {
        Err(Error::Config(diagnostics)) => assert_eq!(diagnostics[0].path, bad),
        other => panic!("{other:?}"),
    }
    Ok(())
}

#[test]
fn discover_walks_up_to_the_git_root() -> std::io::Result<()> {
    let root = tempfile::tempdir()?;
    let repo = root.path().join("repo");
    let deep = repo.join("envs").join("prod");
    fs::create_dir_all(&deep)?;
    fs::create_dir_all(repo.join(".git"))?;
    assert_eq!(discover(&deep), None);

    fs::write(repo.join("atlantis.yaml"), "version: 3\n")?;
    let found = discover(&deep).expect("found in the repo root");
    assert_eq!(
        fs::canonicalize(found)?,
        fs::canonicalize(repo.join("atlantis.yaml"))?
    );
    assert_eq!(discover(&repo), Some(repo.join("atlantis.yaml")));

    // Above the git root is another repository's business.
    fs::remove_file(repo.join("atlantis.yaml"))?;
    fs::write(root.path().join("atlantis.yaml"), "version: 3\n")?;
    assert_eq!(discover(&deep), None);
    Ok(())
}

// --- helpers ------------------------------------------------------------------------------

#[test]
fn version_grammar() {
    for good in [
        "1.2.3",
        "v1.2.3",
        "1.2",
        "1",
        "1.5.0-beta1",
        "1.5.0beta1",
        "1.0.0+meta.1",
    ] {
        assert!(valid_version(good), "{good}");
    }
    for bad in [
        "",
        "latest",
        "~> 1.5",
        "1.x",
        "v",
        "1..2",
        "99999999999999999999.0",
    ] {
        assert!(!valid_version(bad), "{bad}");
    }
}

#[test]
fn closest_key_needs_a_small_distance() {
    let keys = PROJECT_KEYS.iter().copied();
    assert_eq!(
        crate::text::suggest("worksapce", keys.clone()),
        Some("workspace")
    );
    assert_eq!(crate::text::suggest("custom_plan_workflow", keys), None);
}

#[test]
fn version_2_run_commands_must_split_like_a_shell() {
    let file = |version: u32, run: &str| {
        format!(
            "version: {version}\nworkflows:\n  w:\n    plan:\n      steps:\n      - run: {run}\n"
        )
    };
    let unbalanced = "'echo \"it''s fine'";
    assert_one(
        &file(2, unbalanced),
        6,
        "EOF found when expecting closing quote",
    );
    // Version 3 passes the command to the shell as it is.
    parse_ok(&file(3, unbalanced));
    parse_ok(&file(2, "'echo \"balanced\" # it''s a comment'"));
    assert_one(
        &file(2, "'echo trailing \\'"),
        6,
        "EOF found after escape character",
    );
}

#[test]
fn shlex_problems_follow_google_shlex() {
    for ok in [
        "a b",
        "a 'b c'",
        "a \"b \\\" c\"",
        "a \\' b",
        "# it's a comment",
        "a#'b'",
    ] {
        assert_eq!(shlex_problem(ok), None, "{ok}");
    }
    for bad in ["a 'b", "a \"b", "a \\", "a \"b\\"] {
        assert!(shlex_problem(bad).is_some(), "{bad}");
    }
}
