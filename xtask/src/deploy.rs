//! `cargo xtask deploy` / `destroy`: the stack in terraform/ in your AWS account.
//! Deploy: prerequisites, the ECR repositories first, both images built and pushed
//! tagged by git commit, then the rest applied with that tag. Destroy: after a typed
//! confirmation, lets Terraform empty the versioned bucket and the repositories,
//! then destroys everything. One Terraform workspace per environment.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail, ensure};
use xshell::{Shell, cmd};

use crate::flags;
use crate::images::{self, Engine};
use crate::paths::{project_root, target_dir};
use crate::terraform::{self, WorkDir};

/// When neither --region, the environment nor the AWS CLI's configuration names one.
const DEFAULT_REGION: &str = "us-east-1";
/// Hex digits of the commit in an image tag: unique in any real history.
const COMMIT_DIGITS: &str = "12";
/// The Lambda functions, as terraform/outputs.tf names their repositories.
const FUNCTIONS: [&str; 2] = ["image-processor", "rotation-worker"];
/// ECR's fixed user name for `get-login-password` tokens.
const ECR_USER: &str = "AWS";
/// What `deploy` applies first: the repositories the images are pushed to.
const ECR_TARGETS: [&str; 3] = [
    "-target=aws_ecr_repository.functions",
    "-target=aws_ecr_lifecycle_policy.functions",
    "-target=aws_ecr_repository_policy.functions",
];
/// What `destroy` updates before destroying: the two resources whose deletion
/// must also delete their contents (objects, images).
const FORCE_DESTROY_TARGETS: [&str; 2] = [
    "-target=aws_s3_bucket.images",
    "-target=aws_ecr_repository.functions",
];

/// Where Terraform runs: terraform/ itself for AWS (state per workspace there), or a
/// kept folder with the emulator override for an endpoint.
struct Stack {
    dir: PathBuf,
    emulator: Option<(WorkDir, String)>,
    region: String,
    environment: String,
}

impl Stack {
    fn open(sh: &Shell, options: &flags::Stack) -> Result<Self> {
        let version = terraform::require_terraform(sh)?;
        println!("{version}");
        let (dir, emulator) = match &options.endpoint_url {
            Some(url) => {
                let work = WorkDir::kept(
                    target_dir()
                        .join("terraform-emulator")
                        .join(&options.environment),
                    true,
                )?;
                (work.path().to_path_buf(), Some((work, url.clone())))
            }
            None => (project_root().join(terraform::TERRAFORM_DIR), None),
        };
        let region = match &options.region {
            Some(region) => region.clone(),
            None if emulator.is_some() => DEFAULT_REGION.to_owned(),
            None => default_region(sh),
        };
        let stack = Self {
            dir,
            emulator,
            region,
            environment: options.environment.clone(),
        };
        let plugin_dir = terraform::plugin_dir(false)?;
        {
            let _dir = sh.push_dir(&stack.dir);
            let _env = stack.env(sh);
            terraform::init(sh, plugin_dir.as_deref(), &[])?;
            if stack.emulator.is_none() {
                let environment = &stack.environment;
                cmd!(
                    sh,
                    "terraform workspace select -or-create=true {environment}"
                )
                .quiet()
                .run()?;
            }
        }
        Ok(stack)
    }

    fn env<'a>(&self, sh: &'a Shell) -> Vec<xshell::PushEnv<'a>> {
        let Some((work, url)) = &self.emulator else {
            return Vec::new();
        };
        let mut env = work.env(sh);
        env.push(sh.push_env("TF_VAR_emulator_endpoint", url));
        env
    }

    /// `terraform ARGS -var region=… -var environment=… EXTRA`, in the stack's folder.
    fn run(&self, sh: &Shell, args: &[&str], vars: &[String]) -> Result<()> {
        let _dir = sh.push_dir(&self.dir);
        let _env = self.env(sh);
        let region = format!("region={}", self.region);
        let environment = format!("environment={}", self.environment);
        cmd!(
            sh,
            "terraform {args...} -input=true -var {region} -var {environment} {vars...}"
        )
        .run()
        .with_context(|| format!("terraform {} failed (see above)", args.join(" ")))?;
        Ok(())
    }

    /// `terraform output -json`, or `null` for a stack without state.
    fn outputs(&self, sh: &Shell) -> Result<serde_json::Value> {
        let _dir = sh.push_dir(&self.dir);
        let _env = self.env(sh);
        let json = cmd!(sh, "terraform output -json -no-color")
            .quiet()
            .read()?;
        serde_json::from_str(&json).context("terraform output -json printed something else")
    }
}

