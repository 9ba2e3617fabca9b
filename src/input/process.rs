//! Running another program for its output (git, `terraform show -json`) under a deadline: its
//! stdin is closed, its output collected, and it is killed when the deadline passes, so a
//! program that hangs cannot hang the gate.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// What a finished program left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Why a program gave no output.
#[derive(Debug)]
pub enum RunProblem {
    /// It could not be started (not installed, not executable).
    Start(std::io::Error),
    /// It was still running at the deadline and was killed.
    TimedOut(Duration),
    Io(std::io::Error),
}

impl std::fmt::Display for RunProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunProblem::Start(e) => write!(f, "could not be run: {e}"),
            RunProblem::TimedOut(d) => write!(
                f,
                "was still running after {}s and was stopped",
                d.as_secs()
            ),
            RunProblem::Io(e) => write!(f, "failed: {e}"),
        }
    }
}

/// Run `command` to completion or until `deadline`, whichever comes first.
pub fn run(command: &mut Command, deadline: Duration) -> Result<Finished, RunProblem> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(RunProblem::Start)?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = match child.wait_timeout(deadline).map_err(RunProblem::Io)? {
        Some(status) => status,
        None => {
            stop(&mut child);
            return Err(RunProblem::TimedOut(deadline));
        }
    };
    Ok(Finished {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Read a pipe to its end on a thread of its own, so a full pipe never blocks the program.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn output_is_collected_and_stdin_is_closed() {
        let done = run(
            Command::new("sh").args(["-c", "cat; echo out; echo err >&2"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(done.status.success());
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
    }

    #[test]
    fn a_program_past_its_deadline_is_stopped() {
        let started = std::time::Instant::now();
        let outcome = run(Command::new("sleep").arg("30"), Duration::from_millis(200));
        assert!(
            matches!(outcome, Err(RunProblem::TimedOut(_))),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
