//! When the running batch started and how far it was then: its rate, the time
//! left, and the frame it ends (for a notification when nobody was looking).

use std::time::{Duration, Instant};

/// Rate and time left show once the batch has run this long and finished a
/// file: before that the estimate jumps about.
const ETA_WARMUP: Duration = Duration::from_secs(1);

/// The running batch's start, and how many of its files were finished then.
#[derive(Debug, Default)]
pub struct BatchClock {
    started: Option<(Instant, usize)>,
}

impl BatchClock {
    /// Follows the batch, once a frame (`finished` and `left` files). `true`
    /// the frame it ends.
    pub fn update(&mut self, finished: usize, left: usize) -> bool {
        match (self.started, left > 0) {
            (None, true) => {
                self.started = Some((Instant::now(), finished));
                false
            }
            (Some(_), false) => {
                self.started = None;
                true
            }
            _ => false,
        }
    }

    /// Files a second and the time left, once there is enough to go on.
    pub fn estimate(&self, finished: usize, left: usize) -> Option<(f64, Duration)> {
        let (started, finished_then) = self.started?;
        let elapsed = started.elapsed();
        let finished = finished.saturating_sub(finished_then);
        if elapsed < ETA_WARMUP || finished == 0 || left == 0 {
            return None;
        }
        let rate = finished as f64 / elapsed.as_secs_f64();
        let left = Duration::from_secs_f64((left as f64 / rate).min(1e7));
        Some((rate, left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_ends_once() {
        let mut clock = BatchClock::default();
        assert!(!clock.update(0, 2));
        assert!(!clock.update(1, 1));
        assert!(clock.update(2, 0));
        assert!(!clock.update(2, 0));
    }
}