/// The region the AWS CLI would use, else [`DEFAULT_REGION`].
fn default_region(sh: &Shell) -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|r| !r.is_empty()))
        .or_else(|| {
            cmd!(sh, "aws configure get region")
                .quiet()
                .ignore_stderr()
                .read()
                .ok()
                .filter(|r| !r.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

/// The AWS CLI and a credential from the standard chain; the account id.
fn require_aws(sh: &Shell) -> Result<String> {
    cmd!(sh, "aws --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .context(
            "the AWS CLI is not on PATH: install v2 \
             (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
        )?;
    let account = cmd!(
        sh,
        "aws sts get-caller-identity --query Account --output text"
    )
    .quiet()
    .read()
    .context(
        "no usable AWS credentials (the standard chain: AWS_* variables, ~/.aws profiles, \
         SSO): run `aws configure` or `aws sso login`, or set AWS_PROFILE, then try again",
    )?;
    Ok(account)
}

/// The git commit (short), with `-dirty-<unix time>` when the tree has changes: ECR
/// tags are immutable, so two different builds never share a tag.
fn commit_tag(sh: &Shell) -> Result<String> {
    let _root = sh.push_dir(project_root());
    let commit = cmd!(sh, "git rev-parse --short={COMMIT_DIGITS} HEAD")
        .quiet()
        .read()
        .context("cannot read the git commit to tag the images; pass --tag TAG")?;
    let dirty = !cmd!(sh, "git status --porcelain --untracked-files=no")
        .quiet()
        .read()?
        .is_empty();
    if !dirty {
        return Ok(commit);
    }
    let secs = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    println!("deploy: the working tree has uncommitted changes; tagging {commit}-dirty-{secs}");
    Ok(format!("{commit}-dirty-{secs}"))
}

pub fn deploy(flags: &flags::Deploy) -> Result<()> {
    let options = &flags.stack;
    let sh = Shell::new()?;
    let emulator = options.endpoint_url.is_some();
    // Prerequisites first, so nothing is half made for want of a tool.
    let engine = if emulator {
        None
    } else {
        let account = require_aws(&sh)?;
        let engine = images::engine(&sh)?;
        println!("deploy: AWS account {account}, images with {engine:?}");
        Some(engine)
    };
    let tag = match &flags.tag {
        Some(tag) => tag.clone(),
        None => commit_tag(&sh)?,
    };
    let stack = Stack::open(&sh, options)?;
    let tag_var = vec!["-var".to_owned(), format!("image_tag={tag}")];
    println!(
        "deploy: environment {}, region {}, image tag {tag}",
        stack.environment, stack.region
    );

    // The repositories, so the images have somewhere to go before the functions
    // that need them exist.
    let mut ecr_apply = vec!["apply", "-auto-approve"];
    ecr_apply.extend(ECR_TARGETS);
    stack.run(&sh, &ecr_apply, &tag_var)?;
    let outputs = stack.outputs(&sh)?;
    let repositories = &outputs["ecr_repository_urls"]["value"];
    if let Some(engine) = engine {
        push_images(&sh, engine, &stack.region, repositories, &tag)?;
    } else {
        println!("deploy: emulator: no images built or pushed (moto runs no containers)");
    }

    let mut apply = vec!["apply"];
    if options.yes {
        apply.push("-auto-approve");
    }
    stack.run(&sh, &apply, &tag_var)?;
    let outputs = stack.outputs(&sh)?;
    report_deployed(&stack, options, &outputs, &tag)
}

/// Saves the stack's outputs for the app's import and says how to use them.
fn report_deployed(
    stack: &Stack,
    options: &flags::Stack,
    outputs: &serde_json::Value,
    tag: &str,
) -> Result<()> {
    let bucket = outputs["bucket_name"]["value"]
        .as_str()
        .context("terraform output has no bucket_name: did the apply finish?")?;
    let region = outputs["region"]["value"].as_str().unwrap_or(&stack.region);
    let file = target_dir()
        .join("deploy")
        .join(&stack.environment)
        .join("terraform-outputs.json");
    std::fs::create_dir_all(file.parent().unwrap_or(&file))?;
    std::fs::write(&file, serde_json::to_string_pretty(outputs)?)?;
    let endpoint = options
        .endpoint_url
        .as_ref()
        .map(|url| format!(" --endpoint-url {url}"))
        .unwrap_or_default();
    println!(
        "\ndeployed: bucket {bucket} in {region} (images :{tag})\n\
         outputs saved to {}\n\n\
         Point the desktop app at it: Settings → Import Terraform outputs… → choose\n  {}\n\
         or from the command line:\n  augment upload photo.jpg --bucket {bucket} --region {region}{endpoint} --wait\n",
        file.display(),
        file.display(),
    );
    Ok(())
}

/// Logs in to ECR, then builds and pushes each function's image as `<url>:<tag>`,
/// skipping an image whose tag is already there (immutable tags: same tag, same build).
fn push_images(
    sh: &Shell,
    engine: Engine,
    region: &str,
    repositories: &serde_json::Value,
    tag: &str,
) -> Result<()> {
    let mut logged_in = None;
    for function in FUNCTIONS {
        let Some(url) = repositories[function].as_str() else {
            bail!(
                "terraform output ecr_repository_urls has no {function}: {repositories}; \
                 is terraform/outputs.tf in step with this task?"
            );
        };
        let Some((registry, repository)) = url.split_once('/') else {
            bail!("unexpected ECR repository URL {url}");
        };
        let image_id = format!("imageTag={tag}");
        let pushed = cmd!(
            sh,
            "aws ecr describe-images --region {region} --repository-name {repository} --image-ids {image_id}"
        )
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
        if pushed {
            println!("deploy: {url}:{tag} is already in ECR");
            continue;
        }
        if logged_in.as_deref() != Some(registry) {
            let password = cmd!(sh, "aws ecr get-login-password --region {region}")
                .quiet()
                .read()
                .context("aws ecr get-login-password failed")?;
            images::login(sh, engine, registry, ECR_USER, &password)?;
            logged_in = Some(registry.to_owned());
        }
        images::build_and_push(sh, engine, function, &format!("{url}:{tag}"))?;
        println!("deploy: pushed {url}:{tag}");
    }
    Ok(())
}

pub fn destroy(flags: &flags::Destroy) -> Result<()> {
    let options = &flags.stack;
    let sh = Shell::new()?;
    let stack = Stack::open(&sh, options)?;
    let outputs = stack.outputs(&sh)?;
    let Some(bucket) = outputs["bucket_name"]["value"].as_str() else {
        println!(
            "destroy: environment {} has no stack (no bucket in its state); nothing to do",
            stack.environment
        );
        return Ok(());
    };
    if !options.yes {
        confirm(bucket, &stack.environment)?;
    }
    // First only the bucket and the repositories learn that their contents go
    // with them (targeted: nothing else changes), then everything is destroyed.
    let force = vec!["-var".to_owned(), "force_destroy=true".to_owned()];
    let mut allow = vec!["apply", "-auto-approve"];
    allow.extend(FORCE_DESTROY_TARGETS);
    stack.run(&sh, &allow, &force)?;
    stack.run(&sh, &["destroy", "-auto-approve"], &force)?;
    println!(
        "destroyed: environment {} (bucket {bucket}, its objects, queues, functions, images)",
        stack.environment
    );
    Ok(())
}

/// Asks for the bucket name, as a typed confirmation.
fn confirm(bucket: &str, environment: &str) -> Result<()> {
    print!(
        "This deletes environment {environment}: bucket {bucket} with every object and \
         every old version in it, the queues (and any messages), both functions, their \
         logs and the images in ECR. It cannot be undone.\n\
         Type the bucket name to confirm: "
    );
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    ensure!(
        answer.trim() == bucket,
        "not confirmed (the answer was not `{bucket}`); nothing was changed"
    );
    Ok(())
}
