//! The installers of the binaries: cargo-packager run on
//! `packaging/packager.toml`, completed here (version and metadata from Cargo,
//! the generated icons, on Linux the man pages, the changelog and the `libc6`
//! the binary needs). `cargo xtask dist` and the .deb check both package here.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

use super::man;
use crate::paths::project_root;
use crate::{icons, tools};

/// cargo-packager, pinned: one tool and one config for every OS's installer
/// (.deb, AppImage, NSIS, WiX, .app, .dmg), maintained by CrabNebula (the Tauri
/// bundler's authors).
pub const PACKAGER_VERSION: &str = "0.11.8";
/// The installer configuration, relative to the project root.
const CONFIG: &str = "packaging/packager.toml";
/// The Cargo package whose metadata is packaged, and which builds the app.
pub(super) const PACKAGE: &str = "augment-desktop";
/// The Debian package's name (also the main binary's and the desktop entry's).
pub(super) const DEB_PACKAGE: &str = "augment-desktop";
/// The binaries the installers carry; the first is the app.
pub(super) const BINARIES: &[&str] = &["augment-desktop", "augment"];

/// Makes the icons and the `formats` installers of the binaries in
/// `binaries_dir`, in `out_dir`; returns the installers' paths.
pub(super) fn package(
    sh: &Shell,
    binaries_dir: &Path,
    out_dir: &Path,
    formats: &[String],
) -> Result<Vec<PathBuf>> {
    for binary in BINARIES {
        let path = binaries_dir.join(format!("{binary}{}", std::env::consts::EXE_SUFFIX));
        ensure!(path.exists(), "no binary to package: {}", path.display());
    }
    std::fs::create_dir_all(out_dir)?;
    // Absolute, not canonical: Windows' canonical form (`\\?\C:\…`) is one
    // the NSIS and WiX tools don't read.
    let out_dir = std::path::absolute(out_dir)?;
    let binaries_dir = strip_binaries(sh, binaries_dir, &out_dir.join("bin"))?;
    let icons = icons::generate(&project_root().join(icons::SOURCE), &out_dir.join("icons"))?;
    let config = packager_config(sh, &binaries_dir, &out_dir, &icons)?;
    let config_path = out_dir.join("packager.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;

    let packager = tools::ensure(sh, "cargo-packager", PACKAGER_VERSION)?;
    let formats = formats.join(",");
    // Earlier builds' installers go first: what is left after this run is what
    // it made (and a release upload of `target/dist/*` can't pick up a stale one).
    for stale in installers_in(&out_dir)? {
        if stale.is_dir() {
            std::fs::remove_dir_all(&stale)?;
        } else {
            std::fs::remove_file(&stale)?;
        }
    }
    cmd!(sh, "{packager} --config {config_path} --formats {formats}").run()?;
    let made = installers_in(&out_dir)?;
    ensure!(
        !made.is_empty(),
        "cargo-packager made no installer in {}",
        out_dir.display()
    );
    Ok(made)
}

/// On Linux, copies of the binaries without their symbol tables, in `to`, as
/// Debian packages ship them (`dh_strip`; lintian flags unstripped binaries):
/// the release app goes from 32.0 to 27.3 MB. Cargo's release profile keeps the
/// symbols, so a `cargo run --release` backtrace still names functions.
/// Elsewhere the binaries as built.
fn strip_binaries(sh: &Shell, from: &Path, to: &Path) -> Result<PathBuf> {
    if !cfg!(target_os = "linux") {
        return Ok(std::path::absolute(from)?);
    }
    std::fs::create_dir_all(to)?;
    for binary in BINARIES {
        let (source, stripped) = (from.join(binary), to.join(binary));
        cmd!(sh, "strip --strip-all -o {stripped} {source}")
            .run()
            .context("strip (binutils) removes the symbol tables")?;
    }
    Ok(to.to_path_buf())
}

/// The installers (files, and macOS's `.app` folders) in `dir`.
fn installers_in(dir: &Path) -> Result<Vec<PathBuf>> {
    const EXTENSIONS: &[&str] = &["deb", "AppImage", "exe", "msi", "dmg", "app"];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_installer = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| EXTENSIONS.contains(&ext));
        if is_installer {
            found.push(path);
        }
    }
    Ok(found)
}

/// `packaging/packager.toml`, completed: the version, description, homepage and
/// authors from Cargo (so a release bump is one edit), the generated icons, the
/// binaries' folder, absolute paths (cargo-packager reads paths relative to the
/// config file, which is written to `out_dir`), and on Linux the man pages and
/// the `libc6` version the binary needs.
fn packager_config(
    sh: &Shell,
    binaries_dir: &Path,
    out_dir: &Path,
    icons: &icons::Icons,
) -> Result<Value> {
    let root = project_root();
    let text = std::fs::read_to_string(root.join(CONFIG))
        .with_context(|| format!("cannot read {CONFIG}"))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{CONFIG} is not valid TOML"))?;
    let mut config = serde_json::to_value(table)?;
    let package = cargo_package(sh)?;

    let icon_paths: Vec<String> = icons
        .pngs
        .iter()
        .chain([&icons.ico, &icons.icns])
        .map(|path| path.display().to_string())
        .collect();
    let object = config
        .as_object_mut()
        .with_context(|| format!("{CONFIG} is not a table"))?;
    for field in ["version", "description", "homepage", "authors"] {
        let value = package.get(field).cloned().unwrap_or(Value::Null);
        ensure!(
            !value.is_null(),
            "desktop/app/Cargo.toml has no `{field}` (the installers show it)"
        );
        object.insert(field.to_owned(), value);
    }
    // Without a name, cargo-packager looks for a Cargo.toml next to the config.
    object.insert("name".to_owned(), json!(PACKAGE));
    object.insert("icons".to_owned(), json!(icon_paths));
    object.insert("binariesDir".to_owned(), json!(binaries_dir));
    object.insert("outDir".to_owned(), json!(out_dir));

    if let Some(deb) = object.get_mut("deb").and_then(Value::as_object_mut) {
        complete_deb(sh, deb, binaries_dir, out_dir)?;
    }
    Ok(config)
}

