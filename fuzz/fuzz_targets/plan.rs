//! Any bytes as a plan file: decoding, parsing, the model, every rule, the report and every
//! renderer must either succeed or return an error; never panic, hang or blow the stack.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use plangate::input::plan::PlanSource;
use plangate::input::policy::Policy;
use plangate::model::project::{Project, ProjectPlan};
use plangate::render::{self, Format, Style};
use plangate::check;
use plangate::rules::DestroyIntent;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.json");
    let source = match PlanSource::from_bytes(path, data.to_vec()) {
        Ok(source) => source,
        Err(e) => return assert_one_line(&e.to_string()),
    };
    let plan = match source.parse() {
        Ok(plan) => plan,
        Err(e) => return assert_one_line(&e.to_string()),
    };
    let policy = Policy::builtin();
    let project = Project::resolve(
        &policy,
        "app-staging".into(),
        Some("app-staging".into()),
        "envs/staging".into(),
        "default".into(),
        None,
    );
    let prepared = ProjectPlan::new(
        project,
        plan,
        path.to_path_buf(),
        source.sha256().to_string(),
        &policy,
    );
    let plans = match prepared {
        Ok(plan) => vec![plan],
        Err(e) => return assert_one_line(&e.to_string()),
    };
    let report = check::evaluate(&policy, None, &DestroyIntent::default(), &plans);
    for format in [Format::Text, Format::Json] {
        let _ = render::render(format, &report, Style::default());
    }
});

/// Errors are shown as one line: a hostile file must not be able to forge more.
fn assert_one_line(message: &str) {
    assert!(!message.contains('\n'), "multi-line error: {message:?}");
}
