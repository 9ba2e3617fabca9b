//! The shared corpus of real plans and atlantis.yaml files beside the repository
//! (`../shared/corpus/`). Tests that read it skip, with a note on the terminal, when it is absent.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `../shared/corpus/<part>` when it holds `marker`, else `None` after saying the test is
/// skipped. The note is written to the process's stderr itself, not through `eprintln!`, so
/// that the test harness does not capture it: a skip is seen without `--nocapture`.
pub fn dir(part: &str, marker: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(part);
    if dir.join(marker).is_file() {
        return Some(dir);
    }
    let note = format!(
        "skipped: ../shared/corpus is not there ({} not found)\n",
        dir.join(marker).display()
    );
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(note.as_bytes());
    None
}
