//! The saved settings: which backend (local folder, AWS, an S3-compatible
//! endpoint) and how to reach it. Never a secret: credentials come from the
//! standard AWS chain (env, profiles, SSO) at connect time.

use std::path::{Path, PathBuf};

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};
use serde::{Deserialize, Serialize};

use crate::error::ClientError;

/// Overrides the folder the settings file lives in (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "AUGMENT_CONFIG_DIR";
/// Overrides the default local-mode data folder.
pub const DATA_DIR_ENV: &str = "AUGMENT_DATA_DIR";
/// The settings file's name inside the config folder.
pub const SETTINGS_FILE: &str = "settings.json";
/// A settings file larger than this is not ours: refuse rather than parse it.
const MAX_SETTINGS_BYTES: u64 = 64 * 1024;

/// Where uploads go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A folder on this machine laid out like the bucket; the pipeline runs
    /// in-process. Needs no account.
    #[default]
    Local,
    /// A deployed stack in AWS: profile, region, bucket.
    Aws,
    /// Any S3-compatible service (MinIO, LocalStack, moto) at `endpoint_url`.
    Custom,
}

/// Everything the app and `augment upload` save between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub mode: Mode,
    pub local: LocalSettings,
    pub aws: AwsSettings,
    /// Uploads at once; `None`: adapt to the link ([`crate::Concurrency`]).
    pub transfer_jobs: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalSettings {
    /// `None`: [`Settings::default_data_dir`].
    pub data_dir: Option<PathBuf>,
}

/// How to reach a bucket. Used by both [`Mode::Aws`] and [`Mode::Custom`]
/// (`endpoint_url` only by the latter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AwsSettings {
    /// A profile from the AWS config files; `None`: the default chain.
    pub profile: Option<String>,
    /// `None`: the profile's or the environment's region.
    pub region: Option<String>,
    pub bucket: String,
    /// Only for [`Mode::Custom`], e.g. `http://localhost:9000`.
    pub endpoint_url: Option<String>,
    /// The person has confirmed a custom endpoint over plain `http://` to another
    /// machine ([`is_insecure_endpoint`]): signed requests and images cross the
    /// network unencrypted. Without it such an endpoint is refused.
    pub allow_insecure_http: bool,
    /// What the operator's tools (`augment status`, `logs`, `redrive`, the app's
    /// pipeline line) reach beside the bucket: filled by the Terraform import.
    /// Boxed: most settings are local or a plain bucket, and the app's
    /// commands carry the settings by value.
    pub ops: Box<OpsSettings>,
}

/// The stack's queues, functions and log groups, as `desktop_config` names them.
/// Anything left empty is simply not asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpsSettings {
    /// The rotation queue.
    pub queue_url: Option<String>,
    /// The rotation tasks' dead-letter queue.
    pub dlq_url: Option<String>,
    /// The processor's on-failure destination.
    pub processor_failures_url: Option<String>,
    pub processor_function_name: Option<String>,
    pub worker_function_name: Option<String>,
    /// Both functions' CloudWatch log groups.
    pub log_groups: Vec<String>,
    /// The Lambda Invoke API somewhere else than the endpoint (an emulator that
    /// runs the real processor); `None`: the same endpoint as the rest.
    pub lambda_endpoint_url: Option<String>,
}

impl AwsSettings {
    /// Whether the endpoint is refused until the person allows plain HTTP: the
    /// app asks (and sets [`AwsSettings::allow_insecure_http`]), `augment upload`
    /// wants `--allow-http`.
    pub fn needs_http_confirmation(&self) -> bool {
        !self.allow_insecure_http
            && self
                .endpoint_url
                .as_deref()
                .is_some_and(is_insecure_endpoint)
    }
}

