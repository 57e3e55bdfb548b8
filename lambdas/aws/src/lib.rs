//! AWS adapters for the pipeline's ports: [`S3Store`] (an [`ObjectStore`] on
//! aws-sdk-s3) and [`SqsQueue`] (a [`TaskQueue`] on aws-sdk-sqs), and the one
//! place clients are built ([`Clients`]). Any endpoint works: AWS, moto,
//! LocalStack, MinIO (`AWS_ENDPOINT_URL`, read by the SDK).

mod clients;
mod logging;
mod s3;
mod sqs;
#[cfg(feature = "testing")]
pub mod testing;
mod transient;

pub use clients::Clients;
pub use logging::init_lambda_logging;
pub use s3::{CONNECT_TIMEOUT, S3Store, s3_client, store_error};
pub use sqs::SqsQueue;
pub use transient::sdk_error_is_transient;

use augment_pipeline::ports::{ObjectStore, TaskQueue};

// The adapters must keep implementing the ports.
const _: () = {
    const fn store<T: ObjectStore>() {}
    const fn queue<T: TaskQueue>() {}
    store::<S3Store>();
    queue::<SqsQueue>();
};
