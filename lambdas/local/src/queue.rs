//! [`ChannelQueue`]: the task queue port on an in-process channel.

use tokio::sync::mpsc;

use augment_pipeline::contract::RotationTask;
use augment_pipeline::ports::{QueueError, TaskQueue};

/// The in-process stand-in for SQS: tasks go down a channel to [`LocalPipeline`]'s
/// worker loop.
#[derive(Debug, Clone)]
pub struct ChannelQueue {
    sender: mpsc::UnboundedSender<RotationTask>,
}

impl ChannelQueue {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<RotationTask>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self { sender }, receiver)
    }
}

impl TaskQueue for ChannelQueue {
    async fn send_batch(&self, tasks: &[RotationTask]) -> Result<(), QueueError> {
        for task in tasks {
            self.sender
                .send(task.clone())
                .map_err(|_| QueueError::Closed)?;
        }
        Ok(())
    }
}
