//! `augment export` as a person runs it, and what users load the result with:
//! Hugging Face `datasets` (imagefolder) and `webdataset`, in Python (the CI
//! venv has both; `AUGMENT_PYTHON` may name another interpreter). The split
//! property over uploads with duplicates; `augment verify` on an export.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{augment, jpeg, jpeg_object, processed, run};

/// Photos (distinct bytes unless copied) processed into a data folder.
fn data_folder(home: &Path, photos: &[(&str, Vec<u8>)]) -> PathBuf {
    processed(home, photos, 0)
}

fn export(home: &Path, data: &Path, dest: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(augment(home)
        .env("AUGMENT_DATA_DIR", data)
        .args(["export", "--local"])
        .arg(dest)
        .args(args));
    assert_eq!(code, Some(0), "{stderr}");
    stdout
}

fn rows(dest: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dest.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn python(script: &str) -> String {
    let program = std::env::var("AUGMENT_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(&program).args(["-c", script]).output().unwrap_or_else(|err| {
        panic!("cannot run {program}: {err}. Run the tests with `cargo xtask ci` (its venv has datasets and webdataset)")
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} failed (`cargo xtask ci` installs datasets and webdataset):\n{stderr}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn exports_load_in_hugging_face_datasets_and_webdataset_and_verify() {
    let home = tempfile::tempdir().unwrap();
    // Twelve in class folders, two flat (no class).
    let photos: Vec<(String, Vec<u8>)> = (0..14_u32)
        .map(|n| {
            let class = ["cats/", "dogs/", "birds/"][n as usize % 3];
            let class = if n < 12 { class } else { "" };
            (
                format!("{class}photo {n}.jpg"),
                jpeg(120 + n * 8, 90 + n * 4),
            )
        })
        .collect();
    let photos: Vec<(&str, Vec<u8>)> = photos
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    let data = data_folder(home.path(), &photos);
    let split = ["--split", "train=0.5,val=0.25,test=0.25", "--seed", "5"];
    let folder = home.path().join("imagefolder");
    let mut args = vec!["--format", "imagefolder"];
    args.extend(split);
    let stdout = export(home.path(), &data, &folder, &args);
    assert!(stdout.starts_with("14 images ("), "{stdout}");
    assert!(stdout.contains(", 2 with no class folder"), "{stdout}");
    let shards = home.path().join("webdataset");
    let mut args = vec!["--format", "webdataset", "--shard-size", "64KiB"];
    args.extend(split);
    export(home.path(), &data, &shards, &args);

    // What each split should hold, from the manifest.
    let (mut expected, mut classed) = (BTreeMap::<String, usize>::new(), BTreeMap::new());
    for row in rows(&folder) {
        let split = row["split"].as_str().unwrap().to_owned();
        if row["label"] != "" {
            *classed.entry(split.clone()).or_default() += 1;
        }
        *expected.entry(split).or_default() += 1;
    }
    assert_eq!(rows(&shards).len(), rows(&folder).len());
    let script = format!(
        r#"
import glob, json, os, datasets, webdataset as wds
out = {{}}
ds = datasets.load_dataset("imagefolder", data_dir={folder:?})
for split in ds:
    rows = ds[split]
    assert all(image.size == (256, 256) for image in rows["image"]), split
    out["hf:" + split] = [len(rows), sorted(set(rows["label"]), key=str)]
# torchvision's ImageFolder rule (not installed here: a CPU wheel of torch is
# hundreds of MB): every folder of the split is a class, the images below it
# its samples; files at the split's root are not read.
for split in ["train", "val", "test"]:
    root = os.path.join({folder:?}, split)
    if not os.path.isdir(root):
        continue
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    found = sum(f.endswith(".jpg") for c in classes for _, _, fs in os.walk(os.path.join(root, c)) for f in fs)
    out["tv:" + split] = [found, classes]
classes = open({classes:?}).read().split()
for split in ["train", "val", "test"]:
    urls = sorted(glob.glob({shards:?} + "/" + split + "/*.tar"))
    samples = list(wds.WebDataset(urls, shardshuffle=False).decode("pil"))
    for s in samples:
        meta = s["json"]
        assert s["jpg"].size == (256, 256)
        # A flat upload's sample has no .cls.
        assert (classes[s["cls"]] if "cls" in s else "") == meta["label"], meta
    out["wds:" + split] = [len(samples), len(urls)]
print(json.dumps(out))
"#,
        folder = folder.display().to_string(),
        shards = shards.display().to_string(),
        classes = shards.join("classes.txt").display().to_string(),
    );
    let loaded: serde_json::Value = serde_json::from_str(python(&script).trim()).unwrap();
    // Hugging Face names the val folder `validation`; torchvision reads the
    // class folders alone: every file but the flat uploads'.
    for (split, hf) in [("train", "train"), ("val", "validation"), ("test", "test")] {
        let count = expected.get(split).copied().unwrap_or(0);
        if count > 0 {
            assert_eq!(loaded[format!("hf:{hf}")][0], count, "{loaded}");
            let classed = classed.get(split).copied().unwrap_or(0);
            assert_eq!(loaded[format!("tv:{split}")][0], classed, "{loaded}");
            let classes = loaded[format!("tv:{split}")][1].as_array().unwrap();
            assert!(
                classes
                    .iter()
                    .all(|c| ["birds", "cats", "dogs"].contains(&c.as_str().unwrap())),
                "{loaded}"
            );
        }
        assert_eq!(loaded[format!("wds:{split}")][0], count, "{loaded}");
    }
    assert!(
        loaded["wds:train"][1].as_u64().unwrap() > 1,
        "64 KiB shards: {loaded}"
    );

    // verify: clean, then a tampered rotation and a missing file are named.
    let (code, stdout, _) = run(augment(home.path()).arg("verify").arg(&folder));
    assert_eq!(code, Some(0), "{stdout}");
    let train: Vec<String> = rows(&folder)
        .iter()
        .filter(|row| row["split"] == "train")
        .map(|row| row["file"].as_str().unwrap().to_owned())
        .collect();
    let (turned, other) = (&train[0], &train[1]);
    assert!(
        turned.ends_with("_90.jpg") && other.ends_with("_180.jpg"),
        "{train:?}"
    );
    std::fs::copy(folder.join(other), folder.join(turned)).unwrap();
    std::fs::remove_file(folder.join(&train[4])).unwrap();
    let (code, stdout, _) = run(augment(home.path()).arg("verify").arg(&folder));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("hash mismatch: {turned}"))
            && stdout.contains(&format!("not the exact rotation: {turned}"))
            && stdout.contains(&format!("missing: {}", train[4]))
            && stdout.ends_with(" 3 problems\n"),
        "{stdout}"
    );
    let (code, stdout, _) = run(augment(home.path()).arg("verify").arg(&shards));
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn splits_keep_groups_together_and_repeat_with_the_seed() {
    let home = tempfile::tempdir().unwrap();
    // 40 uploads; every fifth is a copy of the one before under another name.
    let mut photos: Vec<(String, Vec<u8>)> = Vec::new();
    for n in 0..40_u32 {
        let bytes = if n % 5 == 4 {
            photos[photos.len() - 1].1.clone()
        } else {
            jpeg(64 + n * 4, 48 + n)
        };
        photos.push((format!("class{}/img{n}.jpg", n % 4), bytes));
    }
    let photos: Vec<(&str, Vec<u8>)> = photos
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    let data = data_folder(home.path(), &photos);
    let manifest = |dest: &str, seed: &str| {
        let dest = home.path().join(dest);
        export(
            home.path(),
            &data,
            &dest,
            &["--format", "manifest", "--seed", seed],
        );
        (
            std::fs::read(dest.join("manifest.csv")).unwrap(),
            rows(&dest),
        )
    };
    let (csv, rows) = manifest("a", "9");
    assert_eq!(manifest("b", "9").0, csv, "the same seed, the same export");
    assert_ne!(manifest("c", "10").0, csv, "another seed, other splits");

    let mut split_of_group: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut split_of_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut angles_of_name: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for row in &rows {
        let split = row["split"].as_str().unwrap().to_owned();
        let name = row["name"].as_str().unwrap().to_owned();
        assert_eq!(
            row["group"],
            format!("sha256:{}", row["source_sha256"].as_str().unwrap())
        );
        assert_eq!(row["label"], name.split('/').next().unwrap());
        split_of_group
            .entry(row["group"].as_str().unwrap().to_owned())
            .or_default()
            .insert(split.clone());
        split_of_name.entry(name.clone()).or_default().insert(split);
        angles_of_name
            .entry(name)
            .or_default()
            .insert(row["angle"].as_u64().unwrap());
    }
    assert_eq!(split_of_name.len(), 40);
    assert_eq!(
        split_of_group.len(),
        32,
        "8 copies share their original's group"
    );
    assert!(
        split_of_group.values().all(|splits| splits.len() == 1),
        "{split_of_group:?}"
    );
    assert!(split_of_name.values().all(|splits| splits.len() == 1));
    for (name, splits) in &split_of_name {
        let angles = &angles_of_name[name];
        if splits.contains("train") {
            assert_eq!(angles, &BTreeSet::from([90, 180, 270, 360]), "{name}");
        } else {
            assert_eq!(angles, &BTreeSet::from([360]), "{name}: upright only");
        }
    }
    let used: BTreeSet<&String> = split_of_name.values().flatten().collect();
    assert!(used.len() >= 2, "{used:?}");
}

/// On S3 (moto), with the steps the Lambdas run: the manifest carries each
/// output's provenance; an output made before provenance was recorded still
/// exports, its source's hash read from the original; `verify --bucket` agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_from_s3_carries_the_provenance_the_outputs_record() {
    use augment_aws::testing::{self, Moto};
    use augment_aws::{S3Store, SqsQueue};
    use augment_pipeline::provenance::{PIPELINE_VERSION, parameters, sha256_hex};
    use augment_pipeline::steps::{make_rotation, process_upload};
    use augment_pipeline::{ObjectStore as _, RotationTask};

    const BUCKET: &str = "augment-export-test";
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    let queue_url = testing::create_bucket_and_queue(&clients, BUCKET, "rotations")
        .await
        .unwrap();
    let store = S3Store::new(clients.s3.clone(), BUCKET);
    let queue = SqsQueue::new(clients.sqs.clone(), &queue_url);
    let put = jpeg_object;
    let (cat, dog) = (jpeg(200, 100), jpeg(100, 150));
    let uploads = [
        ("original-uploads/cats/tom.jpg", cat.clone()),
        ("original-uploads/dogs/rex.jpg", dog.clone()),
        ("original-uploads/dogs/tom again.jpg", cat.clone()),
    ];
    for (key, body) in &uploads {
        store.put(put(key, body.clone(), Vec::new())).await.unwrap();
        process_upload(&store, &queue, BUCKET, key).await.unwrap();
        for message in testing::receive_all(&clients, &queue_url).await.unwrap() {
            let task = RotationTask::from_json(message.body().unwrap()).unwrap();
            make_rotation(&store, &task).await.unwrap();
            clients
                .sqs
                .delete_message()
                .queue_url(&queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    // Each rotation records what the processed image records.
    let rotation = store
        .head_metadata("augmented-images/90-degree/dogs/rex_90.jpg")
        .await
        .unwrap()
        .unwrap();
    assert!(
        rotation.contains(&("source-sha256".to_owned(), sha256_hex(&dog))),
        "{rotation:?}"
    );
    // An output from before provenance: the source key alone.
    let processed = "processed/dogs/rex_256x256.jpg";
    let bytes = store.get(processed, 1 << 20).await.unwrap();
    let old = vec![("source-key", "original-uploads/dogs/rex.jpg".to_owned())];
    store.put(put(processed, bytes, old)).await.unwrap();

    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("rows");
    let on_moto = |command: &mut Command| {
        command.envs(
            moto.env()
                .into_iter()
                .filter(|(name, _)| *name != "AWS_ENDPOINT_URL"),
        );
        command.args(["--bucket", BUCKET, "--endpoint-url", &moto.endpoint]);
    };
    let mut command = augment(home.path());
    command
        .args(["export", "--format", "manifest", "--all-angles"])
        .arg(&dest);
    on_moto(&mut command);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("3 images ("), "{stdout}");
    let rows = rows(&dest);
    assert_eq!(rows.len(), 12);
    for row in &rows {
        let name = row["name"].as_str().unwrap();
        let source = if name == "dogs/rex" { &dog } else { &cat };
        assert_eq!(row["source_sha256"], sha256_hex(source), "{row}");
        assert_eq!(row["group"], format!("sha256:{}", sha256_hex(source)));
        let recorded = name != "dogs/rex";
        assert_eq!(
            row["pipeline_version"] == PIPELINE_VERSION,
            recorded,
            "{row}"
        );
        assert_eq!(row["parameters"] == parameters(), recorded, "{row}");
    }
    let splits: BTreeSet<&str> = rows
        .iter()
        .filter(|row| row["group"] == format!("sha256:{}", sha256_hex(&cat)))
        .map(|row| row["split"].as_str().unwrap())
        .collect();
    assert_eq!(splits.len(), 1, "the same bytes under two names: one split");

    let mut command = augment(home.path());
    command.args(["verify"]);
    on_moto(&mut command);
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.ends_with("15 files checked, 0 problems\n"),
        "{stdout}"
    );
}
