//! Each batch's [`UploadPlan`]: what the batch needs to know about the bucket
//! (names taken, the originals' sizes), learned once from listing pages when its
//! first row needs it, so a new file costs its one `PutObject`, as with
//! `augment upload`. The last [`KEPT_BATCH_PLANS`] batches' plans are kept; a
//! row of an older batch (a retry) asks per name, as does every row when the
//! listing failed or the connection changed since the plan was made.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use augment_client::{Remote, UploadPlan};
use tokio::sync::OnceCell;

use crate::command::BatchId;

/// Batches whose plans are kept (each holds its listing's names).
pub(super) const KEPT_BATCH_PLANS: usize = 4;

/// One batch's file names and, once its first row asked, its plan.
pub(super) struct BatchPlan {
    names: Vec<String>,
    plan: OnceCell<Option<(Arc<Remote>, UploadPlan)>>,
}

impl BatchPlan {
    /// The plan for `remote`, made on the first call.
    pub(super) async fn for_remote(&self, remote: &Arc<Remote>) -> Option<&UploadPlan> {
        let made = self
            .plan
            .get_or_init(|| async {
                match remote
                    .plan_uploads(self.names.iter().map(String::as_str))
                    .await
                {
                    Ok(plan) => Some((Arc::clone(remote), plan)),
                    Err(err) => {
                        tracing::warn!("the batch asks per name: {}", err.detail());
                        None
                    }
                }
            })
            .await;
        match made {
            Some((made_for, plan)) if Arc::ptr_eq(made_for, remote) => Some(plan),
            _ => None,
        }
    }
}

/// The recent batches' plans.
#[derive(Default)]
pub(super) struct BatchPlans(Mutex<VecDeque<(BatchId, Arc<BatchPlan>)>>);

impl BatchPlans {
    /// A new batch of files named `names` (upload names, without the prefix).
    pub(super) fn register(&self, batch: BatchId, names: Vec<String>) {
        let mut plans = self.plans();
        plans.push_back((
            batch,
            Arc::new(BatchPlan {
                names,
                plan: OnceCell::new(),
            }),
        ));
        while plans.len() > KEPT_BATCH_PLANS {
            plans.pop_front();
        }
    }

    pub(super) fn get(&self, batch: BatchId) -> Option<Arc<BatchPlan>> {
        self.plans()
            .iter()
            .find(|(id, _)| *id == batch)
            .map(|(_, plan)| Arc::clone(plan))
    }
}

impl BatchPlans {
    /// A panic elsewhere leaves the list as it was: still usable.
    fn plans(&self) -> MutexGuard<'_, VecDeque<(BatchId, Arc<BatchPlan>)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