/// The `deb` table completed: absolute paths, and on Linux the man pages, the
/// changelog and the `libc6` version the binary needs.
fn complete_deb(
    sh: &Shell,
    deb: &mut serde_json::Map<String, Value>,
    binaries_dir: &Path,
    out_dir: &Path,
) -> Result<()> {
    let root = project_root();
    let packaging = root.join("packaging");
    if let Some(template) = deb.get_mut("desktopTemplate") {
        let path = packaging.join(template.as_str().context("deb.desktopTemplate")?);
        *template = json!(path);
    }
    if let Some(files) = deb.get_mut("files").and_then(Value::as_object_mut) {
        let absolute = files
            .iter()
            .map(|(source, target)| (packaging.join(source).display().to_string(), target.clone()))
            .collect();
        *files = absolute;
    }
    if cfg!(target_os = "linux") {
        let pages = man::write_pages(sh, binaries_dir, &out_dir.join("man"))?;
        let files = deb
            .entry("files")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .context("deb.files must be a table")?;
        for (page, installed) in pages {
            files.insert(page.display().to_string(), json!(installed));
        }
        let changelog = man::gzip_copy(
            sh,
            &root.join("CHANGELOG.md"),
            &out_dir.join("changelog.gz"),
        )?;
        files.insert(
            changelog.display().to_string(),
            json!(format!("/usr/share/doc/{DEB_PACKAGE}/changelog.gz")),
        );
        let libc = libc6_dependency(sh, &binaries_dir.join(BINARIES[0]))?;
        let depends = deb
            .entry("depends")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .context("deb.depends must be a list")?;
        depends.insert(0, json!(libc));
    }
    Ok(())
}

/// The `augment-desktop` package as `cargo metadata` reports it (workspace
/// inheritance resolved).
pub(super) fn cargo_package(sh: &Shell) -> Result<Value> {
    let metadata = cmd!(sh, "cargo metadata --format-version 1 --no-deps --locked").read()?;
    let metadata: Value = serde_json::from_str(&metadata)?;
    metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == PACKAGE))
        .cloned()
        .with_context(|| format!("no `{PACKAGE}` package in cargo metadata"))
}

/// `libc6 (>= 2.N)`, N the newest `GLIBC_2.N` symbol version the binary
/// imports: dpkg then refuses the package on a system whose glibc is too old,
/// rather than the app failing to start.
fn libc6_dependency(sh: &Shell, binary: &Path) -> Result<String> {
    let symbols = cmd!(sh, "objdump -T {binary}")
        .quiet()
        .read()
        .context("objdump (binutils) reads the glibc version the binary needs")?;
    let version = newest_glibc(&symbols)
        .with_context(|| format!("no GLIBC_ symbol versions in {}", binary.display()))?;
    Ok(format!("libc6 (>= {version})"))
}

/// The newest `GLIBC_x.y[.z]` version in `objdump -T` output (`(GLIBC_2.2.5)`
/// or `GLIBC_2.34`), compared as numbers: 2.34 is newer than 2.4.
fn newest_glibc(symbols: &str) -> Option<String> {
    let (major, minor, patch) = symbols
        .split_whitespace()
        .filter_map(|word| word.trim_matches(['(', ')']).strip_prefix("GLIBC_"))
        .filter_map(|version| {
            let mut parts = version.split('.').map(str::parse::<u32>);
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(Ok(major)), Some(Ok(minor)), None, None) => Some((major, minor, 0)),
                (Some(Ok(major)), Some(Ok(minor)), Some(Ok(patch)), None) => {
                    Some((major, minor, patch))
                }
                _ => None,
            }
        })
        .max()?;
    Some(if patch == 0 {
        format!("{major}.{minor}")
    } else {
        format!("{major}.{minor}.{patch}")
    })
}

#[cfg(test)]
mod tests {
    use super::newest_glibc;

    #[test]
    fn newest_glibc_compares_versions_as_numbers() {
        let objdump = "\
0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.2.5) free
0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) __libc_start_main
0000000000000000  w   DF *UND*  0000000000000000 (GLIBC_2.4) __stack_chk_fail
0000000000000000      DO *UND*  0000000000000000  GLIBC_PRIVATE _rtld_global";
        assert_eq!(newest_glibc(objdump).as_deref(), Some("2.34"));
        assert_eq!(newest_glibc("(GLIBC_2.2.5) free").as_deref(), Some("2.2.5"));
        assert_eq!(newest_glibc("a static binary: no versions"), None);
    }
}
