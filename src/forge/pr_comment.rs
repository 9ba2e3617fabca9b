//! The one comment per pull request (`plangate:v2`, DESIGN section 12), kept whole while the
//! runs of several projects write it at the same time.
//!
//! Neither GitHub nor GitLab can update a comment only if it has not changed since it was read,
//! so each run: reads our comments of the pull request, takes in every section it finds (of a
//! project, the one written last wins), lays its own sections over them, writes the result to
//! the oldest of our comments (or creates one) and deletes any other copy (two runs that both
//! found none both created one), then waits a moment, with jitter, and reads the comment back,
//! and once more after a longer wait.
//! If a section it wrote or had seen is missing, or older than what it holds (another run wrote
//! from an earlier read), it writes again, a bounded number of times. Every run restores what it
//! saw, so a section lost to a race comes back with the next run that read it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::budget::Clock;
use super::{ForgeError, Settings};
use crate::render::comment::{self, Section};
use crate::render::markdown;
use crate::report::Report;

/// A comment written by the token's own user.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub id: u64,
    pub body: String,
    pub url: Option<String>,
}

/// What plangate needs of a forge's comments on one pull request.
pub(crate) trait Store {
    /// Every comment of the pull request written by the token's own user, oldest first.
    async fn ours(&self) -> Result<Vec<Written>, ForgeError>;
    async fn create(&self, body: &str) -> Result<Written, ForgeError>;
    async fn update(&self, id: u64, body: &str) -> Result<Option<String>, ForgeError>;
    /// Delete a comment; one already gone is not an error.
    async fn delete(&self, id: u64) -> Result<(), ForgeError>;
}

/// How many times a run writes the comment before it gives up on a race.
const ATTEMPTS: usize = 8;

/// How long a run waits before it reads back what it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settle {
    /// At least this long; up to twice as long, at random, so that racing runs drift apart.
    pub base: Duration,
}

impl Default for Settle {
    fn default() -> Self {
        Settle {
            base: Duration::from_millis(1000),
        }
    }
}

impl Settle {
    /// `PLANGATE_COMMENT_SETTLE_MS` sets the base wait (`0`: read back at once).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Settle {
        env("PLANGATE_COMMENT_SETTLE_MS")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or_else(Settle::default, |ms| Settle {
                base: Duration::from_millis(ms.min(60_000)),
            })
    }

    fn pick(self) -> Duration {
        let extra = self.base.as_millis() as u64;
        self.base + Duration::from_millis(fastrand::u64(0..=extra))
    }
}

/// What one run of one or more projects writes.
pub(crate) struct Write<'a> {
    pub pr: u64,
    pub sections: Vec<Section>,
    pub version: &'a str,
    pub budget: usize,
    pub settle: Settle,
}

/// The time a section is written at, in milliseconds: the later of two sections of a project
/// wins.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// This report's sections, stamped with the time they are written.
fn stamped(report: &Report) -> Vec<Section> {
    let now = now_ms();
    let mut sections = comment::sections(report);
    for s in &mut sections {
        s.state.written = now;
    }
    sections
}

/// Put the report's projects into the pull request's one comment, then remove our per-project
/// (`plangate:v1`) comments of the same projects, left by an older plangate or by
/// `--comment-scope project`. Returns the comment's URL, when the forge said it.
pub(crate) async fn publish(
    store: &impl Store,
    report: &Report,
    pr: u64,
    settings: &Settings,
    clock: &Clock,
) -> Result<Option<String>, ForgeError> {
    let write = Write {
        pr,
        sections: stamped(report),
        version: report.tool.version,
        budget: settings.budget,
        settle: settings.settle,
    };
    let url = sync(store, write, clock).await?;
    for c in store.ours().await? {
        let retired = markdown::parse_marker(&c.body)
            .is_some_and(|m| report.projects.iter().any(|p| p.name == m.project));
        if retired {
            store.delete(c.id).await?;
        }
    }
    Ok(url)
}

/// When our own comments cannot be recognised: a new comment with this run's projects only.
pub(crate) async fn create_only(
    store: &impl Store,
    report: &Report,
    pr: u64,
    settings: &Settings,
) -> Result<Option<String>, ForgeError> {
    let body = comment::assemble(
        Some(pr),
        stamped(report),
        report.tool.version,
        settings.budget,
    );
    Ok(store.create(&body).await?.url)
}

