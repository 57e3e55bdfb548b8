//! Helpers the client's tests share.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use augment_aws::Clients;
use augment_aws::testing::{self, Moto};
use augment_client::{Progress, Remote};
use augment_pipeline::UploadKey;
use image::{ImageFormat, Rgb, RgbImage};

/// A JPEG with a gradient (so it compresses like a photo, not like a flat fill).
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A callback that records what it is called with, and the record.
pub fn recorder<T: Send + 'static>() -> (Arc<Mutex<Vec<T>>>, impl Fn(T) + Send + Sync + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    (seen, move |item| record.lock().unwrap().push(item))
}

/// Starts uploading `path` slowly (10 ms per progress event: a whole 10 MiB file
/// takes over a second) and drops the upload once its first bytes are out, as the
/// app's Cancel does. Panics if the upload finishes first.
pub async fn cancel_after_first_bytes(remote: &Remote, path: &Path, key: &UploadKey) {
    let started = Arc::new(tokio::sync::Notify::new());
    let notify = started.clone();
    let upload = remote.upload(path, key, move |progress: Progress| {
        if progress.sent_bytes > 0 {
            notify.notify_one();
        }
        std::thread::sleep(Duration::from_millis(10));
    });
    tokio::select! {
        result = upload => panic!("the upload finished first: {result:?}"),
        () = started.notified() => {}
    }
}

/// The client in local mode on the data folder `data`.
pub async fn local(data: &Path) -> Remote {
    let settings = augment_client::Settings {
        mode: augment_client::Mode::Local,
        local: augment_client::LocalSettings {
            data_dir: Some(data.to_owned()),
        },
        ..augment_client::Settings::default()
    };
    Remote::connect(&settings).await.unwrap()
}

/// A fresh moto with a bucket and a rotation queue, and the client on it.
pub struct Stack {
    pub moto: Moto,
    pub clients: Clients,
    pub queue_url: String,
    /// Straight to moto.
    pub remote: Remote,
}

/// [`Stack`] with the bucket `bucket`.
pub async fn stack(bucket: &str) -> Stack {
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    let queue_url = testing::create_bucket_and_queue(&clients, bucket, "rotations")
        .await
        .unwrap();
    let remote = Remote::with_sdk_config(&moto.sdk_config(), bucket).unwrap();
    Stack {
        moto,
        clients,
        queue_url,
        remote,
    }
}
