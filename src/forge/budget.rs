//! The time plangate may spend on the forge in one run (`--forge-timeout`, default 60 s): the
//! labels read before the rules and the comment and statuses after share it. Each piece of work
//! gets a [`Clock`] whose deadline is what is left; the time it took is charged when it ends,
//! so the rules in between cost the forge nothing. The clock also remembers what it was doing
//! last, so that giving up can say on what.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The default of `--forge-timeout`.
pub const DEFAULT_FORGE_TIMEOUT: Duration = Duration::from_secs(60);
/// No budget is longer (a day), so that a deadline can always be computed.
const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// The forge time of one run, shared by every clone.
#[derive(Debug, Clone)]
pub struct TimeBudget {
    total: Duration,
    spent: Arc<Mutex<Duration>>,
}

impl Default for TimeBudget {
    fn default() -> Self {
        TimeBudget::new(DEFAULT_FORGE_TIMEOUT)
    }
}

impl TimeBudget {
    pub fn new(total: Duration) -> TimeBudget {
        TimeBudget {
            total: total.min(LONGEST),
            spent: Arc::new(Mutex::new(Duration::ZERO)),
        }
    }

    /// All the time there is, as configured.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// What has not been spent yet.
    pub fn remaining(&self) -> Duration {
        self.total.saturating_sub(*self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Duration> {
        // A panic elsewhere cannot make the spent time unreadable.
        self.spent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start a piece of forge work; [`Clock::finish`] charges what it took.
    pub(crate) fn start(&self) -> Clock {
        let now = Instant::now();
        Clock {
            budget: self.clone(),
            started: now,
            deadline: now + self.remaining(),
            doing: Arc::new(Mutex::new(None)),
        }
    }
}

/// One piece of forge work against the budget: its deadline and what it is doing.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    budget: TimeBudget,
    started: Instant,
    deadline: Instant,
    doing: Arc<Mutex<Option<String>>>,
}

impl Clock {
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The time left before the deadline (zero once it has passed).
    pub(crate) fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Whether `wait` and then at least a moment's work still fit before the deadline.
    pub(crate) fn fits(&self, wait: Duration) -> bool {
        wait + Duration::from_millis(50) < self.left()
    }

    /// What is happening now (a request, or the last one's failure), for the give-up message.
    pub(crate) fn doing(&self, what: impl Into<String>) {
        *self.doing.lock().unwrap_or_else(|p| p.into_inner()) = Some(what.into());
    }

    pub(crate) fn last_doing(&self) -> Option<String> {
        self.doing.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Charge the time this piece of work took to the run's budget.
    pub(crate) fn finish(&self) {
        let took = Instant::now().saturating_duration_since(self.started);
        let mut spent = self.budget.lock();
        *spent = (*spent + took).min(self.budget.total);
    }
}

/// Seconds for messages: whole when whole, else one decimal.
pub(crate) fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_is_charged_and_the_rest_is_left() {
        let budget = TimeBudget::new(Duration::from_secs(5));
        let clock = budget.start();
        assert!(clock.left() <= Duration::from_secs(5));
        assert!(clock.fits(Duration::from_secs(4)));
        assert!(!clock.fits(Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(30));
        clock.finish();
        let left = budget.remaining();
        assert!(left < Duration::from_secs(5) && left > Duration::from_secs(4));
        // Clones share the budget.
        budget.clone().start().finish();
        assert!(budget.remaining() <= left);
        let huge = TimeBudget::new(Duration::from_secs(u64::MAX));
        assert_eq!(huge.total(), LONGEST, "capped, not an overflow");
        assert!(huge.start().left() > Duration::ZERO);
        let spent = TimeBudget::new(Duration::ZERO);
        assert_eq!(spent.start().left(), Duration::ZERO);
        assert_eq!(seconds(Duration::from_secs(60)), "60 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
    }
}
