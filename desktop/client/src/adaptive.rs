//! How many transfers run at once when nobody said: additive increase,
//! multiplicative decrease (as TCP does), on the signal a store gives. It starts
//! at [`START_TRANSFER_JOBS`], grows by one after a round of transfers (as many
//! as the limit) that needed no retry, up to [`MAX_TRANSFER_JOBS`], and halves
//! when a transfer needed a retry (S3's `SlowDown`/503, a 5xx, a dropped
//! connection: what [`crate::Remote::retried`] counts). A fixed limit (`--jobs`,
//! the app's setting) never moves.

use std::sync::{Arc, Mutex};

use augment_pipeline::limits::{MAX_TRANSFER_JOBS, START_TRANSFER_JOBS};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::lock::lock;

/// A concurrency limit shared by the transfers of one run. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Concurrency {
    permits: Arc<Semaphore>,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    limit: usize,
    adaptive: bool,
    /// Clean transfers since the limit last changed.
    clean: usize,
    /// Permits still to take out of circulation after a decrease.
    owed: usize,
}

/// One transfer's slot; give it back with [`Slot::finish`].
#[derive(Debug)]
pub struct Slot {
    permit: OwnedSemaphorePermit,
    state: Arc<Mutex<State>>,
}

impl Concurrency {
    /// `Some(n)`: exactly `n` at once (at least 1, at most the cap); `None`: the
    /// adaptive limit.
    pub fn new(fixed: Option<usize>) -> Self {
        let limit = fixed.map_or(START_TRANSFER_JOBS, |n| n.clamp(1, MAX_TRANSFER_JOBS));
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            state: Arc::new(Mutex::new(State {
                limit,
                adaptive: fixed.is_none(),
                clean: 0,
                owed: 0,
            })),
        }
    }

    /// Waits for a slot.
    pub async fn acquire(&self) -> Option<Slot> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok()?;
        Some(Slot {
            permit,
            state: Arc::clone(&self.state),
        })
    }

    /// The limit now.
    pub fn limit(&self) -> usize {
        lock(&self.state).limit
    }
}

impl Slot {
    /// Gives the slot back; `congested` when the transfer met a throttle or a
    /// retried fault.
    pub fn finish(self, congested: bool) {
        let Self { permit, state } = self;
        let mut state = lock(&state);
        if state.owed > 0 {
            state.owed -= 1;
            permit.forget();
            return;
        }
        if !state.adaptive {
            return;
        }
        if congested {
            let halved = (state.limit / 2).max(1);
            state.owed = state.limit - halved;
            state.limit = halved;
            state.clean = 0;
            tracing::debug!(limit = halved, "transfers: congestion, fewer at once");
            if state.owed > 0 {
                state.owed -= 1;
                permit.forget();
            }
            return;
        }
        state.clean += 1;
        if state.clean >= state.limit && state.limit < MAX_TRANSFER_JOBS {
            state.limit += 1;
            state.clean = 0;
            permit.semaphore().add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round(jobs: &Concurrency, congested: bool) {
        let mut slots = Vec::new();
        for _ in 0..jobs.limit() {
            slots.push(jobs.acquire().await.unwrap());
        }
        for slot in slots {
            slot.finish(congested);
        }
    }

    #[tokio::test]
    async fn clean_rounds_add_one_and_a_throttle_halves() {
        let jobs = Concurrency::new(None);
        assert_eq!(jobs.limit(), START_TRANSFER_JOBS);
        round(&jobs, false).await;
        let grown = START_TRANSFER_JOBS + 1;
        assert_eq!(jobs.limit(), grown);
        jobs.acquire().await.unwrap().finish(true);
        assert_eq!(jobs.limit(), grown / 2);
        // The semaphore holds exactly the new limit once the debts are paid.
        round(&jobs, false).await;
        assert_eq!(jobs.permits.available_permits(), jobs.limit());
        for _ in 0..1000 {
            round(&jobs, false).await;
        }
        assert_eq!(jobs.limit(), MAX_TRANSFER_JOBS);
    }

    #[tokio::test]
    async fn a_fixed_limit_never_moves() {
        let jobs = Concurrency::new(Some(3));
        round(&jobs, true).await;
        round(&jobs, false).await;
        assert_eq!((jobs.limit(), jobs.permits.available_permits()), (3, 3));
    }
}
