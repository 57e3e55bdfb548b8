//! The pipeline's status and re-drive, on the current connection.

use std::sync::Arc;

use augment_client::ops::{Operator, StatusOptions};
use augment_client::{ClientError, ErrorKind, Remote, Settings};

use super::core::Worker;
use crate::command::{StatusCommand, StatusEvent};

impl Worker {
    pub(super) fn handle_status(&self, command: StatusCommand) {
        let this = self.clone();
        let remote = self.remote.borrow().clone();
        tokio::spawn(async move {
            match command {
                StatusCommand::Refresh(settings) => {
                    let result = status(remote, &settings).await;
                    this.events.send(StatusEvent::Refreshed(result));
                }
                StatusCommand::Redrive(settings) => {
                    let result = redrive(remote, &settings).await;
                    this.events.send(StatusEvent::Redriven(result));
                }
            }
        });
    }
}

fn not_connected() -> ClientError {
    ClientError::new(ErrorKind::Offline, "Not connected yet.")
}

async fn status(
    remote: Option<Arc<Remote>>,
    settings: &Settings,
) -> Result<augment_client::ops::PipelineStatus, ClientError> {
    let remote = remote.ok_or_else(not_connected)?;
    let operator = Operator::connect(settings).await?;
    remote
        .status(operator.as_ref(), StatusOptions::default())
        .await
}

async fn redrive(
    remote: Option<Arc<Remote>>,
    settings: &Settings,
) -> Result<augment_client::ops::RedriveReport, ClientError> {
    let remote = remote.ok_or_else(not_connected)?;
    let Some(operator) = Operator::connect(settings).await? else {
        return Err(ClientError::new(
            ErrorKind::InvalidSettings,
            "Local mode finishes unfinished uploads by itself at every start.",
        ));
    };
    remote
        .redrive(&operator, StatusOptions::default(), false)
        .await
}
