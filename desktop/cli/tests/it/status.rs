//! `augment status` in local mode: the stages read from the data folder, a
//! planted stuck upload named with what it lacks, `--json`, and `logs`/`redrive`
//! saying plainly that local mode has no functions or queues.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{augment, jpeg, run, two_photos_and_a_rejection, write};

#[test]
fn status_in_local_mode_counts_each_stage_and_names_the_stuck_upload() {
    let home = tempfile::tempdir().unwrap();
    let data = two_photos_and_a_rejection(home.path());
    // An upload an hour old that nothing ever processed.
    let stuck = data.join("original-uploads/stuck.jpg");
    write(&stuck, &jpeg(32, 32));
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stuck)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();

    let (code, stdout, stderr) = run(augment(home.path()).args(["status", "--local", "--json"]));
    assert_eq!(code, Some(1), "something is stuck: {stderr}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    let stages = &status["stages"];
    assert_eq!(
        (
            &stages["uploads"],
            &stages["processed"],
            &stages["complete"],
            &stages["rejected"],
            &stages["stuck"]
        ),
        (&4.into(), &2.into(), &2.into(), &1.into(), &1.into()),
        "{status}"
    );
    assert_eq!(status["stuck"][0]["key"], "original-uploads/stuck.jpg");
    assert_eq!(
        status["stuck"][0]["missing"],
        serde_json::json!(["processed", "90", "180", "270", "360"])
    );
    assert_eq!(status["timing"]["uploads"], 2, "{status}");
    assert_eq!(status["queues"], serde_json::json!([]));
    assert_eq!(status["denied"], serde_json::json!([]));

    let (_, text, _) = run(augment(home.path()).args(["status", "--local"]));
    println!("{text}");
    assert!(text.contains("original-uploads/stuck.jpg"), "{text}");
    assert!(
        text.contains("missing: processed, 90, 180, 270, 360"),
        "{text}"
    );
    assert!(
        text.contains("the original design expects 5–10 s"),
        "{text}"
    );

    // Younger than the threshold: not stuck yet.
    let (code, stdout, _) =
        run(augment(home.path()).args(["status", "--local", "--json", "--stuck-after", "2h"]));
    assert_eq!(code, Some(0));
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["stages"]["stuck"], 0);

    for command in ["logs", "redrive"] {
        let (code, _, stderr) = run(augment(home.path()).args([command, "--local"]));
        assert_eq!(code, Some(2), "{command}: {stderr}");
        assert!(stderr.contains("local mode"), "{stderr}");
    }
}
