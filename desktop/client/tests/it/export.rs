//! An export interrupted and continued gives the dataset one run gives; a flat
//! upload's place in each layout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use augment_client::dataset::{EXPORT_MARKER, ExportEvent, ExportRequest, Format, MANIFEST_JSONL};
use augment_client::{NameFilter, Remote};

use super::common::{jpeg, local};

/// `count` photos in three class folders (every seventh flat) processed into
/// a data folder by the local pipeline.
fn data_folder(home: &Path, count: u32) -> PathBuf {
    let photos = home.join("photos");
    for n in 0..count {
        let name = if n % 7 == 0 {
            format!("flat {n}.jpg")
        } else {
            format!("class{}/photo {n}.jpg", n % 3)
        };
        let path = photos.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, jpeg(64 + n, 48)).unwrap();
    }
    let inputs = augment_client::inputs::collect(&[photos], None).unwrap();
    let data = home.join("data");
    let summary = augment_client::batch::run(&inputs, &data, 2, |_, _| {}).unwrap();
    assert!(summary.all_done(), "{summary:?}");
    data
}

/// A data folder of `count` photos (see [`data_folder`]) and the client on it.
async fn local_data(count: u32) -> (tempfile::TempDir, Remote) {
    let home = tempfile::tempdir().unwrap();
    let at = home.path().to_owned();
    let data = tokio::task::spawn_blocking(move || data_folder(&at, count))
        .await
        .unwrap();
    (home, local(&data).await)
}

fn request(dest: &Path, format: Format, label_depth: usize) -> ExportRequest {
    ExportRequest {
        dest: dest.to_owned(),
        format,
        splits: "train=0.5,val=0.5".parse().unwrap(),
        seed: 7,
        all_angles: false,
        label_depth,
        shard_bytes: 20_000,
        name_prefix: String::new(),
        name_filter: NameFilter::default(),
        jobs: 3,
    }
}

/// Every file below `root` (relative path → bytes).
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| {
            let relative = entry.path().strip_prefix(root).unwrap();
            (
                relative.display().to_string(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

/// Exports until the `stop_after`th upload, then stops the export as a panic
/// in its task does (the future dropped mid-walk).
async fn interrupted(remote: &Remote, request: &ExportRequest, stop_after: usize) {
    let (remote, request) = (remote.clone(), request.clone());
    let run = tokio::spawn(async move {
        let mut seen = 0;
        remote
            .export(&request, |event| {
                seen += usize::from(matches!(event, ExportEvent::Exported { .. }));
                assert!(seen < stop_after, "stopping the export here");
            })
            .await
    });
    assert!(
        run.await.unwrap_err().is_panic(),
        "the export ran to its end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interrupted_export_continues_into_the_dataset_one_run_makes() {
    let (home, remote) = local_data(24).await;
    for format in [Format::ImageFolder, Format::WebDataset] {
        let once = home.path().join(format!("once-{format:?}"));
        let whole = remote
            .export(&request(&once, format, 1), |_| {})
            .await
            .unwrap();
        assert!(!whole.resumed);

        let twice = home.path().join(format!("twice-{format:?}"));
        let asked = request(&twice, format, 1);
        interrupted(&remote, &asked, 10).await;
        // The stopped writer lets go of the folder (and its temporary files)
        // when it has finished the upload in hand: the next export waits for
        // it, then refuses other choices.
        let other = ExportRequest {
            seed: 8,
            ..asked.clone()
        };
        let refused = remote.export(&other, |_| {}).await.unwrap_err();
        assert!(
            refused.message.contains("other choices"),
            "{}",
            refused.message
        );
        let left = tree(&twice);
        assert!(left.contains_key(EXPORT_MARKER), "{:?}", left.keys());
        assert!(
            !left.contains_key(MANIFEST_JSONL),
            "a manifest before the end"
        );
        // Temporary files a kill leaves are swept by the next run: the trees
        // compared below hold none.

        let resumed = remote.export(&asked, |_| {}).await.unwrap();
        assert!(resumed.resumed);
        if format == Format::ImageFolder {
            assert!(resumed.kept > 0, "{resumed:?}");
        }
        assert_eq!(
            (resumed.uploads, resumed.files),
            (whole.uploads, whole.files)
        );
        assert_eq!(tree(&twice), tree(&once), "{format:?}");

        let again = remote.export(&asked, |_| {}).await.unwrap_err();
        assert!(again.message.contains("not empty"), "{}", again.message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flat_uploads_have_no_class_and_an_unlabelled_export_one_folder() {
    let (home, remote) = local_data(8).await;
    let labelled = home.path().join("labelled");
    let summary = remote
        .export(&request(&labelled, Format::ImageFolder, 1), |_| {})
        .await
        .unwrap();
    // Uploads 0 and 7 are flat.
    assert_eq!((summary.uploads, summary.unlabeled), (8, 2));
    for (path, _) in tree(&labelled) {
        let parts: Vec<&str> = path.split('/').collect();
        if path.contains("flat ") {
            // At the split's root: in no class folder torchvision reads.
            assert_eq!(parts.len(), 2, "{path}");
        } else if path.ends_with(".jpg") {
            assert!(parts[1].starts_with("class"), "{path}");
        }
    }

    let none = home.path().join("none");
    remote
        .export(&request(&none, Format::ImageFolder, 0), |_| {})
        .await
        .unwrap();
    let images: Vec<String> = tree(&none)
        .into_keys()
        .filter(|path| path.ends_with(".jpg"))
        .collect();
    assert_eq!(images.len(), summary.files as usize);
    for path in images {
        // `<split>/unlabeled/…`: torchvision's one class; the name's own
        // folders below it.
        assert_eq!(path.split('/').nth(1), Some("unlabeled"), "{path}");
    }
}
