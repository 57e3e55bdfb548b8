//! The OCI side of the offline build: a throwaway local registry and a buildah
//! storage of our own.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};

/// A throwaway `docker-registry` on a free loopback port, with its own config and
/// storage in `dir`; stopped when dropped.
pub(super) struct Registry {
    child: Child,
    pub(super) addr: String,
    log: PathBuf,
}

impl Registry {
    pub(super) fn start(dir: &Path) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.join("registry.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: {addr}\n",
                dir.join("registry").display()
            ),
        )?;
        let log = dir.join("registry.log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log)?)
            .spawn()
            .context("could not start docker-registry (Debian package `docker-registry`)")?;
        let mut registry = Self { child, addr, log };
        registry.wait_ready()?;
        Ok(registry)
    }

    /// Until `GET /v2/` answers 200.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = fs::read_to_string(&self.log).unwrap_or_default();
                bail!("docker-registry exited ({status}) on {}:\n{log}", self.addr);
            }
            if let Ok(mut stream) = TcpStream::connect(&self.addr) {
                stream.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n")?;
                let mut response = String::new();
                // A registry still starting may close early; then try again.
                let _ = stream.read_to_string(&mut response);
                if response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200") {
                    return Ok(());
                }
            }
            ensure!(
                Instant::now() < deadline,
                "docker-registry did not answer on {} within 20 s",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Stopping our own child; nothing more to do if it has already exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A buildah storage of our own (vfs: no overlay or fuse needed), so runs here never
/// meet the machine's default storage or its driver.
pub(super) struct Storage {
    pub(super) args: Vec<String>,
}

impl Storage {
    pub(super) fn new(dir: &Path) -> Self {
        let path = |name: &str| dir.join(name).display().to_string();
        Self {
            args: vec![
                "--root".into(),
                path("storage"),
                "--runroot".into(),
                path("run"),
                "--storage-driver".into(),
                "vfs".into(),
            ],
        }
    }
}

pub(super) fn print_push_hint(storage: &Storage) {
    println!(
        "push to ECR: buildah {} push localhost/<function>:latest \
         docker://<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>",
        storage.args.join(" ")
    );
}
