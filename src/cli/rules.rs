//! `plangate rules` and `plangate explain RULE`.

use super::output::write_stdout;
use super::{exit_code, Outcome};
use crate::render::rule_docs;
use crate::{Error, Result};

pub(super) fn list() -> Result<i32> {
    write_stdout(&rule_docs::rules_table(
        super::output::stdout_style().width(),
    ))?;
    Ok(exit_code(None, Ok(Outcome::Done)))
}

pub(super) fn explain(id: &str) -> Result<i32> {
    let rule = crate::rules::find(id)
        .ok_or_else(|| Error::Usage(format!("unknown rule `{id}`: `plangate rules` lists them")))?;
    write_stdout(&rule_docs::explain(rule))?;
    Ok(exit_code(None, Ok(Outcome::Done)))
}
