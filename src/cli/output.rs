//! Where the commands' text goes: stdout (a closed pipe is not an error), appended files, and
//! whether the terminal takes colour.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::render::{Format, Style};
use crate::{Error, Result};

/// Write to stdout. Only a reader that closes the pipe on purpose (`plangate ... | head`) is
/// quiet; any other failure (a full disk, a closed descriptor) is an error, so that a report
/// or a `FAIL` line that was never written cannot read as a pass.
pub(super) fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Output(format!(
            "cannot write to standard output: {}",
            crate::text::one_line(&e.to_string())
        ))),
    }
}

/// Colour only where the terminal takes it: anstream's reading of the stream and of
/// `NO_COLOR`, `CLICOLOR` and `CLICOLOR_FORCE`.
pub(super) fn stdout_style() -> Style {
    let choice = anstream::AutoStream::choice(&std::io::stdout());
    Style {
        color: choice != anstream::ColorChoice::Never,
        note: None,
    }
}

pub(super) fn append_file(path: &Path, text: &str) -> Result<()> {
    use std::fs::OpenOptions;
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::input(path, format!("cannot be written: {e}")))
}

/// `--output FORMAT=PATH` arguments.
pub(super) fn parse_outputs(specs: &[String]) -> Result<Vec<(Format, PathBuf)>> {
    specs
        .iter()
        .map(|spec| {
            let (format, path) = spec.split_once('=').ok_or_else(|| {
                Error::Usage(format!(
                    "--output {spec}: expected FORMAT=PATH, e.g. json=report.json"
                ))
            })?;
            let format = <Format as clap::ValueEnum>::from_str(format, true)
                .map_err(|_| Error::Usage(format!("--output {spec}: unknown format `{format}`")))?;
            Ok((format, PathBuf::from(path)))
        })
        .collect()
}
