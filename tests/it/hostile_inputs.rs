//! Hostile inputs end to end: each must make `plangate check` exit 2 (could not evaluate) with
//! a one-line reason, and finish. Nothing here is timed; a child still running after a generous
//! limit is killed and the test fails, so a hang cannot pass unnoticed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

fn plangate(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plangate"))
        .args(args)
        .current_dir(dir)
        .env_remove("PROJECT_NAME")
        .env_remove("REPO_REL_DIR")
        .env_remove("WORKSPACE")
        .env_remove("PLANGATE_ALLOW_DESTROY_IN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("plangate starts");
    let started = Instant::now();
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).map(|_| buf)
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("plangate {args:?} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_thread.join().expect("join").expect("read stdout"),
        stderr: err_thread.join().expect("join").expect("read stderr"),
    }
}

/// Asserts exit 2 and a short, one-line reason naming `needle`.
fn assert_refused(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    assert!(
        stderr.len() < 2_000,
        "reason is not short: {} bytes",
        stderr.len()
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "reason is not one line: {stderr}"
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn check_plan(dir: &Path, plan: &Path) -> Output {
    plangate(
        dir,
        &[
            "check",
            "--plan",
            plan.to_str().expect("utf-8 path"),
            "--env",
            "staging",
        ],
    )
}

/// `check` of a valid, empty plan (`good.json`) with this policy file.
fn check_with_policy(dir: &Path, policy: &Path) -> Output {
    let good = write(dir, "good.json", GOOD_PLAN);
    plangate(
        dir,
        &[
            "check",
            "--plan",
            good.to_str().expect("utf-8 path"),
            "--policy",
            policy.to_str().expect("utf-8 path"),
            "--env",
            "staging",
        ],
    )
}

const GOOD_PLAN: &[u8] = br#"{"format_version":"1.2","planned_values":{},"resource_changes":[]}"#;

const PLAN_HEAD: &str = r#"{"format_version":"1.2","terraform_version":"1.9.8","#;

#[test]
fn deeply_nested_json_is_refused_wherever_it_sits() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 200_000;
    let nest = |open: &str, close: &str| format!("{}{}", open.repeat(depth), close.repeat(depth));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let cases = [
        ("top.json", nest("[", "]")),
        (
            "planned.json",
            format!(r#"{PLAN_HEAD}"planned_values":{}}}"#, nest("[", "]")),
        ),
        (
            "before.json",
            format!(
                r#"{PLAN_HEAD}"resource_changes":[{{"address":"a.b","mode":"managed","type":"a","name":"b","change":{{"actions":["delete"],"before":{}}}}}]}}"#,
                deep_object
            ),
        ),
        (
            "state.json",
            format!(
                r#"{PLAN_HEAD}"resource_changes":[],"prior_state":{{"values":{{"root_module":{{"resources":[{{"mode":"managed","values":{}}}]}}}}}}}}"#,
                nest("[", "]")
            ),
        ),
    ];
    for (name, text) in cases {
        let plan = write(dir.path(), name, text.as_bytes());
        let out = check_plan(dir.path(), &plan);
        assert_refused(&out, name);
    }
}

/// Plans of 4 MB and more are hashed and checked on a second thread, in chunks: what it finds
/// far into the file (past many chunks) refuses the plan as surely.
#[test]
fn a_large_plan_is_checked_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let pad = "é".repeat(3 << 20);
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let deep_plan = format!(
        r#"{PLAN_HEAD}"planned_values":{{"pad":"{pad}"}},"resource_changes":[],"configuration":{deep}}}"#
    );
    let plan = write(dir.path(), "large-deep.json", deep_plan.as_bytes());
    let out = check_plan(dir.path(), &plan);
    assert_refused(&out, "large-deep.json");
    assert!(String::from_utf8_lossy(&out.stderr).contains("deeper than"));

    let mut bad_utf8 = format!(r#"{PLAN_HEAD}"planned_values":{{"pad":"{pad}"#).into_bytes();
    bad_utf8.extend_from_slice(b"\xC3\x28\"},\"resource_changes\":[]}");
    let plan = write(dir.path(), "large-utf8.json", &bad_utf8);
    let out = check_plan(dir.path(), &plan);
    assert_refused(&out, "large-utf8.json");
    assert!(String::from_utf8_lossy(&out.stderr).contains("UTF-8"));

    // The same file without either problem passes the reader.
    let fine = format!(r#"{PLAN_HEAD}"planned_values":{{"pad":"{pad}"}},"resource_changes":[]}}"#);
    let plan = write(dir.path(), "large-fine.json", fine.as_bytes());
    let out = check_plan(dir.path(), &plan);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_100_mb_string_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(100 << 20);
    // An unterminated string: the file is truncated.
    let plan = write(
        dir.path(),
        "unterminated.json",
        format!(r#"{PLAN_HEAD}"planned_values":{{"a":"{huge}"#).as_bytes(),
    );
    assert_refused(&check_plan(dir.path(), &plan), "truncated");
    // A complete document whose format_version is a 100 MB string.
    let plan = write(
        dir.path(),
        "version.json",
        format!(r#"{{"format_version":"9{huge}","planned_values":{{}}}}"#).as_bytes(),
    );
    assert_refused(&check_plan(dir.path(), &plan), "format_version");
    // A 100 MB address of an unknown action: named, shortened.
    let plan = write(
        dir.path(),
        "address.json",
        format!(
            r#"{PLAN_HEAD}"resource_changes":[{{"address":"{huge}","change":{{"actions":["explode"]}}}}]}}"#
        )
        .as_bytes(),
    );
    assert_refused(&check_plan(dir.path(), &plan), "does not know");
}

#[test]
fn invalid_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes =
        format!(r#"{PLAN_HEAD}"planned_values":{{}},"resource_changes":[{{"address":"a."#)
            .into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\xc3");
    bytes.extend_from_slice(br#"","change":{"actions":["delete"]}}]}"#);
    let plan = write(dir.path(), "latin1.json", &bytes);
    assert_refused(&check_plan(dir.path(), &plan), "latin1.json");

    let policy = write(
        dir.path(),
        "policy.yaml",
        b"version: 1\nenvironments:\n  prod\xff: {}\n",
    );
    let out = check_with_policy(dir.path(), &policy);
    assert_refused(&out, "policy.yaml");
}

const ALIAS_BOMB: &str = "a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
";

#[test]
fn yaml_alias_bombs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", GOOD_PLAN);
    let policy = write(
        dir.path(),
        "bomb-policy.yaml",
        format!("version: 1\n{ALIAS_BOMB}").as_bytes(),
    );
    let out = check_with_policy(dir.path(), &policy);
    assert_refused(&out, "bomb-policy.yaml");

    let atlantis = write(
        dir.path(),
        "atlantis.yaml",
        format!("version: 3\n{ALIAS_BOMB}").as_bytes(),
    );
    let out = plangate(
        dir.path(),
        &[
            "check",
            "--plan",
            good.to_str().unwrap(),
            "--atlantis",
            atlantis.to_str().unwrap(),
        ],
    );
    assert_refused(&out, "atlantis.yaml");
    let out = plangate(dir.path(), &["lint", atlantis.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn deeply_nested_yaml_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 100_000;
    let text = format!(
        "version: 1\nenvironments: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let policy = write(dir.path(), "deep.yaml", text.as_bytes());
    let out = check_with_policy(dir.path(), &policy);
    assert_refused(&out, "deep.yaml");
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("plans");
    std::fs::create_dir(&sub).unwrap();
    assert_refused(&check_plan(dir.path(), &sub), "is a directory");
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("plan.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    assert_refused(&check_plan(dir.path(), &fifo), "not a regular file");
}

#[test]
fn unreadable_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        &check_plan(dir.path(), &dir.path().join("missing.json")),
        "does not exist",
    );

    // A regular file whose read fails (EIO): works whoever runs the tests, root included.
    let mem = Path::new("/proc/self/mem");
    if mem.exists() {
        assert_refused(&check_plan(dir.path(), mem), "/proc/self/mem");
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plan = write(
            dir.path(),
            "secret.json",
            br#"{"format_version":"1.2","planned_values":{}}"#,
        );
        std::fs::set_permissions(&plan, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads anything: the permission case can only be checked as another user.
        if std::fs::read(&plan).is_err() {
            assert_refused(&check_plan(dir.path(), &plan), "permission denied");
        }
    }
}

#[test]
fn binary_garbage_and_nul_bytes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut garbage = Vec::with_capacity(1 << 20);
    let mut x: u32 = 1;
    for _ in 0..(1 << 20) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push((x >> 24) as u8);
    }
    let plan = write(dir.path(), "garbage.bin", &garbage);
    assert_eq!(check_plan(dir.path(), &plan).status.code(), Some(2));
    let plan = write(dir.path(), "nul.json", b"{\"format_version\":\"1.2\"\0}");
    assert_refused(&check_plan(dir.path(), &plan), "nul.json");
}

#[test]
fn stdin_plan_that_never_ends_is_not_waited_for_when_not_asked() {
    // Atlantis keeps stdin open: without `--plan -` plangate must not read it.
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plangate"))
        .args(["check", "--env", "staging"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("plangate waited on stdin");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin.map(|mut s| s.write_all(b"{")));
    assert_eq!(status.code(), Some(2));
}