/// Whether requests to `endpoint` would cross the network unencrypted: an
/// `http://` URL whose host is not this machine (127.0.0.0/8, `::1`,
/// `localhost`). `https://` and loopback are never insecure.
pub fn is_insecure_endpoint(endpoint: &str) -> bool {
    let Some(rest) = endpoint.trim().strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

impl Settings {
    /// The settings file: `<config dir>/settings.json`, the config dir from
    /// `AUGMENT_CONFIG_DIR` or the OS's (e.g. `~/.config/augment` on Linux).
    pub fn path() -> Result<PathBuf, ClientError> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV) {
            return Ok(PathBuf::from(dir).join(SETTINGS_FILE));
        }
        project_dirs()
            .map(|dirs| dirs.config_dir().join(SETTINGS_FILE))
            .ok_or_else(no_home)
    }

    /// The saved settings, or the defaults (local mode) when there is no file
    /// yet. A file that does not parse is an error, not silently replaced.
    pub fn load() -> Result<Self, ClientError> {
        Self::load_from(&Self::path()?)
    }

    pub fn load_from(path: &Path) -> Result<Self, ClientError> {
        match std::fs::metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(err) => return Err(ClientError::io("Cannot read the settings", path, err)),
            Ok(meta) if meta.len() > MAX_SETTINGS_BYTES => {
                return Err(ClientError::invalid_settings(format!(
                    "The settings file is too large to be ours. Move it away and choose the settings again: {}",
                    path.display()
                )));
            }
            Ok(_) => {}
        }
        let text = std::fs::read_to_string(path)
            .map_err(|err| ClientError::io("Cannot read the settings", path, err))?;
        serde_json::from_str(&text).map_err(|err| {
            ClientError::invalid_settings(format!(
                "The settings file is damaged ({err}). Fix or delete it, then choose the settings again: {}",
                path.display()
            ))
        })
    }

    /// Saves atomically (a temporary file renamed into place), so a crash never
    /// leaves half a file.
    pub fn save(&self) -> Result<(), ClientError> {
        self.save_to(&Self::path()?)
    }

    pub fn save_to(&self, path: &Path) -> Result<(), ClientError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let io = |err| ClientError::io("Cannot save the settings", path, err);
        std::fs::create_dir_all(dir).map_err(io)?;
        let json = serde_json::to_vec_pretty(self).map_err(|err| io(std::io::Error::other(err)))?;
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        std::io::Write::write_all(&mut temp, &json).map_err(io)?;
        temp.persist(path).map_err(|err| io(err.error))?;
        Ok(())
    }

    /// Local mode's folder when none is set: `AUGMENT_DATA_DIR`, else the OS's
    /// data folder (e.g. `~/.local/share/augment` on Linux).
    pub fn default_data_dir() -> Result<PathBuf, ClientError> {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV) {
            return Ok(PathBuf::from(dir));
        }
        project_dirs()
            .map(|dirs| dirs.data_dir().to_owned())
            .ok_or_else(no_home)
    }

    /// The local data folder these settings use.
    pub fn data_dir(&self) -> Result<PathBuf, ClientError> {
        match &self.local.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => Self::default_data_dir(),
        }
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "augment")
}

fn no_home() -> ClientError {
    ClientError::invalid_settings(format!(
        "Cannot find a home folder for the settings. Set {CONFIG_DIR_ENV} and {DATA_DIR_ENV}."
    ))
}

impl AwsSettings {
    /// Bucket and region from what `terraform output -json` prints for the stack:
    /// `{"desktop_config": {"value": {"bucket": "...", "region": "..."}}}`.
    /// The profile and endpoint are left unset (they are this machine's choice).
    pub fn from_terraform_outputs(json: &str) -> Result<Self, ClientError> {
        #[derive(Deserialize)]
        struct Outputs {
            desktop_config: Output,
        }
        #[derive(Deserialize)]
        struct Output {
            value: Value,
        }
        #[derive(Deserialize)]
        struct Value {
            bucket: String,
            region: String,
            #[serde(flatten)]
            ops: OpsSettings,
        }
        let outputs: Outputs = serde_json::from_str(json).map_err(|err| {
            ClientError::invalid_settings(format!(
                "This is not the output of `terraform output -json` for this stack ({err}). Run it in the terraform/ folder after `terraform apply` and paste or choose its output."
            ))
        })?;
        let Value {
            bucket,
            region,
            ops,
        } = outputs.desktop_config.value;
        if bucket.trim().is_empty() || region.trim().is_empty() {
            return Err(ClientError::invalid_settings(
                "The Terraform outputs name no bucket or region. Run `terraform apply` first, then `terraform output -json`.",
            ));
        }
        Ok(Self {
            profile: None,
            region: Some(region),
            bucket,
            endpoint_url: None,
            allow_insecure_http: false,
            ops: Box::new(ops),
        })
    }
}

/// Profile names from the AWS config files (`~/.aws/config`, `~/.aws/credentials`,
/// or `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`), sorted, `default` first,
/// as the SDK's own profile file parser reads them (`[profile x]` in the config
/// file, `[x]` in the credentials file; `[sso-session x]` is not a profile).
/// Files that are missing or do not parse give no names.
pub async fn aws_profiles() -> Vec<String> {
    profiles_with(&Fs::real(), &Env::real()).await
}

