//! `augment download` and `augment verify` as a person runs them: the bucket's
//! layout into a folder from moto and from local mode; a second run fetches
//! nothing; a killed run leaves no half-written file and a rerun finishes it.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use augment_aws::S3Store;
use augment_aws::testing::{self, Moto};
use augment_local::TEMP_PREFIX;
use augment_pipeline::ObjectStore as _;

use super::{augment, files, jpeg_object, run, says, two_photos_and_a_rejection};

const BUCKET: &str = "augment-download-test";

/// A bucket on moto with `count` objects under `augmented-images/90-degree/`
/// (bytes of different sizes: the download does not judge them).
async fn bucket_with(moto: &Moto, count: usize) -> Vec<(String, Vec<u8>)> {
    let clients = moto.clients();
    testing::create_bucket_and_queue(&clients, BUCKET, "rotations")
        .await
        .unwrap();
    let mut objects = Vec::new();
    for n in 0..count {
        let key = format!("augmented-images/90-degree/cls{}/img {n}_90.jpg", n % 3);
        let body = vec![u8::try_from(n % 251).unwrap(); 1000 + n];
        put(moto, &key, &body).await;
        objects.push((key, body));
    }
    objects
}

async fn put(moto: &Moto, key: &str, body: &[u8]) {
    S3Store::new(moto.clients().s3, BUCKET)
        .put(jpeg_object(key, body.to_vec(), Vec::new()))
        .await
        .unwrap();
}

/// `augment download --local` of the data folder `data` into `dest`.
fn download_local(
    home: &Path,
    data: &Path,
    args: &[&str],
    dest: &Path,
) -> (Option<i32>, String, String) {
    run(augment(home)
        .env("AUGMENT_DATA_DIR", data)
        .args(["download", "--local"])
        .args(args)
        .arg(dest))
}

fn download(home: &Path, moto: &Moto, dest: &Path) -> std::process::Command {
    let mut command = augment(home);
    command
        .envs(
            moto.env()
                .into_iter()
                .filter(|(name, _)| name.starts_with("AWS_") && *name != "AWS_ENDPOINT_URL"),
        )
        .args([
            "download",
            "--bucket",
            BUCKET,
            "--endpoint-url",
            &moto.endpoint,
        ])
        .arg(dest);
    command
}

/// Every file under `dest` is an object's bytes under its key's name.
fn all_whole(dest: &Path, objects: &[(String, Vec<u8>)]) -> usize {
    let found = files(dest);
    for file in &found {
        let (_, body) = objects
            .iter()
            .find(|(key, _)| key == file)
            .unwrap_or_else(|| panic!("{file} is not an object's key"));
        assert_eq!(&std::fs::read(dest.join(file)).unwrap(), body, "{file}");
    }
    found.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_download_resumes_and_a_second_run_fetches_only_what_changed() {
    let moto = Moto::start().unwrap();
    let mut objects = bucket_with(&moto, 300).await;
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("results");

    // Killed mid-way: one file at a time, stopped once some have landed.
    let mut child = download(home.path(), &moto, &dest)
        .args(["--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while files(&dest).len() < 30 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing landed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // What a kill leaves half-written is a temporary file (one is planted, as
    // the kill may have fallen between two files).
    let half = dest.join(format!("augmented-images/90-degree/{TEMP_PREFIX}killed"));
    std::fs::write(&half, b"half").unwrap();
    let before = files(&dest)
        .iter()
        .filter(|file| !file.contains(TEMP_PREFIX))
        .count();
    assert!(before < objects.len(), "the download was not interrupted");

    // The rerun fetches the rest, keeps what is there and removes what the
    // killed run left half-written (every file is an object's, whole).
    let (code, stdout, stderr) = run(&mut download(home.path(), &moto, &dest));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(all_whole(&dest, &objects), objects.len());
    let fetched: usize = stdout.split_whitespace().next().unwrap().parse().unwrap();
    assert!(fetched <= objects.len() - before + 1, "{stdout}");

    // Nothing new: nothing fetched.
    let (code, stdout, stderr) = run(&mut download(home.path(), &moto, &dest));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "0 fetched (0 bytes), {} up to date",
            objects.len()
        )),
        "{stdout}"
    );

    // One object written again (same key, other bytes): only it comes again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (key, body) = &mut objects[7];
    *body = b"written again".to_vec();
    put(&moto, key, body).await;
    let (code, stdout, stderr) = run(&mut download(home.path(), &moto, &dest));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("1 fetched (13 bytes)"), "{stdout}");
    assert_eq!(all_whole(&dest, &objects), objects.len());
}

#[test]
fn local_mode_downloads_the_layout_asked_for_and_verify_checks_it() {
    let home = tempfile::tempdir().unwrap();
    let data = two_photos_and_a_rejection(home.path());

    // The original guide's step: the rotations alone.
    let only = home.path().join("only");
    let (code, stdout, stderr) =
        download_local(home.path(), &data, &["--only", "augmented-images"], &only);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("8 fetched"), "{stdout}");
    let found = files(&only);
    assert_eq!(found.len(), 8, "{found:?}");
    assert!(
        found.iter().all(|f| f.starts_with("augmented-images/")),
        "{found:?}"
    );

    // Everything, on request, is the data folder's layout file for file.
    let all = home.path().join("all");
    let (code, _, stderr) = download_local(home.path(), &data, &["--originals", "--failed"], &all);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(files(&all), files(&data));
    for file in files(&all) {
        assert_eq!(
            std::fs::read(all.join(&file)).unwrap(),
            std::fs::read(data.join(&file)).unwrap()
        );
    }

    // verify: clean, then a tampered rotation and a missing one are named.
    let (code, stdout, _) = run(augment(home.path()).arg("verify").arg(&all));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.ends_with("10 files checked, 0 problems\n"),
        "{stdout}"
    );
    let rotation = |angle: u16| {
        all.join(format!(
            "augmented-images/{angle}-degree/cats/tom_{angle}.jpg"
        ))
    };
    std::fs::copy(rotation(180), rotation(90)).unwrap();
    std::fs::remove_file(rotation(270)).unwrap();
    let (code, stdout, _) = run(augment(home.path()).arg("verify").arg(&all));
    assert_eq!(code, Some(1), "{stdout}");
    says(
        &stdout,
        &[
            "not the exact rotation: augmented-images/90-degree/cats/tom_90.jpg",
            "missing: augmented-images/270-degree/cats/tom_270.jpg",
        ],
    );
    assert!(stdout.ends_with("2 problems\n"), "{stdout}");
}
