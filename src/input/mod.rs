//! Readers for everything plangate consumes: plan JSON, atlantis.yaml and the policy file.

pub mod atlantis;
pub mod decode;
pub mod plan;
pub mod policy;

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Read a whole input file, naming it in every error. `-` reads standard input (only ever when
/// asked: Atlantis keeps stdin open). Anything but a regular file is refused, so that a FIFO
/// nobody writes to cannot hang the gate.
pub fn read_input_file(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::input(Path::new("<stdin>"), format!("could not be read: {e}")))?;
        return Ok(bytes);
    }
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if meta.is_dir() {
        return Err(Error::input(path, "is a directory, not a file"));
    }
    if !meta.is_file() {
        return Err(Error::input(
            path,
            "is not a regular file (a FIFO or device?): write the plan to a file, or pipe it with `--plan -`",
        ));
    }
    std::fs::read(path).map_err(|e| io_error(path, &e))
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "cannot be read: permission denied".to_string(),
        _ => format!("cannot be read: {e}"),
    };
    Error::input(path, what)
}

/// serde-saphyr recurses once per YAML nesting level with large frames (tens of KiB per level
/// in debug builds), so YAML is parsed on a thread whose stack comfortably holds the depth the
/// budgets allow, whatever thread the caller runs on.
const YAML_STACK_BYTES: usize = 32 * 1024 * 1024;

/// Run a YAML parse on a thread with a large stack; on the caller's thread if none can be had.
pub(crate) fn on_yaml_stack<T: Send>(parse: impl FnOnce() -> T + Send + Copy) -> T {
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("plangate-yaml".to_string())
            .stack_size(YAML_STACK_BYTES)
            .spawn_scoped(scope, parse)
            .ok()
            .map(|handle| handle.join())
    });
    match outcome {
        Some(Ok(value)) => value,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => parse(),
    }
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
