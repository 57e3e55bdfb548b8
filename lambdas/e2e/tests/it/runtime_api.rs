//! The real Lambda binaries, built as for deployment, served by the Lambda Runtime
//! API emulator (`cargo lambda watch --only-lambda-apis`), invoked with event JSON
//! made the way S3 and SQS make it, against a moto server:
//! upload → S3 event → image-processor → four SQS messages per image →
//! SQS event → rotation-worker → four rotations in S3, each checked.

use augment_aws::testing::{self, Moto};
use augment_pipeline::{Angle, FailedRecord, RejectCode, imaging};
use lambda_e2e::{
    RuntimeApi, assert_red_corner_turned, build_lambdas, log_lines, red_corner_photo,
};
use serde_json::{Value, json};

const BUCKET: &str = "augment-e2e";
const REGION: &str = "us-east-1";
const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:rotations";

fn s3_record(key: &str, size: usize) -> Value {
    lambda_e2e::s3_record(BUCKET, REGION, key, size)
}

fn sqs_record(message_id: &str, receipt: &str, body: &str) -> Value {
    lambda_e2e::sqs_record(QUEUE_ARN, message_id, receipt, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_to_rotations_through_both_real_lambdas() {
    let (processor_exe, worker_exe) = build_lambdas();
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    let queue_url = testing::create_bucket_and_queue(&clients, BUCKET, "rotations")
        .await
        .unwrap();

    let good = [
        "original-uploads/holiday 2024/beach day.JPG",
        "original-uploads/a+b=c ☀.jpeg",
        "original-uploads/100%.png",
    ];
    let mut huge = red_corner_photo();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let uploads: Vec<(&str, Vec<u8>)> = good
        .iter()
        .map(|k| (*k, red_corner_photo()))
        .chain([
            ("original-uploads/notes.jpg", b"this is text".to_vec()),
            ("original-uploads/huge.jpg", huge),
        ])
        .collect();
    for (key, body) in &uploads {
        testing::put_object(&clients, BUCKET, key, body.clone())
            .await
            .unwrap();
    }

    let api = RuntimeApi::start();
    let logs = tempfile::tempdir().unwrap();
    let processor_log = logs.path().join("processor.log");
    let worker_log = logs.path().join("worker.log");
    let _processor = api.start_function(
        &processor_exe,
        "image-processor",
        &moto,
        &[("QUEUE_URL", &queue_url)],
        &processor_log,
    );
    let _worker = api.start_function(
        &worker_exe,
        "rotation-worker",
        &moto,
        &[("BUCKET", BUCKET)],
        &worker_log,
    );

    // S3 → processor.
    let records: Vec<Value> = uploads
        .iter()
        .map(|(key, body)| s3_record(key, body.len()))
        .collect();
    let response = api.invoke("image-processor", &json!({ "Records": records }));
    assert_eq!(
        response,
        json!({"processed": 3, "rejected": 2, "skipped": 0})
    );
    for (name, code) in [
        ("notes", RejectCode::UnsupportedType),
        ("huge", RejectCode::TooLarge),
    ] {
        let object = clients
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(format!("failed/{name}.json"))
            .send()
            .await
            .unwrap();
        let record: FailedRecord =
            serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
        assert_eq!(record.code, code);
    }

    // SQS: one batch of four per good upload.
    let messages: Vec<Value> = testing::receive_all(&clients, &queue_url)
        .await
        .unwrap()
        .iter()
        .map(|m| {
            sqs_record(
                m.message_id().unwrap(),
                m.receipt_handle().unwrap(),
                m.body().unwrap(),
            )
        })
        .collect();
    assert_eq!(messages.len(), 4 * good.len());

    // SQS → worker, in batches of five (the event source mapping's size), one
    // poisoned message among them.
    let mut batches: Vec<Vec<Value>> = messages.chunks(5).map(<[Value]>::to_vec).collect();
    batches[0].insert(2, sqs_record("poison-1", "r", "{\"v\": 1, \"angle\": 45}"));
    for (i, batch) in batches.iter().enumerate() {
        let response = api.invoke("rotation-worker", &json!({ "Records": batch }));
        let expected: Vec<Value> = if i == 0 {
            vec![json!({"itemIdentifier": "poison-1"})]
        } else {
            vec![]
        };
        assert_eq!(
            response["batchItemFailures"],
            Value::Array(expected),
            "batch {i}"
        );
    }

    let read = |key: String| {
        let s3 = clients.s3.clone();
        async move {
            s3.get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes()
                .to_vec()
        }
    };
    let first_output =
        read("augmented-images/90-degree/holiday 2024/beach day_90.jpg".into()).await;
    // The same message delivered again leaves the same object.
    let response = api.invoke(
        "rotation-worker",
        &json!({ "Records": [messages[0].clone()] }),
    );
    assert_eq!(response["batchItemFailures"], json!([]));

    for key in good {
        let name = key
            .trim_start_matches("original-uploads/")
            .rsplit_once('.')
            .unwrap()
            .0;
        let processed = read(format!("processed/{name}_256x256.jpg")).await;
        assert_eq!(
            imaging::decode(&processed, augment_pipeline::sniff::ImageFormat::Jpeg, 256)
                .unwrap()
                .dimensions(),
            (256, 256)
        );
        for angle in Angle::ALL {
            let bytes = read(format!(
                "augmented-images/{angle}-degree/{name}_{angle}.jpg"
            ))
            .await;
            assert_red_corner_turned(&bytes, angle, &format!("{name} {angle}°"));
        }
    }
    let message_body: Value = serde_json::from_str(messages[0]["body"].as_str().unwrap()).unwrap();
    let redelivered_key = message_body["output_key"].as_str().unwrap().to_owned();
    if redelivered_key == "augmented-images/90-degree/holiday 2024/beach day_90.jpg" {
        assert_eq!(read(redelivered_key).await, first_output);
    }

    // One JSON log line per record, with its outcome and duration.
    let lines = log_lines(&processor_log);
    let outcomes: Vec<&str> = lines.iter().filter_map(|l| l["outcome"].as_str()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "processed").count(),
        3,
        "{lines:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "rejected").count(),
        2,
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l["outcome"].is_string())
            .all(|l| l["request_id"].is_string() && l["ms"].is_u64() && l["key"].is_string())
    );
    let worker_lines = log_lines(&worker_log);
    assert_eq!(
        worker_lines
            .iter()
            .filter(|l| l["outcome"] == "rotated")
            .count(),
        4 * good.len() + 1
    );
    assert_eq!(
        worker_lines
            .iter()
            .filter(|l| l["outcome"] == "failed")
            .count(),
        1
    );
}
