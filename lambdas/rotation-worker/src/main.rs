//! `rotation-worker`: the Lambda `bootstrap`. Builds the S3 client once, then
//! serves SQS batches. Configuration (environment): `BUCKET` (optional: refuse
//! tasks for any other bucket), `RUST_LOG`, and the standard AWS variables.

use augment_aws::{Clients, S3Store};
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    augment_aws::init_lambda_logging();
    let allowed_bucket = std::env::var("BUCKET").ok().filter(|b| !b.is_empty());
    let s3 = Clients::from_env().await.s3;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (s3, allowed_bucket) = (s3.clone(), allowed_bucket.clone());
        async move {
            let store_for = |bucket: &str| S3Store::new(s3.clone(), bucket);
            let deadline = rotation_worker::deadline_from(event.context.deadline());
            let response = rotation_worker::handle(
                event.payload,
                &event.context.request_id,
                deadline,
                store_for,
                allowed_bucket.as_deref(),
            )
            .await;
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}