/// Write our sections into the pull request's comment and make sure they stay there. Returns
/// the comment's URL, when the forge said it.
pub(crate) async fn sync(
    store: &impl Store,
    mut write: Write<'_>,
    clock: &Clock,
) -> Result<Option<String>, ForgeError> {
    let mut known = std::mem::take(&mut write.sections);
    for attempt in 1..=ATTEMPTS {
        let found = of_this_pr(store.ours().await?, write.pr);
        for c in &found {
            if let Some(parsed) = comment::parse(&c.body) {
                absorb(&mut known, parsed.sections);
            }
        }
        let body = comment::assemble(Some(write.pr), known.clone(), write.version, write.budget);
        let url = match found.first() {
            Some(keep) if keep.body == body => keep.url.clone(),
            Some(keep) => store.update(keep.id, &body).await?.or(keep.url.clone()),
            None => store.create(&body).await?.url,
        };
        for copy in found.iter().skip(1) {
            store.delete(copy.id).await?;
        }
        // Read back twice: once soon, and once more after a longer wait, so that a run that
        // read the comment before this write and writes after it is caught too.
        if stays(store, &write, &known, clock, attempt).await? {
            return Ok(url);
        }
        clock.doing(format!(
            "another run wrote the pull-request comment at the same time (try {attempt} of {ATTEMPTS})"
        ));
    }
    Err(ForgeError::new(format!(
        "other runs kept rewriting the pull-request comment: {ATTEMPTS} writes did not stay; the sections of this run are written again by its next run"
    )))
}

