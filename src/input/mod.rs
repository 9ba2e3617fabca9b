//! Readers that build the model from what plangate consumes: plan JSON, atlantis.yaml (and
//! repos.yaml) and the policy file, through one YAML layer for the configuration files. Strict
//! where Atlantis is strict, open where Terraform adds fields; every error names its file.

pub mod approvers;
pub mod atlantis;
pub mod codeowners;
pub mod configuration;
pub mod context;
pub mod decode;
pub mod git;
pub mod identity_search;
pub mod plan;
pub mod policy;
pub mod process;
pub mod yaml;

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// Read a whole input file, naming it in every error. `-` reads standard input (only ever when
/// asked: Atlantis keeps stdin open). Anything but a regular file is refused, so that a FIFO
/// nobody writes to cannot hang the gate.
pub fn read_input_file(path: &Path) -> Result<Vec<u8>> {
    match open_input(path)? {
        Opened::Stdin(bytes) => Ok(bytes),
        Opened::File(mut file, meta) => read_all(path, &mut file, meta.len()),
    }
}

/// The bytes of an input file, as [`read_input_bytes`] got them.
pub enum InputBytes {
    /// A large regular file, memory-mapped: no heap copy, the page cache is read in place.
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for InputBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            InputBytes::Mapped(map) => map,
            InputBytes::Read(bytes) => bytes,
        }
    }
}

/// Files at least this large are memory-mapped; below it a plain read is as fast.
const MAP_THRESHOLD: u64 = 1 << 20;

/// Like [`read_input_file`], but memory-maps large regular files. Plans reach hundreds of MB:
/// mapping spares the copy into the heap and the zeroing of as many fresh pages.
pub fn read_input_bytes(path: &Path) -> Result<InputBytes> {
    let (file, meta) = match open_input(path)? {
        Opened::Stdin(bytes) => return Ok(InputBytes::Read(bytes)),
        Opened::File(file, meta) => (file, meta),
    };
    if meta.len() < MAP_THRESHOLD {
        let mut file = file;
        return read_all(path, &mut file, meta.len()).map(InputBytes::Read);
    }
    // SAFETY: the map is only read. Plan files are written before the gate runs and not
    // changed while it reads them; if one were truncated meanwhile, reading the lost pages
    // would stop the process with SIGBUS: a failure exit, never a pass.
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            Ok(InputBytes::Mapped(map))
        }
        // Some file systems cannot map: read instead.
        Err(_) => {
            let mut file = file;
            read_all(path, &mut file, meta.len()).map(InputBytes::Read)
        }
    }
}

/// Read a configuration file (atlantis.yaml, the policy) as text: a regular file no larger
/// than `max_bytes`, decoded by [`decode::text`]. Every error names the file.
pub fn read_text_file(path: &Path, max_bytes: u64) -> Result<String> {
    let bytes = match open_input(path)? {
        Opened::Stdin(bytes) => bytes,
        Opened::File(mut file, meta) => {
            if meta.len() > max_bytes {
                return Err(Error::input(
                    path,
                    format!(
                        "is too large for a configuration file ({} bytes; the limit is {max_bytes})",
                        meta.len()
                    ),
                ));
            }
            read_all(path, &mut file, meta.len())?
        }
    };
    decode::text(&bytes).map_err(|p| Error::input(path, p.0))
}

enum Opened {
    Stdin(Vec<u8>),
    File(std::fs::File, std::fs::Metadata),
}

fn open_input(path: &Path) -> Result<Opened> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::input(Path::new("<stdin>"), format!("could not be read: {e}")))?;
        return Ok(Opened::Stdin(bytes));
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
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    // Checked again on the open file: the path may have been swapped for a FIFO in between.
    let meta = file.metadata().map_err(|e| io_error(path, &e))?;
    if !meta.is_file() {
        return Err(Error::input(path, "is not a regular file"));
    }
    Ok(Opened::File(file, meta))
}

fn read_all(path: &Path, file: &mut std::fs::File, size_hint: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    Ok(bytes)
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
    // ring (already linked for TLS) hashes with the CPU's SHA extensions where it has them:
    // about twice the speed of a portable implementation on a large plan.
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_the_standard_digest_in_lower_case_hex() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn text_files_are_capped_and_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("atlantis.yaml");
        std::fs::write(&path, b"\xEF\xBB\xBFversion: 3\n").unwrap();
        assert_eq!(read_text_file(&path, 100).unwrap(), "version: 3\n");
        let err = read_text_file(&path, 4).unwrap_err().to_string();
        assert!(err.contains("too large"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("atlantis.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        let err = read_text_file(&fifo, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
}
