//! `image-processor`: the Lambda `bootstrap`. Builds the clients once, then serves
//! S3 events. Configuration (environment): `QUEUE_URL` (required), `RUST_LOG`,
//! and the standard AWS variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).

use augment_aws::{Clients, S3Store, SqsQueue};
use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    augment_aws::init_lambda_logging();
    let queue_url = std::env::var("QUEUE_URL")
        .map_err(|_| "QUEUE_URL must be set to the rotation queue's URL")?;
    let clients = Clients::from_env().await;
    let queue = SqsQueue::new(clients.sqs.clone(), queue_url);
    let s3 = clients.s3;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| {
        let (s3, queue) = (s3.clone(), queue.clone());
        async move {
            let store_for = |bucket: &str| S3Store::new(s3.clone(), bucket);
            image_processor::handle(event.payload, &event.context.request_id, store_for, &queue)
                .await
        }
    }))
    .await
}
