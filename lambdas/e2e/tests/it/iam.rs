//! Least privilege, proven on what Terraform renders. The stack is applied to a moto
//! server with `iam_users.tf` beside it: one IAM user per principal (the processor,
//! the worker, the app's user, the app's viewer, the operator) holding exactly the policy the stack
//! renders for it, and an access key. Then moto starts enforcing IAM (its
//! `INITIAL_NO_AUTH_ACTION_COUNT` set to 0 through `/moto-api/reset-auth`: every
//! request from then on must be signed by a known key and allowed by its user's
//! policies), and:
//!
//! - the pipeline runs with those keys: the app's user uploads, the real processor
//!   and worker bootstraps (under the Lambda Runtime API, with the environment
//!   Terraform gave the functions) read, write and queue what the contract says;
//! - a matrix of calls, each by each principal, inside and outside its part of the
//!   contract, must be allowed or answered `AccessDenied` by moto;
//! - the same matrix, and what moto cannot decide (listing under an `s3:prefix`
//!   condition: moto evaluates identity-policy conditions without the request's
//!   values, so a conditioned statement never allows; and every KMS call: moto has
//!   no key policies), is evaluated with the policy simulator (npm
//!   `@cloud-copilot/iam-simulate`, installed by `cargo xtask ci`, folder in
//!   `IAM_SIMULATOR`), on the policies of the apply and, for `kms_key_arn`, of a plan
//!   with a key: the key policy output must let the roles, the log groups and the
//!   alarms use the key, and nobody else.
//!
//! The apply is targeted at the functions and the test users (with what they need:
//! bucket, queues, log groups, roles, their policies); the rest of the stack is
//! applied by `terraform_stack.rs`.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use augment_aws::testing::Moto;
use augment_aws::{Clients, S3Store};
use augment_pipeline::ObjectStore as _;
use augment_pipeline::ports::{Failure, PutObject, StoreError};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use lambda_e2e::{RuntimeApi, build_lambdas, red_corner_photo, s3_record};
use serde_json::{Value, json};

use crate::terraform_stack::{
    ENVIRONMENT, PROJECT, REGION, Terraform, plugin_dir, resource, str_of,
};

/// The test's users, created beside the stack (never part of it).
const USERS_TF: &str = include_str!("iam_users.tf");
/// Keeps the plan with a key from changing what the policies are read after.
const KMS_OVERRIDE_TF: &str = include_str!("iam_kms_override.tf");
/// What the apply is limited to (Terraform adds what these depend on).
const TARGETS: [&str; 3] = [
    "-target=aws_lambda_function.functions",
    "-target=aws_iam_user_policy.iam_test",
    "-target=aws_iam_access_key.iam_test",
];
/// A key ARN of the form KMS gives; nothing calls KMS with it.
const KMS_KEY_ARN: &str =
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const PROCESSOR_BIN: &str = "image-processor";
const WORKER_BIN: &str = "rotation-worker";
/// The code moto (and AWS) answers a refused request with, S3 and SQS alike.
const ACCESS_DENIED: &str = "AccessDenied";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Processor,
    Worker,
    AppUser,
    AppViewer,
    /// Who runs `augment status`, `logs` and `redrive` (`operator_policy_json`).
    Operator,
}

