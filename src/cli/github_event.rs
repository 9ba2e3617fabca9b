//! `plangate github-event` (hidden): the pull request and head commit of a GitHub event, for
//! the Action's shell script.

use std::path::Path;

use super::output::write_stdout;
use super::{exit_code, Outcome};
use crate::integration::github_actions;
use crate::Result;

pub(super) fn run(path: &Path) -> Result<i32> {
    let info = github_actions::read_event(path)?;
    write_stdout(&github_actions::event_lines(&info))?;
    Ok(exit_code(None, Ok(Outcome::Done)))
}