/// Whether the comment, read back after the settle time and again after twice as long, holds
/// every known section.
async fn stays(
    store: &impl Store,
    write: &Write<'_>,
    known: &[Section],
    clock: &Clock,
    attempt: usize,
) -> Result<bool, ForgeError> {
    for wait in [write.settle.pick(), write.settle.pick() * 2] {
        if !clock.fits(wait) {
            return Err(ForgeError::out_of_time(format!(
                "wrote the pull-request comment (try {attempt}) but had no time left to read it back"
            )));
        }
        tokio::time::sleep(wait).await;
        let back = of_this_pr(store.ours().await?, write.pr);
        if !holds_all(&back, known) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Our v2 comments of this pull request, oldest first.
fn of_this_pr(mut ours: Vec<Written>, pr: u64) -> Vec<Written> {
    ours.retain(|c| comment::parse_marker(&c.body) == Some(Some(pr)));
    ours.sort_by_key(|c| c.id);
    ours
}

/// Take in sections found in a comment: a project's section replaces what is known of it when
/// it was written later.
fn absorb(known: &mut Vec<Section>, found: Vec<Section>) {
    for section in found {
        match known
            .iter_mut()
            .find(|k| k.state.project == section.state.project)
        {
            Some(k) if section.state.written > k.state.written => *k = section,
            Some(_) => {}
            None => known.push(section),
        }
    }
}

/// The comment read back is the only one and has every known section, none older.
fn holds_all(back: &[Written], known: &[Section]) -> bool {
    let [only] = back else {
        return false;
    };
    let Some(parsed) = comment::parse(&only.body) else {
        return false;
    };
    known.iter().all(|k| {
        parsed
            .sections
            .iter()
            .any(|s| s.state.project == k.state.project && s.state.written >= k.state.written)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::comment::SectionState;
    use crate::report::{Counts, Verdict};
    use std::cell::RefCell;

    fn section(project: &str, written: u64) -> Section {
        let body = format!("### {project}\n\n");
        Section {
            state: SectionState {
                project: project.into(),
                plan_sha256: "ab".repeat(32),
                verdict: Verdict::Block,
                environment: Some("staging".into()),
                counts: Counts::default(),
                rules: vec!["cross-env-destroy".into()],
                summary: Vec::new(),
                len: body.len(),
                written,
                approved: false,
            },
            body,
        }
    }

    /// Another run's write, done to the comments in memory.
    type Interference = Box<dyn FnOnce(&mut Vec<Written>)>;

    /// A forge in memory; `interfere` runs once after our first write (another run's write).
    struct Memory {
        comments: RefCell<Vec<Written>>,
        next: RefCell<u64>,
        interfere: RefCell<Option<Interference>>,
    }

    impl Memory {
        fn new() -> Memory {
            Memory {
                comments: RefCell::new(Vec::new()),
                next: RefCell::new(1),
                interfere: RefCell::new(None),
            }
        }
        fn after_write(&self) {
            if let Some(f) = self.interfere.borrow_mut().take() {
                f(&mut self.comments.borrow_mut());
            }
        }
    }

    impl Store for Memory {
        async fn ours(&self) -> Result<Vec<Written>, ForgeError> {
            Ok(self.comments.borrow().clone())
        }
        async fn create(&self, body: &str) -> Result<Written, ForgeError> {
            let id = *self.next.borrow();
            *self.next.borrow_mut() += 1;
            let c = Written {
                id,
                body: body.into(),
                url: None,
            };
            self.comments.borrow_mut().push(c.clone());
            self.after_write();
            Ok(c)
        }
        async fn update(&self, id: u64, body: &str) -> Result<Option<String>, ForgeError> {
            for c in self.comments.borrow_mut().iter_mut().filter(|c| c.id == id) {
                c.body = body.into();
            }
            self.after_write();
            Ok(None)
        }
        async fn delete(&self, id: u64) -> Result<(), ForgeError> {
            self.comments.borrow_mut().retain(|c| c.id != id);
            Ok(())
        }
    }

    fn run(store: &Memory, sections: Vec<Section>) -> Result<Option<String>, ForgeError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let budget = super::super::TimeBudget::new(Duration::from_secs(10));
        let clock = budget.start();
        let write = Write {
            pr: 7,
            sections,
            version: "0.0.0",
            budget: 60_000,
            settle: Settle {
                base: Duration::ZERO,
            },
        };
        runtime.block_on(sync(store, write, &clock))
    }

    fn projects(store: &Memory) -> Vec<(String, u64)> {
        let comments = store.comments.borrow();
        assert_eq!(comments.len(), 1, "exactly one comment");
        comment::parse(&comments[0].body)
            .unwrap()
            .sections
            .into_iter()
            .map(|s| (s.state.project, s.state.written))
            .collect()
    }

    #[test]
    fn a_lost_section_is_written_again() {
        let store = Memory::new();
        run(&store, vec![section("a", 10)]).unwrap();
        // b's run read the comment before a wrote it, and writes over it.
        let stale = comment::assemble(Some(7), vec![section("b", 11)], "0.0.0", 60_000);
        *store.interfere.borrow_mut() = Some(Box::new(move |cs: &mut Vec<Written>| {
            cs[0].body = stale;
        }));
        run(&store, vec![section("a", 12)]).unwrap();
        let mut got = projects(&store);
        got.sort();
        assert_eq!(got, vec![("a".to_string(), 12), ("b".to_string(), 11)]);
    }

    #[test]
    fn copies_made_at_the_same_time_become_one() {
        let store = Memory::new();
        let other = comment::assemble(Some(7), vec![section("b", 5)], "0.0.0", 60_000);
        *store.interfere.borrow_mut() = Some(Box::new(move |cs: &mut Vec<Written>| {
            cs.push(Written {
                id: 99,
                body: other,
                url: None,
            });
        }));
        run(&store, vec![section("a", 6)]).unwrap();
        let mut got = projects(&store);
        got.sort();
        assert_eq!(got, vec![("a".to_string(), 6), ("b".to_string(), 5)]);
    }

    #[test]
    fn a_newer_section_of_a_project_is_kept_and_an_older_one_replaced() {
        let store = Memory::new();
        run(&store, vec![section("a", 20)]).unwrap();
        // A stale run of the same project (written earlier) does not bring back its old plan.
        run(&store, vec![section("a", 3)]).unwrap();
        assert_eq!(projects(&store), vec![("a".to_string(), 20)]);
        run(&store, vec![section("a", 30)]).unwrap();
        assert_eq!(projects(&store), vec![("a".to_string(), 30)]);
    }

    #[test]
    fn comments_of_other_pull_requests_and_v1_are_left_alone() {
        let store = Memory::new();
        let other_pr = comment::assemble(Some(8), vec![section("z", 1)], "0.0.0", 60_000);
        store.comments.borrow_mut().push(Written {
            id: 50,
            body: other_pr.clone(),
            url: None,
        });
        run(&store, vec![section("a", 2)]).unwrap();
        let comments = store.comments.borrow();
        assert_eq!(comments.len(), 2);
        assert!(comments.iter().any(|c| c.body == other_pr));
    }

    #[test]
    fn a_race_that_never_ends_is_given_up_on() {
        struct Hostile(Memory);
        impl Store for Hostile {
            async fn ours(&self) -> Result<Vec<Written>, ForgeError> {
                // Every read finds a comment without our section.
                let body = comment::assemble(Some(7), vec![section("b", 1)], "0.0.0", 60_000);
                Ok(vec![Written {
                    id: 1,
                    body,
                    url: None,
                }])
            }
            async fn create(&self, body: &str) -> Result<Written, ForgeError> {
                self.0.create(body).await
            }
            async fn update(&self, id: u64, body: &str) -> Result<Option<String>, ForgeError> {
                self.0.update(id, body).await
            }
            async fn delete(&self, id: u64) -> Result<(), ForgeError> {
                self.0.delete(id).await
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let budget = super::super::TimeBudget::new(Duration::from_secs(10));
        let clock = budget.start();
        let write = Write {
            pr: 7,
            sections: vec![section("a", 2)],
            version: "0.0.0",
            budget: 60_000,
            settle: Settle {
                base: Duration::ZERO,
            },
        };
        let e = runtime
            .block_on(sync(&Hostile(Memory::new()), write, &clock))
            .unwrap_err();
        assert!(e.to_string().contains("kept rewriting"), "{e}");
    }
}