impl Who {
    /// The key in `iam_users.tf`.
    const fn key(self) -> &'static str {
        match self {
            Self::Processor => "processor",
            Self::Worker => "worker",
            Self::AppUser => "app_user",
            Self::AppViewer => "app_viewer",
            Self::Operator => "operator",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queue {
    Rotations,
    Dlq,
    ProcessorFailures,
}

#[derive(Clone, Debug)]
enum Call {
    Get(String),
    /// `GetObject` of a key with no object: moto answers `NoSuchKey` once IAM
    /// allows the read (it does not model S3's 403 to callers without
    /// `s3:ListBucket`: the simulator's listing cases decide that part).
    GetMissing(String),
    /// `GetObjectTagging` (the duplicate question's hash).
    GetTagging(String),
    /// `PutObjectTagging`, which a `PutObject` with tags needs as well.
    PutTagging(String),
    Put(String),
    Delete(String),
    /// `ListObjectsV2` with this prefix.
    List(&'static str),
    Send(Queue),
    Receive(Queue),
    Attributes(Queue),
}

impl Call {
    fn action(&self) -> &'static str {
        match self {
            Self::Get(_) | Self::GetMissing(_) => "s3:GetObject",
            Self::GetTagging(_) => "s3:GetObjectTagging",
            Self::PutTagging(_) => "s3:PutObjectTagging",
            Self::Put(_) => "s3:PutObject",
            Self::Delete(_) => "s3:DeleteObject",
            Self::List(_) => "s3:ListBucket",
            Self::Send(_) => "sqs:SendMessage",
            Self::Receive(_) => "sqs:ReceiveMessage",
            Self::Attributes(_) => "sqs:GetQueueAttributes",
        }
    }
}

/// One cell of the matrix: `who` makes `call`; the contract says `allowed`.
struct Case {
    who: Who,
    call: Call,
    allowed: bool,
}

/// What the test knows of the applied stack.
struct Stack {
    bucket: String,
    account: String,
    queues: [(Queue, String, String); 3],
    /// Per principal: its IAM user's name, policy document, access key.
    users: Vec<(Who, String, Value, Credentials)>,
}

impl Stack {
    fn queue(&self, queue: Queue) -> (&str, &str) {
        let (_, url, arn) = self.queues.iter().find(|(q, _, _)| *q == queue).unwrap();
        (url, arn)
    }

    fn user(&self, who: Who) -> &(Who, String, Value, Credentials) {
        self.users.iter().find(|(w, ..)| *w == who).unwrap()
    }

    fn clients(&self, moto: &Moto, who: Who) -> Clients {
        let credentials = self.user(who).3.clone();
        let config = moto
            .sdk_config()
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        Clients::new(&config)
    }

    /// The principal the simulator evaluates: a function's role session, as Lambda
    /// signs with it; the app's people as IAM users.
    fn principal(&self, who: Who) -> String {
        let account = &self.account;
        match who {
            Who::Processor | Who::Worker => {
                let function = format!("{PROJECT}-{ENVIRONMENT}-{}", function_of(who));
                format!("arn:aws:sts::{account}:assumed-role/{function}/{function}")
            }
            Who::AppUser | Who::AppViewer | Who::Operator => {
                format!("arn:aws:iam::{account}:user/{}", self.user(who).1)
            }
        }
    }

    /// The request as the simulator takes it.
    fn simulation(&self, case: &Case) -> Value {
        let (resource, context) = match &case.call {
            Call::Get(key)
            | Call::GetMissing(key)
            | Call::GetTagging(key)
            | Call::PutTagging(key)
            | Call::Put(key)
            | Call::Delete(key) => (format!("arn:aws:s3:::{}/{key}", self.bucket), json!({})),
            Call::List(prefix) => (
                format!("arn:aws:s3:::{}", self.bucket),
                json!({ "s3:prefix": prefix }),
            ),
            Call::Send(q) | Call::Receive(q) | Call::Attributes(q) => {
                (self.queue(*q).1.to_owned(), json!({}))
            }
        };
        json!({
            "principal": self.principal(case.who),
            "action": case.call.action(),
            "resource": resource,
            "accountId": self.account,
            "context": context,
            "identityPolicies": [self.user(case.who).2],
        })
    }
}

const fn function_of(who: Who) -> &'static str {
    match who {
        Who::Processor => PROCESSOR_BIN,
        _ => WORKER_BIN,
    }
}

/// Whether moto can decide the case: not a listing under a conditioned statement
/// (the app's people and the worker may list only some prefixes).
const fn moto_decides(case: &Case) -> bool {
    !matches!(
        (case.who, &case.call),
        (Who::AppUser | Who::AppViewer | Who::Worker, Call::List(_))
    )
}

/// Sets moto's `INITIAL_NO_AUTH_ACTION_COUNT` (and restarts its count): "0" turns
/// IAM enforcement on from the next request (every request must be signed by a
/// known key and allowed by its user's policies), "inf" (moto's default) off.
fn set_no_auth_count(endpoint: &str, count: &str) {
    let address = endpoint.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /moto-api/reset-auth HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{count}",
        count.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// The users, their rendered policies and keys, from `terraform show -json`; each
/// user's policy must be exactly what the stack renders for the principal.
fn users_of(state: &Value, outputs: &Value) -> Vec<(Who, String, Value, Credentials)> {
    let json_of = |value: &Value| -> Value { serde_json::from_str(&str_of(value)).unwrap() };
    [
        Who::Processor,
        Who::Worker,
        Who::AppUser,
        Who::AppViewer,
        Who::Operator,
    ]
    .into_iter()
    .map(|who| {
        let key = who.key();
        let user = resource(state, &format!(r#"aws_iam_user.iam_test["{key}"]"#));
        let policy = json_of(
            &resource(state, &format!(r#"aws_iam_user_policy.iam_test["{key}"]"#))["policy"],
        );
        let rendered = match who {
            Who::Processor | Who::Worker => json_of(
                &resource(state, &format!(r#"aws_iam_role_policy.functions["{key}"]"#))["policy"],
            ),
            Who::AppUser => json_of(&outputs["app_user_policy_json"]["value"]),
            Who::AppViewer => json_of(&outputs["app_viewer_policy_json"]["value"]),
            Who::Operator => json_of(&outputs["operator_policy_json"]["value"]),
        };
        assert_eq!(
            without_batch_actions(&policy),
            rendered,
            "{key}: the test user's policy is not the rendered one"
        );
        let access_key = resource(state, &format!(r#"aws_iam_access_key.iam_test["{key}"]"#));
        let credentials = Credentials::new(
            str_of(&access_key["id"]),
            str_of(&access_key["secret"]),
            None,
            None,
            "iam-test",
        );
        (who, str_of(&user["name"]), rendered, credentials)
    })
    .collect()
}

/// The simulator's verdicts, in order: `"Allowed"`, `"ExplicitlyDenied"` or
/// `"ImplicitlyDenied"`.
fn simulate(cases: &[Value]) -> Vec<String> {
    let dir = std::env::var_os("IAM_SIMULATOR").unwrap_or_else(|| {
        panic!(
            "IAM_SIMULATOR is not set: run the tests with `cargo xtask ci`, which installs \
             the IAM policy simulator (npm ci of lambdas/e2e/iam-simulator into \
             <target dir>/iam-simulator) and sets it"
        )
    });
    let script = Path::new(&dir).join("simulate.mjs");
    assert!(script.is_file(), "no {}", script.display());
    let mut node = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run node (install Node.js 20+): {err}"));
    node.stdin
        .take()
        .unwrap()
        .write_all(Value::from(cases.to_vec()).to_string().as_bytes())
        .unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "simulate.mjs failed");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), cases.len());
    results
        .iter()
        .zip(cases)
        .map(|(result, case)| {
            assert!(
                result["error"].is_null(),
                "the simulator refused {case}: {result}"
            );
            // A context key dropped as unknown would decide the case without it.
            assert_eq!(result["ignoredContextKeys"], json!([]), "{case}");
            str_of(&result["result"])
        })
        .collect()
}

/// Makes the call with `clients`: `Ok`, or the error's code (its debug form when it
/// has none).
async fn call(clients: &Clients, stack: &Stack, call: &Call) -> Result<(), String> {
    fn code<E: ProvideErrorMetadata + std::fmt::Debug>(
        err: &aws_sdk_s3::error::SdkError<E, HttpResponse>,
    ) -> String {
        if let Some(code) = err.code() {
            return code.to_owned();
        }
        // moto's IAM layer answers SQS's JSON protocol in the query protocol's XML,
        // which the SDK cannot parse: read the code from the body.
        let raw = err.raw_response();
        let body = raw.and_then(|r| r.body().bytes()).unwrap_or_default();
        let body = String::from_utf8_lossy(body);
        match body
            .split_once("<Code>")
            .and_then(|(_, rest)| rest.split_once("</Code>"))
        {
            Some((code, _)) if raw.is_some_and(|r| r.status().as_u16() == 403) => code.to_owned(),
            _ => format!("{err:?}"),
        }
    }
    // A call sent: `Ok`, or its error's code.
    macro_rules! sent {
        ($request:expr) => {
            $request.send().await.map(drop).map_err(|e| code(&e))
        };
    }
    let (s3, sqs, bucket) = (&clients.s3, &clients.sqs, &stack.bucket);
    match call {
        Call::Get(key) => sent!(s3.get_object().bucket(bucket).key(key)),
        // Allowed when the store got to say there is nothing there.
        Call::GetMissing(key) => match s3.get_object().bucket(bucket).key(key).send().await {
            Ok(_) => Err(format!("{key} exists: not a missing-key probe")),
            Err(err)
                if err.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(code(&err)),
        },
        Call::GetTagging(key) => sent!(s3.get_object_tagging().bucket(bucket).key(key)),
        Call::PutTagging(key) => {
            let tag = aws_sdk_s3::types::Tag::builder()
                .key("sha256")
                .value("probe")
                .build()
                .unwrap();
            let tagging = aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag)
                .build()
                .unwrap();
            sent!(
                s3.put_object_tagging()
                    .bucket(bucket)
                    .key(key)
                    .tagging(tagging)
            )
        }
        Call::Put(key) => sent!(
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from_static(b"probe"))
        ),
        Call::Delete(key) => sent!(s3.delete_object().bucket(bucket).key(key)),
        Call::List(prefix) => sent!(s3.list_objects_v2().bucket(bucket).prefix(*prefix)),
        Call::Send(queue) => sent!(
            sqs.send_message()
                .queue_url(stack.queue(*queue).0)
                .message_body("{}")
        ),
        Call::Receive(queue) => sent!(
            sqs.receive_message()
                .queue_url(stack.queue(*queue).0)
                .wait_time_seconds(0)
        ),
        Call::Attributes(queue) => {
            sent!(sqs.get_queue_attributes().queue_url(stack.queue(*queue).0))
        }
    }
}

/// The matrix: every principal's part of the contract, and calls just outside it.
/// Object keys are the pipeline run's (reads, deletes) or probes (writes).
fn matrix() -> Vec<Case> {
    use Call::{
        Attributes, Delete, Get, GetMissing, GetTagging, List, Put, PutTagging, Receive, Send,
    };
    use Queue::{Dlq, ProcessorFailures, Rotations};
    use Who::{AppUser, AppViewer, Operator, Processor, Worker};
    let original = || "original-uploads/photo.jpg".to_owned();
    let processed = || "processed/photo_256x256.jpg".to_owned();
    let rotation = || "augmented-images/90-degree/photo_90.jpg".to_owned();
    let failed = || "failed/notes.json".to_owned();
    // Keys with no object: a deleted image, as a late task or a late event sees it.
    let gone_original = || "original-uploads/gone.jpg".to_owned();
    let gone_processed = || "processed/gone_256x256.jpg".to_owned();
    let probe = |prefix: &str| format!("{prefix}iam-probe.jpg");
    let case = |who, call, allowed| Case { who, call, allowed };
    vec![
        // The processor: read uploads, write processed/ and failed/ (and read them
        // back: the S3 sequencer they record orders late events), queue rotations.
        case(Processor, Get(original()), true),
        case(Processor, Get(processed()), true),
        case(Processor, Get(failed()), true),
        case(Processor, List("original-uploads/"), true),
        case(Processor, GetMissing(gone_original()), true),
        case(Processor, GetMissing(gone_processed()), true),
        case(Processor, Put(probe("processed/")), true),
        case(Processor, Put(probe("failed/")), true),
        case(Processor, Send(Rotations), true),
        case(Processor, Send(ProcessorFailures), true),
        case(Processor, Get(rotation()), false),
        case(Processor, Put(probe("augmented-images/")), false),
        case(Processor, Put(probe("original-uploads/")), false),
        case(Processor, Receive(Rotations), false),
        case(Processor, Send(Dlq), false),
        case(Processor, Receive(ProcessorFailures), false),
        // The worker: read processed/, write augmented-images/, consume its queue.
        case(Worker, Get(processed()), true),
        case(Worker, Put(probe("augmented-images/")), true),
        case(Worker, Receive(Rotations), true),
        case(Worker, Attributes(Rotations), true),
        // A deleted image: NotFound (on AWS only with the listing of its own key,
        // which the worker asks when S3 answers 403), so its task ends as gone.
        case(Worker, GetMissing(gone_processed()), true),
        case(Worker, List("processed/gone_256x256.jpg"), true),
        case(Worker, List("processed/"), true),
        case(Worker, List("original-uploads/"), false),
        case(Worker, List(""), false),
        case(Worker, GetMissing(gone_original()), false),
        case(Worker, Put(probe("processed/")), false),
        case(Worker, Put(probe("failed/")), false),
        case(Worker, Get(original()), false),
        case(Worker, Send(Rotations), false),
        case(Worker, Receive(Dlq), false),
        case(Worker, Send(ProcessorFailures), false),
        // The app's user: upload, list, read outputs, delete.
        case(AppUser, Put(probe("original-uploads/")), true),
        case(AppUser, Get(processed()), true),
        case(AppUser, Get(rotation()), true),
        case(AppUser, Get(failed()), true),
        // Originals stay private: the duplicate question reads the hash's tag.
        case(AppUser, Get(original()), false),
        case(AppUser, GetMissing(gone_original()), false),
        case(AppUser, GetTagging(original()), true),
        case(AppUser, PutTagging(original()), true),
        case(AppUser, GetMissing(gone_processed()), true),
        case(AppUser, GetTagging(processed()), false),
        case(AppUser, List("original-uploads/photo."), true),
        case(AppUser, List("processed/"), true),
        case(AppUser, List("augmented-images/"), true),
        case(AppUser, List("failed/"), true),
        case(AppUser, List(""), false),
        case(AppUser, List("other/"), false),
        case(AppUser, Put(probe("processed/")), false),
        case(AppUser, Put(probe("augmented-images/")), false),
        case(AppUser, Put(probe("failed/")), false),
        case(AppUser, Put(probe("other/")), false),
        case(AppUser, Send(Rotations), false),
        case(AppUser, Receive(Rotations), false),
        // The app's viewer: list and read outputs.
        case(AppViewer, Get(processed()), true),
        case(AppViewer, Get(rotation()), true),
        case(AppViewer, Get(failed()), true),
        case(AppViewer, List("processed/"), true),
        case(AppViewer, List("original-uploads/"), false),
        case(AppViewer, Get(original()), false),
        case(AppViewer, GetTagging(original()), false),
        case(AppViewer, PutTagging(original()), false),
        case(AppViewer, GetMissing(gone_processed()), true),
        case(AppViewer, Put(probe("original-uploads/")), false),
        case(AppViewer, Delete(processed()), false),
        // The operator: status lists everything and reads outputs and records,
        // never an original's bytes; re-drive moves dead letters and reads the
        // processor's failures; nothing in the bucket is written.
        case(Operator, List(""), true),
        case(Operator, Get(processed()), true),
        case(Operator, Get(rotation()), true),
        case(Operator, Get(failed()), true),
        case(Operator, Get(original()), false),
        case(Operator, Attributes(Rotations), true),
        case(Operator, Attributes(Dlq), true),
        case(Operator, Attributes(ProcessorFailures), true),
        case(Operator, Receive(Dlq), true),
        case(Operator, Receive(ProcessorFailures), true),
        case(Operator, Send(Rotations), true),
        case(Operator, Receive(Rotations), false),
        case(Operator, Send(Dlq), false),
        case(Operator, Put(probe("original-uploads/")), false),
        case(Operator, Put(probe("processed/")), false),
        case(Operator, Delete(processed()), false),
        // Deletes last, after every read of what they delete.
        case(Processor, Delete(failed()), true),
        case(Processor, Delete(processed()), false),
        case(Worker, Delete(original()), false),
        case(Worker, Delete(probe("augmented-images/")), true),
        case(AppUser, Delete(original()), true),
        case(AppUser, Delete(processed()), true),
        case(AppUser, Delete(rotation()), true),
        case(AppUser, Delete(failed()), true),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_policies_allow_the_pipeline_and_deny_the_rest_on_moto_and_in_the_simulator() {
    let plugin_dir = plugin_dir();
    let (processor_exe, worker_exe) = build_lambdas();
    let moto = Moto::start().unwrap();
    let started = Instant::now();

    let tf = Terraform::prepare(&moto.endpoint);
    std::fs::write(tf.dir.path().join("iam_users.tf"), USERS_TF).unwrap();
    tf.ok(&[
        "init",
        "-no-color",
        &format!("-plugin-dir={}", plugin_dir.display()),
    ]);
    let mut apply = vec!["apply", "-auto-approve", "-no-color"];
    apply.extend(TARGETS);
    tf.ok(&apply);
    let apply_secs = started.elapsed().as_secs_f64();
    let outputs: Value = serde_json::from_str(&tf.ok(&["output", "-json"])).unwrap();
    assert!(
        outputs
            .get("kms_key_policy_json")
            .is_none_or(|o| o["value"].is_null()),
        "a key policy without kms_key_arn: {outputs}"
    );
    // Terraform leaves null outputs out of `output -json`; terraform_stack.rs lists
    // the names it must see.
    println!(
        "iam: kms_key_policy_json without a key is {}",
        if outputs.get("kms_key_policy_json").is_some() {
            "listed (null)"
        } else {
            "left out"
        }
    );
    let state: Value = serde_json::from_str(&tf.ok(&["show", "-json"])).unwrap();
    let queue = |address: &str| {
        let values = resource(&state, address);
        (str_of(&values["url"]), str_of(&values["arn"]))
    };
    let (rotations, dlq, failures) = (
        queue("aws_sqs_queue.rotations"),
        queue(r#"aws_sqs_queue.failures["rotations-dlq"]"#),
        queue(r#"aws_sqs_queue.failures["processor-failures"]"#),
    );
    let bucket = str_of(&resource(&state, "aws_s3_bucket.images")["bucket"]);
    let account = rotations.1.split(':').nth(4).unwrap().to_owned();
    let stack = Stack {
        users: users_of(&state, &outputs),
        bucket: bucket.clone(),
        account,
        queues: [
            (Queue::Rotations, rotations.0, rotations.1),
            (Queue::Dlq, dlq.0, dlq.1),
            (Queue::ProcessorFailures, failures.0, failures.1),
        ],
    };
    let env_of = |key: &str| -> Vec<(String, String)> {
        let function = resource(
            &state,
            &format!(r#"aws_lambda_function.functions["{key}"]"#),
        );
        let credentials = &stack
            .user(if key == "processor" {
                Who::Processor
            } else {
                Who::Worker
            })
            .3;
        function["environment"][0]["variables"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), str_of(v)))
            .chain([
                (
                    "AWS_ACCESS_KEY_ID".to_owned(),
                    credentials.access_key_id().to_owned(),
                ),
                (
                    "AWS_SECRET_ACCESS_KEY".to_owned(),
                    credentials.secret_access_key().to_owned(),
                ),
            ])
            .collect()
    };
    let (processor_env, worker_env) = (env_of("processor"), env_of("worker"));

    // From here, moto checks every request against the users' policies.
    set_no_auth_count(&moto.endpoint, "0");
    let app = stack.clients(&moto, Who::AppUser);
    let worker = stack.clients(&moto, Who::Worker);
    let unknown = moto.clients();
    let denied = unknown.s3.list_buckets().send().await.unwrap_err();
    assert_eq!(
        denied.code(),
        Some("InvalidAccessKeyId"),
        "moto does not enforce IAM: {denied:?}"
    );

    // The pipeline, every call made with the rendered policies.
    let photo = red_corner_photo();
    let uploads = [
        ("original-uploads/photo.jpg", photo),
        ("original-uploads/notes.jpg", b"not a photo".to_vec()),
    ];
    // As the app uploads: the real adapter, the hash as a tag in the same PUT.
    let app_store = S3Store::new(app.s3.clone(), &bucket);
    for (key, body) in &uploads {
        app_store
            .put(PutObject {
                key: (*key).to_owned(),
                body: body.clone(),
                content_type: "image/jpeg",
                metadata: vec![],
                tags: vec![("sha256", format!("{:x}", body.len()))],
                on_sent: None,
            })
            .await
            .unwrap_or_else(|err| panic!("the app's user cannot upload {key}: {err:?}"));
    }
    // The duplicate question reads the tag; the original itself stays unreadable.
    let (photo_key, photo_body) = &uploads[0];
    assert_eq!(
        app_store.object_tags(photo_key).await.unwrap(),
        Some(vec![(
            "sha256".to_owned(),
            format!("{:x}", photo_body.len())
        )])
    );
    let refused = app_store.head_metadata(photo_key).await.unwrap_err();
    assert!(
        matches!(
            &refused,
            StoreError::Backend {
                failure: Failure::Service {
                    status: Some(403),
                    ..
                },
                ..
            }
        ),
        "{refused:?}"
    );
    let api = RuntimeApi::start();
    let logs = tempfile::tempdir().unwrap();
    let _processor = api.start_function(
        &processor_exe,
        PROCESSOR_BIN,
        &moto,
        &as_refs(&processor_env),
        &logs.path().join("processor.log"),
    );
    let _worker = api.start_function(
        &worker_exe,
        WORKER_BIN,
        &moto,
        &as_refs(&worker_env),
        &logs.path().join("worker.log"),
    );
    for ((key, body), expected) in uploads.iter().zip([
        json!({"processed": 1, "rejected": 0, "skipped": 0}),
        json!({"processed": 0, "rejected": 1, "skipped": 0}),
    ]) {
        let event = json!({ "Records": [s3_record(&bucket, REGION, key, body.len())] });
        assert_eq!(api.invoke(PROCESSOR_BIN, &event), expected, "{key}");
    }
    let (rotations_url, rotations_arn) = stack.queue(Queue::Rotations);
    let received = worker
        .sqs
        .receive_message()
        .queue_url(rotations_url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .send()
        .await
        .unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 4, "{messages:?}");
    crate::operate::invoke_worker(&api, rotations_arn, messages);
    for message in messages {
        worker
            .sqs
            .delete_message()
            .queue_url(rotations_url)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    for angle in augment_pipeline::Angle::ALL {
        let key = format!("augmented-images/{angle}-degree/photo_{angle}.jpg");
        call(&app, &stack, &Call::Get(key.clone()))
            .await
            .unwrap_or_else(|err| panic!("the app's user cannot read {key}: {err}"));
    }

    // The matrix on moto.
    let cases = matrix();
    let mut moto_results = Vec::new();
    for case in &cases {
        if !moto_decides(case) {
            moto_results.push(None);
            continue;
        }
        let result = call(&stack.clients(&moto, case.who), &stack, &case.call).await;
        match (&result, case.allowed) {
            (Ok(()), true) => {}
            (Err(code), false) if code == ACCESS_DENIED => {}
            _ => panic!(
                "{:?} {:?}: expected {}, moto answered {result:?}",
                case.who,
                case.call,
                if case.allowed {
                    "allowed"
                } else {
                    ACCESS_DENIED
                }
            ),
        }
        moto_results.push(Some(result.is_ok()));
    }

    // The image deleted by the matrix (processed/ and the 90° rotation, as
    // Delete… does): its four tasks delivered again are done, not failed into the
    // dead-letter queue, and write nothing back.
    crate::operate::invoke_worker(&api, rotations_arn, messages);
    let rewritten = call(
        &app,
        &stack,
        &Call::GetMissing("augmented-images/90-degree/photo_90.jpg".to_owned()),
    )
    .await;
    assert_eq!(
        rewritten,
        Ok(()),
        "a task of a deleted image wrote its output again"
    );
    let worker_log = std::fs::read_to_string(logs.path().join("worker.log")).unwrap();
    assert!(worker_log.contains(r#""reason":"gone""#), "{worker_log}");

    // The same stack planned with a key (moto's checks off again; nothing calls
    // KMS): its key policy and the policies that change with it.
    set_no_auth_count(&moto.endpoint, "inf");
    std::fs::write(tf.dir.path().join("iam_kms_override.tf"), KMS_OVERRIDE_TF).unwrap();
    let kms_var = format!("kms_key_arn={KMS_KEY_ARN}");
    let mut plan = vec!["plan", "-no-color", "-out=kms.tfplan", "-var", &kms_var];
    plan.extend(TARGETS);
    // Nothing targeted depends on the key policy: name it, or its output is left out.
    plan.push("-target=data.aws_iam_policy_document.kms_key");
    tf.ok(&plan);
    let kms_plan: Value = serde_json::from_str(&tf.ok(&["show", "-json", "kms.tfplan"])).unwrap();

    // The matrix in the simulator, and the key policy with the policies beside it.
    let mut simulations: Vec<Value> = cases.iter().map(|case| stack.simulation(case)).collect();
    let kms = kms_cases(&stack, &state, &kms_plan);
    simulations.extend(kms.iter().map(|(_, simulation, _)| simulation.clone()));
    let verdicts = simulate(&simulations);
    let (matrix_verdicts, kms_verdicts) = verdicts.split_at(cases.len());
    let mut report = vec!["principal | call | resource | moto | simulator".to_owned()];
    for ((case, verdict), moto_result) in cases.iter().zip(matrix_verdicts).zip(&moto_results) {
        let expected = if case.allowed {
            "Allowed"
        } else {
            "ImplicitlyDenied"
        };
        assert_eq!(
            verdict, expected,
            "simulator: {:?} {:?}",
            case.who, case.call
        );
        let moto = moto_result.map_or("-", |ok| if ok { "allowed" } else { "denied" });
        report.push(format!(
            "{:?} | {} | {:?} | {moto} | {verdict}",
            case.who,
            case.call.action(),
            case.call
        ));
    }
    for ((label, simulation, allowed), verdict) in kms.iter().zip(kms_verdicts) {
        let expected = if *allowed {
            "Allowed"
        } else {
            "ImplicitlyDenied"
        };
        assert_eq!(verdict, expected, "simulator: {label}: {simulation}");
        report.push(format!(
            "{label} | {} | key | - | {verdict}",
            simulation["action"].as_str().unwrap()
        ));
    }
    println!("{}", report.join("\n"));
    println!(
        "iam: targeted apply {apply_secs:.0} s, whole test {:.0} s, {} moto calls, {} simulations",
        started.elapsed().as_secs_f64(),
        moto_results.iter().flatten().count(),
        simulations.len()
    );
}

/// The key policy the plan with `kms_key_arn` renders, checked for its shape, and
/// the KMS requests the stack makes (and some it must not), each as
/// `(label, simulation, allowed)`. `state` is the apply's (without the key).
fn kms_cases(stack: &Stack, state: &Value, plan: &Value) -> Vec<(String, Value, bool)> {
    let planned = &plan["planned_values"];
    let outputs = &planned["outputs"];
    let key_policy: Value =
        serde_json::from_str(&str_of(&outputs["kms_key_policy_json"]["value"])).unwrap();
    let policy_of = |address: &str| -> Value {
        let values = planned["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == address)
            .map(|r| &r["values"])
            .unwrap_or_else(|| panic!("{address} is not in the plan"));
        serde_json::from_str(&str_of(&values["policy"])).unwrap()
    };
    let processor_policy = policy_of(r#"aws_iam_role_policy.functions["processor"]"#);
    let worker_policy = policy_of(r#"aws_iam_role_policy.functions["worker"]"#);
    let user_policy: Value =
        serde_json::from_str(&str_of(&outputs["app_user_policy_json"]["value"])).unwrap();
    let viewer_policy: Value =
        serde_json::from_str(&str_of(&outputs["app_viewer_policy_json"]["value"])).unwrap();

    // The shape: the statements, their principals from the applied roles and
    // log groups.
    assert_eq!(key_policy["Version"], "2012-10-17");
    let statements = key_policy["Statement"].as_array().unwrap();
    let sids: Vec<&str> = statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(
        sids,
        [
            "AccountIamPolicies",
            "FunctionsThroughS3AndSqs",
            "LogGroups",
            "AlarmsToTopic"
        ]
    );
    let statement = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap();
    let account = &stack.account;
    assert_eq!(
        statement("AccountIamPolicies")["Principal"]["AWS"],
        json!(format!("arn:aws:iam::{account}:root"))
    );
    let as_set = |value: &Value| -> std::collections::BTreeSet<String> {
        match value {
            Value::Array(items) => items.iter().map(str_of).collect(),
            other => [str_of(other)].into(),
        }
    };
    let role_arns = ["processor", "worker"]
        .map(|key| str_of(&resource(state, &format!(r#"aws_iam_role.functions["{key}"]"#))["arn"]));
    assert_eq!(
        as_set(&statement("FunctionsThroughS3AndSqs")["Principal"]["AWS"]),
        role_arns.iter().cloned().collect()
    );
    assert_eq!(
        as_set(
            &statement("FunctionsThroughS3AndSqs")["Condition"]["StringEquals"]["kms:ViaService"]
        ),
        [
            format!("s3.{REGION}.amazonaws.com"),
            format!("sqs.{REGION}.amazonaws.com")
        ]
        .into()
    );
    let log_groups = ["processor", "worker"].map(|key| {
        str_of(
            &resource(
                state,
                &format!(r#"aws_cloudwatch_log_group.functions["{key}"]"#),
            )["arn"],
        )
    });
    let logs_statement = statement("LogGroups");
    assert_eq!(
        logs_statement["Principal"]["Service"],
        json!(format!("logs.{REGION}.amazonaws.com"))
    );
    assert_eq!(
        as_set(&logs_statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]),
        log_groups.iter().cloned().collect()
    );
    assert_eq!(
        statement("AlarmsToTopic")["Principal"]["Service"],
        "cloudwatch.amazonaws.com"
    );
    for policy in [&processor_policy, &worker_policy] {
        assert!(policy.to_string().contains(KMS_KEY_ARN), "{policy}");
    }

    // The requests.
    let request = |principal: String, action: &str, identity: Option<&Value>, context: Value| {
        let mut simulation = json!({
            "principal": principal,
            "action": action,
            "resource": KMS_KEY_ARN,
            "accountId": account,
            "context": context,
            "identityPolicies": identity.map_or_else(Vec::new, |p| vec![p.clone()]),
            "resourcePolicy": key_policy,
        });
        // The simulator's validation drops `kms:EncryptionContext:aws:logs:arn`
        // (a colon in the context key's name): evaluate those without it.
        if context_has_encryption_context(&simulation) {
            simulation["engine"] = json!("core");
        }
        simulation
    };
    let via =
        |service: &str| json!({ "kms:ViaService": format!("{service}.{REGION}.amazonaws.com") });
    let log_context = |arn: &str| json!({ "kms:EncryptionContext:aws:logs:arn": arn });
    let processor = stack.principal(Who::Processor);
    let worker = stack.principal(Who::Worker);
    let user = stack.principal(Who::AppUser);
    let viewer = stack.principal(Who::AppViewer);
    let logs = format!("logs.{REGION}.amazonaws.com");
    let foreign_group =
        format!("arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/someone-else");
    let cases = [
        (
            "processor: read an upload (S3)",
            request(
                processor.clone(),
                "kms:Decrypt",
                Some(&processor_policy),
                via("s3"),
            ),
            true,
        ),
        (
            "processor: write processed/ (S3)",
            request(
                processor.clone(),
                "kms:GenerateDataKey",
                Some(&processor_policy),
                via("s3"),
            ),
            true,
        ),
        (
            "processor: send a rotation task (SQS)",
            request(
                processor.clone(),
                "kms:GenerateDataKey",
                Some(&processor_policy),
                via("sqs"),
            ),
            true,
        ),
        (
            "processor: encrypt with the key itself",
            request(
                processor.clone(),
                "kms:Encrypt",
                Some(&processor_policy),
                json!({}),
            ),
            false,
        ),
        (
            "processor: schedule the key's deletion",
            request(
                processor,
                "kms:ScheduleKeyDeletion",
                Some(&processor_policy),
                json!({}),
            ),
            false,
        ),
        (
            "worker: receive a task (SQS)",
            request(
                worker.clone(),
                "kms:Decrypt",
                Some(&worker_policy),
                via("sqs"),
            ),
            true,
        ),
        (
            "worker: read processed/ (S3)",
            request(
                worker.clone(),
                "kms:Decrypt",
                Some(&worker_policy),
                via("s3"),
            ),
            true,
        ),
        (
            "worker: write a rotation (S3)",
            request(
                worker,
                "kms:GenerateDataKey",
                Some(&worker_policy),
                via("s3"),
            ),
            true,
        ),
        (
            "logs: write the processor's log group",
            request(
                logs.clone(),
                "kms:GenerateDataKey",
                None,
                log_context(&log_groups[0]),
            ),
            true,
        ),
        (
            "logs: read the worker's log group",
            request(
                logs.clone(),
                "kms:Decrypt",
                None,
                log_context(&log_groups[1]),
            ),
            true,
        ),
        (
            "logs: another log group",
            request(
                logs,
                "kms:GenerateDataKey",
                None,
                log_context(&foreign_group),
            ),
            false,
        ),
        (
            "cloudwatch: an alarm to the topic",
            request(
                "cloudwatch.amazonaws.com".to_owned(),
                "kms:GenerateDataKey",
                None,
                json!({}),
            ),
            true,
        ),
        (
            "cloudwatch: decrypt for the topic",
            request(
                "cloudwatch.amazonaws.com".to_owned(),
                "kms:Decrypt",
                None,
                json!({}),
            ),
            true,
        ),
        (
            "sns: not a principal of the key",
            request(
                "sns.amazonaws.com".to_owned(),
                "kms:GenerateDataKey",
                None,
                json!({}),
            ),
            false,
        ),
        (
            "app user: upload (S3)",
            request(
                user.clone(),
                "kms:GenerateDataKey",
                Some(&user_policy),
                via("s3"),
            ),
            true,
        ),
        (
            "app user: download (S3)",
            request(user.clone(), "kms:Decrypt", Some(&user_policy), via("s3")),
            true,
        ),
        (
            "app user: through SQS",
            request(user, "kms:Decrypt", Some(&user_policy), via("sqs")),
            false,
        ),
        (
            "app viewer: download (S3)",
            request(
                viewer.clone(),
                "kms:Decrypt",
                Some(&viewer_policy),
                via("s3"),
            ),
            true,
        ),
        (
            "app viewer: upload (S3)",
            request(
                viewer,
                "kms:GenerateDataKey",
                Some(&viewer_policy),
                via("s3"),
            ),
            false,
        ),
        (
            "another role of the account",
            request(
                format!("arn:aws:iam::{account}:role/someone-else"),
                "kms:Decrypt",
                None,
                via("s3"),
            ),
            false,
        ),
    ];
    cases
        .into_iter()
        .map(|(label, simulation, allowed)| (label.to_owned(), simulation, allowed))
        .collect()
}

fn context_has_encryption_context(simulation: &Value) -> bool {
    simulation["context"].as_object().is_some_and(|context| {
        context
            .keys()
            .any(|k| k.starts_with("kms:EncryptionContext:"))
    })
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// moto's names for batch calls, which AWS authorises as the single call's action.
const MOTO_BATCH_ACTIONS: [&str; 3] = [
    "sqs:SendMessageBatch",
    "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibilityBatch",
];

/// A test user's policy without the batch names `iam_users.tf` adds for moto, in
/// the rendered form (one action: a string).
fn without_batch_actions(policy: &Value) -> Value {
    let mut policy = policy.clone();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        let actions: Vec<Value> = match &statement["Action"] {
            Value::Array(actions) => actions.clone(),
            one => vec![one.clone()],
        };
        let kept: Vec<Value> = actions
            .into_iter()
            .filter(|a| !MOTO_BATCH_ACTIONS.contains(&a.as_str().unwrap()))
            .collect();
        statement["Action"] = match kept.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(kept),
        };
    }
    policy
}