async fn profiles_with(fs: &Fs, env: &Env) -> Vec<String> {
    let Ok(profiles) = aws_config::profile::load(fs, env, &EnvConfigFiles::default(), None).await
    else {
        return Vec::new();
    };
    let mut names: Vec<String> = profiles.profiles().map(str::to_owned).collect();
    names.sort_by(|a, b| (a != "default", a).cmp(&(b != "default", b)));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn profiles_come_from_both_files_default_first() {
        let config = "[default]\nregion = eu-west-1\n[profile work]\nsso_session = x\n[sso-session x]\nsso_region = eu-west-1\n[services s]\n";
        let credentials = "[work]\naws_access_key_id = A\n[ci]\naws_access_key_id = B\n";
        let env = Env::from_slice(&[("HOME", "/home/me")]);
        let fs = Fs::from_slice(&[
            ("/home/me/.aws/config", config),
            ("/home/me/.aws/credentials", credentials),
        ]);
        assert_eq!(profiles_with(&fs, &env).await, ["default", "ci", "work"]);
        assert!(profiles_with(&Fs::from_slice(&[]), &env).await.is_empty());
    }

    #[test]
    fn terraform_outputs_give_bucket_and_region() {
        let json = r#"{
          "desktop_config": {"sensitive": false, "type": ["object", {}],
            "value": {"bucket": "augment-abc123", "region": "eu-central-1"}},
          "queue_url": {"value": "https://sqs..."}
        }"#;
        let aws = AwsSettings::from_terraform_outputs(json).unwrap();
        assert_eq!(aws.bucket, "augment-abc123");
        assert_eq!(aws.region.as_deref(), Some("eu-central-1"));
        assert_eq!(aws.profile, None);
        assert_eq!(*aws.ops, OpsSettings::default());
    }

    #[test]
    fn terraform_outputs_give_the_operators_queues_functions_and_logs() {
        let json = r#"{"desktop_config": {"value": {"bucket": "b", "region": "eu-central-1",
            "queue_url": "https://sqs/q", "dlq_url": "https://sqs/d",
            "processor_failures_url": "https://sqs/f", "processor_function_name": "p",
            "worker_function_name": "w", "log_groups": ["/aws/lambda/p", "/aws/lambda/w"],
            "dashboard_name": "x"}}}"#;
        let ops = AwsSettings::from_terraform_outputs(json).unwrap().ops;
        assert_eq!(ops.dlq_url.as_deref(), Some("https://sqs/d"));
        assert_eq!(ops.processor_function_name.as_deref(), Some("p"));
        assert_eq!(ops.log_groups, ["/aws/lambda/p", "/aws/lambda/w"]);
    }

    #[test]
    fn wrong_terraform_outputs_say_what_to_run() {
        for json in ["", "{}", r#"{"desktop_config": {"value": {"bucket": ""}}}"#] {
            let err = AwsSettings::from_terraform_outputs(json).unwrap_err();
            assert_eq!(err.kind, crate::error::ErrorKind::InvalidSettings);
            assert!(err.message.contains("terraform"), "{}", err.message);
        }
    }

    #[test]
    fn settings_round_trip_and_missing_fields_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/settings.json");
        assert_eq!(Settings::load_from(&path).unwrap(), Settings::default());
        let settings = Settings {
            mode: Mode::Custom,
            local: LocalSettings {
                data_dir: Some("/data".into()),
            },
            aws: AwsSettings {
                profile: Some("work".into()),
                region: Some("eu-west-1".into()),
                bucket: "b".into(),
                endpoint_url: Some("http://localhost:9000".into()),
                allow_insecure_http: true,
                ops: Box::new(OpsSettings {
                    dlq_url: Some("http://localhost:9000/1/dlq".into()),
                    log_groups: vec!["/aws/lambda/p".into()],
                    ..OpsSettings::default()
                }),
            },
            transfer_jobs: Some(8),
        };
        settings.save_to(&path).unwrap();
        assert_eq!(Settings::load_from(&path).unwrap(), settings);

        std::fs::write(&path, r#"{"mode": "aws", "aws": {"bucket": "x"}}"#).unwrap();
        let loaded = Settings::load_from(&path).unwrap();
        assert_eq!(loaded.mode, Mode::Aws);
        assert_eq!(loaded.aws.bucket, "x");
        assert_eq!(loaded.local, LocalSettings::default());
        assert!(!loaded.aws.allow_insecure_http);

        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(
            Settings::load_from(&path).unwrap_err().kind,
            crate::error::ErrorKind::InvalidSettings
        );
    }

    #[test]
    fn plain_http_is_insecure_unless_it_stays_on_this_machine() {
        for endpoint in [
            "http://192.0.2.7:9000",
            "http://minio.example.com",
            "http://localhost.example.com:9000",
            "http://user@10.0.0.1/",
            "http://[2001:db8::1]:9000",
            "http://[::ffff:127.0.0.1]",
            " http://s3.internal ",
        ] {
            assert!(is_insecure_endpoint(endpoint), "{endpoint}");
        }
        for endpoint in [
            "https://minio.example.com",
            "http://localhost:9000",
            "http://LOCALHOST.",
            "http://127.0.0.1:5000/path",
            "http://127.42.0.9",
            "http://[::1]:9000",
            "http://evil@127.0.0.1",
        ] {
            assert!(!is_insecure_endpoint(endpoint), "{endpoint}");
        }
        let mut aws = AwsSettings {
            endpoint_url: Some("http://192.0.2.7:9000".into()),
            ..AwsSettings::default()
        };
        assert!(aws.needs_http_confirmation());
        aws.allow_insecure_http = true;
        assert!(!aws.needs_http_confirmation());
    }
}
