//! `plangate init`: write the commented starter policy.

use std::path::Path;

use super::output::write_stdout;
use super::{exit_code, Outcome};
use crate::{Error, Result};

pub(super) fn run(path: &Path, force: bool) -> Result<i32> {
    if path.exists() && !force {
        return Err(Error::input(
            path,
            "already exists: pass --force to overwrite it",
        ));
    }
    std::fs::write(path, crate::input::policy::STARTER_POLICY)
        .map_err(|e| Error::input(path, format!("cannot be written: {e}")))?;
    write_stdout(&format!(
        "wrote {}: production is protected (every destroy there needs declared intent); review the environments, list their cloud accounts under `accounts:`, then run `plangate lint`\n",
        path.display()
    ))?;
    Ok(exit_code(None, Ok(Outcome::Done)))
}
