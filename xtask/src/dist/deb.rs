//! The CI check of the Linux installer: the .deb built from the test step's
//! binaries (packaging, not code generation, is under test), checked
//! the way a Debian or Ubuntu user meets it (as root or with passwordless
//! sudo: it installs the package on this machine and removes it again).
//!
//! 1. The icons: icoutils and libicns list every size in the `.ico` and `.icns`.
//! 2. `dpkg-deb -I`: name, version (Cargo's), architecture, `Depends`.
//! 3. `dpkg-deb -c`: both binaries, the desktop entry, an icon per hicolor size,
//!    the man pages, the AppStream and copyright files; their modes; owned by
//!    root.
//! 4. The desktop entry passes `desktop-file-validate` and opens JPEG and PNG;
//!    the AppStream file passes `appstreamcli validate`; it and CHANGELOG.md
//!    have this version's entry.
//! 5. `apt-get install ./….deb` (dpkg, plus the missing Depends); the installed
//!    binaries print their version; their man pages render without warnings;
//!    the desktop database lists the app for image/jpeg and image/png ("Open
//!    with").
//! 6. The installed app runs under Xvfb until a sample's rotations show, and
//!    every shared library it loaded belongs to a package its `Depends` pull in;
//!    its window is titled with the entry's Name, has the entry's
//!    `StartupWMClass` as `WM_CLASS` and carries an icon.
//! 7. `dpkg -r` removes every file it installed and the "Open with" entries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, Result, bail, ensure};
use xshell::{Shell, cmd};

use super::packager::{BINARIES, DEB_PACKAGE, cargo_package, package};
use crate::paths::target_dir;
use crate::{apt, icons, screenshot};

/// The tools the check runs, beyond the screenshot's Xvfb and Mesa.
const APT_PACKAGES: &[(&str, &str)] = &[
    ("appstream", "/usr/bin/appstreamcli"),
    ("binutils", "/usr/bin/objdump"),
    ("desktop-file-utils", "/usr/bin/desktop-file-validate"),
    ("icoutils", "/usr/bin/icotool"),
    ("icnsutils", "/usr/bin/icns2png"),
    ("x11-utils", "/usr/bin/xprop"),
];
/// Where the desktop database (`update-desktop-database`, run by dpkg's
/// trigger) records which apps open which MIME types.
const MIME_CACHE: &str = "/usr/share/applications/mimeinfo.cache";
/// The AppStream metadata software centres read.
const METAINFO: &str =
    "usr/share/metainfo/io.github.image_augmentation.augment_desktop.metainfo.xml";
/// The MIME types the desktop entry must open.
const MIME_TYPES: &[&str] = &["image/jpeg", "image/png"];

pub fn ci_check(sh: &Shell) -> Result<()> {
    apt::ensure_installed(sh, "the installer check", APT_PACKAGES)?;
    apt::ensure_installed(sh, "the installer check", screenshot::APT_PACKAGES)?;
    let work = target_dir().join("dist-ci");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    // The test step's debug build: packaging, not code generation, is under test.
    let binaries = screenshot::test_build(sh)?;
    let made = package(sh, &binaries, &work.join("out"), &["deb".to_owned()])?;
    let [deb] = made.as_slice() else {
        bail!("expected one .deb, cargo-packager made {made:?}");
    };
    let size = std::fs::metadata(deb)?.len();
    println!(
        "dist: {} ({:.1} MiB)",
        deb.display(),
        size as f64 / (1024.0 * 1024.0)
    );

    check_icons(sh, &work.join("out/icons"))?;
    let version = cargo_package(sh)?["version"]
        .as_str()
        .context("no version in cargo metadata")?
        .to_owned();
    let depends = check_control(sh, deb, &version)?;
    check_contents(sh, deb)?;
    let entry = check_desktop_entry(sh, deb, &work.join("extracted"))?;
    check_metainfo(sh, &work.join("extracted").join(METAINFO), &version)?;

    // Installed for real, as the README tells users to (apt installs the
    // Depends that are missing, then dpkg the package), and removed with
    // `dpkg -r` whatever happens in between.
    let root = apt::as_root(sh).context("installing the .deb needs root or passwordless sudo")?;
    install(sh, root, deb)?;
    let installed_files = cmd!(sh, "dpkg -L {DEB_PACKAGE}").read()?;
    let checked = check_installed(sh, &version, &depends, &entry, &work);
    let removed = remove(sh, root, &installed_files);
    checked?;
    removed?;
    println!("dist: the .deb installs, runs and uninstalls cleanly");
    Ok(())
}

/// `icotool -l` and `icns2png -l` list every size the installers need.
fn check_icons(sh: &Shell, dir: &Path) -> Result<()> {
    let ico = dir.join("icon.ico");
    let listing = cmd!(sh, "icotool -l {ico}").read()?;
    for size in icons::ICO_SIZES {
        ensure!(
            listing.contains(&format!("--width={size} --height={size}")),
            "{} has no {size}×{size} image:\n{listing}",
            ico.display()
        );
    }
    let icns = dir.join("icon.icns");
    // libicns 0.8 lists the Retina and small PNG types but can't parse them
    // (it says so on stderr); it decodes ic08 and ic09.
    let listing = cmd!(sh, "icns2png -l {icns}").ignore_stderr().read()?;
    for (kind, _) in icons::ICNS_ENTRIES {
        let kind = String::from_utf8_lossy(*kind);
        ensure!(
            listing.contains(&format!("'{kind}'")),
            "{} has no '{kind}' entry:\n{listing}",
            icns.display()
        );
    }
    Ok(())
}

/// Checks the control fields; returns the `Depends` package names.
fn check_control(sh: &Shell, deb: &Path, version: &str) -> Result<Vec<String>> {
    let control = cmd!(sh, "dpkg-deb -f {deb}").read()?;
    let fields = key_values(&control, ": ");
    let field = |name: &str| fields.get(name).copied().unwrap_or_default();
    ensure!(
        field("Package") == DEB_PACKAGE,
        "Package: {}",
        field("Package")
    );
    ensure!(
        field("Version") == version,
        "Version: {} (Cargo: {version})",
        field("Version")
    );
    ensure!(
        field("Architecture") == "amd64",
        "Architecture: {}",
        field("Architecture")
    );
    // Debian policy: the synopsis is under 80 characters; lintian warns about
    // extended description lines over 80.
    let synopsis = field("Description");
    ensure!(
        !synopsis.is_empty() && synopsis.chars().count() < 80,
        "the Description synopsis must be 1-79 characters: {synopsis:?}"
    );
    let too_long: Vec<&str> = control
        .lines()
        .skip_while(|line| !line.starts_with("Description:"))
        .skip(1)
        .filter(|line| line.chars().count() > 80)
        .collect();
    ensure!(
        too_long.is_empty(),
        "Description lines over 80 characters: {too_long:?}"
    );
    ensure!(
        field("Homepage").starts_with("https://"),
        "Homepage: {}",
        field("Homepage")
    );
    let depends: Vec<String> = field("Depends")
        .split(", ")
        .filter_map(|dep| dep.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    ensure!(
        field("Depends").starts_with("libc6 (>= 2."),
        "Depends must require a glibc version: {}",
        field("Depends")
    );
    for needed in ["libgl1", "libx11-6", "libxkbcommon0", "libwayland-client0"] {
        ensure!(
            depends.iter().any(|dep| dep == needed),
            "Depends lacks {needed}: {}",
            field("Depends")
        );
    }
    Ok(depends)
}

/// The files a user gets, at the paths the desktop looks in, owned by root.
fn check_contents(sh: &Shell, deb: &Path) -> Result<()> {
    let listing = cmd!(sh, "dpkg-deb -c {deb}").read()?;
    let mut entries = BTreeMap::new();
    for line in listing.lines() {
        // `-rwxr-xr-x root/root 12345 2026-01-01 00:00 ./usr/bin/augment`
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let (Some(mode), Some(owner), Some(path)) =
            (fields.first(), fields.get(1), fields.last())
        {
            let path = path.trim_start_matches("./").trim_start_matches('/');
            entries.insert(path.to_owned(), (mode.to_string(), owner.to_string()));
        }
    }
    const EXECUTABLE: &str = "-rwxr-xr-x";
    const DATA: &str = "-rw-r--r--";
    let mut expected: Vec<(String, &str)> = Vec::new();
    for binary in BINARIES {
        expected.push((format!("usr/bin/{binary}"), EXECUTABLE));
        expected.push((format!("usr/share/man/man1/{binary}.1.gz"), DATA));
    }
    expected.push((
        format!("usr/share/applications/{DEB_PACKAGE}.desktop"),
        DATA,
    ));
    expected.push((format!("usr/share/doc/{DEB_PACKAGE}/copyright"), DATA));
    expected.push((format!("usr/share/doc/{DEB_PACKAGE}/changelog.gz"), DATA));
    expected.push((METAINFO.to_owned(), DATA));
    for size in icons::PNG_SIZES {
        let icon = format!("usr/share/icons/hicolor/{size}x{size}/apps/{DEB_PACKAGE}.png");
        expected.push((icon, DATA));
    }
    for (path, mode) in expected {
        let Some((actual_mode, owner)) = entries.get(&path) else {
            bail!("the .deb has no {path}:\n{listing}");
        };
        ensure!(
            actual_mode == mode,
            "{path} has mode {actual_mode}, want {mode}"
        );
        // cargo-packager writes numeric ids only; dpkg installs them as root either way.
        ensure!(
            owner == "root/root" || owner == "0/0",
            "{path} is owned by {owner}, want root"
        );
    }
    Ok(())
}

/// The desktop entry is valid, starts the app with the files, shows its icon
/// and offers to open JPEG and PNG.
fn check_desktop_entry(sh: &Shell, deb: &Path, dir: &Path) -> Result<DesktopEntry> {
    cmd!(sh, "dpkg-deb -x {deb} {dir}").run()?;
    let entry = dir.join(format!("usr/share/applications/{DEB_PACKAGE}.desktop"));
    let complaints = cmd!(sh, "desktop-file-validate {entry}").read()?;
    ensure!(
        complaints.trim().is_empty(),
        "desktop-file-validate: {complaints}"
    );
    let text = std::fs::read_to_string(&entry)?;
    let keys = key_values(&text, "=");
    let key = |name: &str| keys.get(name).copied().unwrap_or_default();
    ensure!(
        key("Exec") == format!("{DEB_PACKAGE} %F"),
        "Exec={}",
        key("Exec")
    );
    ensure!(key("Icon") == DEB_PACKAGE, "Icon={}", key("Icon"));
    ensure!(!key("Name").is_empty(), "no Name");
    ensure!(!key("StartupWMClass").is_empty(), "no StartupWMClass");
    let mime: BTreeSet<&str> = key("MimeType")
        .split(';')
        .filter(|m| !m.is_empty())
        .collect();
    for wanted in MIME_TYPES {
        ensure!(
            mime.contains(wanted),
            "MimeType={} lacks {wanted}",
            key("MimeType")
        );
    }
    Ok(DesktopEntry {
        name: key("Name").to_owned(),
        wm_class: key("StartupWMClass").to_owned(),
    })
}

/// `key<separator>value` lines (a control file, a desktop entry) as a map.
fn key_values<'a>(text: &'a str, separator: &str) -> BTreeMap<&'a str, &'a str> {
    text.lines()
        .filter_map(|line| line.split_once(separator))
        .collect()
}

/// What the running app's window must match in its desktop entry.
struct DesktopEntry {
    /// The menu's name for the app: the window's title too.
    name: String,
    /// How docks and task bars tie the window to the entry (and its icon).
    wm_class: String,
}

/// The AppStream file is valid, and it and the changelog have an entry for
/// this version (so a version bump comes with its release notes).
fn check_metainfo(sh: &Shell, metainfo: &Path, version: &str) -> Result<()> {
    cmd!(sh, "appstreamcli validate --no-net {metainfo}")
        .quiet()
        .run()?;
    let text = std::fs::read_to_string(metainfo)?;
    ensure!(
        text.contains(&format!("<release version=\"{version}\"")),
        "{} has no <release version=\"{version}\"> (Cargo's version)",
        metainfo.display()
    );
    let changelog = std::fs::read_to_string(crate::paths::project_root().join("CHANGELOG.md"))?;
    ensure!(
        changelog.contains(&format!("## [{version}]")),
        "CHANGELOG.md has no `## [{version}]` entry (Cargo's version)"
    );
    Ok(())
}

/// `apt-get install ./the.deb`; with fresh package lists if the first try fails
/// (a new machine's lists may be missing or stale).
fn install(sh: &Shell, root: apt::Root, deb: &Path) -> Result<()> {
    let _env = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    let install = || {
        root.cmd(
            sh,
            "apt-get",
            ["install", "-y", "-qq", "--no-install-recommends"],
        )
        .arg(deb)
        .run()
    };
    if install().is_err() {
        root.cmd(sh, "apt-get", ["update", "-qq"]).run()?;
        install()?;
    }
    Ok(())
}

/// What a user checks after installing.
fn check_installed(
    sh: &Shell,
    version: &str,
    depends: &[String],
    entry: &DesktopEntry,
    work: &Path,
) -> Result<()> {
    for binary in BINARIES {
        let path = Path::new("/usr/bin").join(binary);
        let printed = cmd!(sh, "{path} --version").read()?;
        ensure!(
            printed.trim() == format!("{binary} {version}"),
            "{} --version printed {printed:?}",
            path.display()
        );
    }
    for binary in BINARIES {
        // What `man augment` shows; groff's warnings go to stderr.
        let page = Path::new("/usr/share/man/man1").join(format!("{binary}.1.gz"));
        let warnings = cmd!(sh, "man --warnings -l {page}")
            .env("MANPAGER", "cat")
            .read_stderr()?;
        ensure!(warnings.trim().is_empty(), "man {binary} warns: {warnings}");
        let text = cmd!(sh, "man -l {page}").env("MANPAGER", "cat").read()?;
        ensure!(
            text.contains(&format!("{binary} {version}")),
            "man {binary} does not show its version:\n{text}"
        );
    }
    let cache = std::fs::read_to_string(MIME_CACHE).unwrap_or_default();
    for mime in MIME_TYPES {
        ensure!(
            opens(&cache, mime),
            "{MIME_CACHE} does not list {DEB_PACKAGE}.desktop for {mime}: \"Open with\" would not offer the app"
        );
    }

    // The installed app, started as a menu would, until a sample's rotations show.
    let trace = work.join("ld-trace");
    std::fs::create_dir_all(&trace)?;
    let app = Path::new("/usr/bin").join(BINARIES[0]);
    let run = screenshot::scratch_dir("installed")?;
    let out = run.join("screenshot.png");
    {
        let _libs = sh.push_env("LD_DEBUG", "libs");
        let _output = sh.push_env("LD_DEBUG_OUTPUT", trace.join("pid"));
        screenshot::shoot(sh, &app, &run, &out, screenshot::SAMPLE)?;
    }
    let colours = screenshot::check_not_blank(&out)?;
    println!("dist: the installed app drew its window ({colours} colours)");
    check_libraries_declared(sh, &trace, &app, depends)?;
    check_window(sh, &app, entry)
}

/// Starts the installed app under Xvfb, waits for its window and prints its
/// X11 properties: `$1` is the app, `$2` the window title to wait for.
const WINDOW_PROBE: &str = r#"
"$1" & app=$!
for _ in $(seq 1 150); do
    window=$(xwininfo -root -children | awk -v title="$2" 'index($0, "\"" title "\":") { print $1; exit }')
    [ -n "$window" ] && break
    sleep 0.2
done
if [ -n "$window" ]; then
    xprop -id "$window" -notype WM_CLASS
    # -len: the icon's size only, not its pixels.
    xprop -id "$window" -notype -len 8 _NET_WM_ICON
fi
kill "$app"; wait "$app"
exit 0
"#;

/// The app's window as a dock sees it: titled with the menu's name, its
/// `WM_CLASS` is the entry's `StartupWMClass` (so the dock shows the entry's
/// icon and groups the window under it), and it carries its own icon.
fn check_window(sh: &Shell, app: &Path, entry: &DesktopEntry) -> Result<()> {
    let run = screenshot::scratch_dir("window")?;
    let args = [
        "-c".to_owned(),
        WINDOW_PROBE.to_owned(),
        "sh".to_owned(),
        app.display().to_string(),
        entry.name.clone(),
    ];
    let properties = screenshot::run_app(sh, Path::new("sh"), &run, &args)?;
    ensure!(
        properties.contains("WM_CLASS"),
        "no window titled {:?} (the desktop entry's Name) appeared",
        entry.name
    );
    let class_line = properties
        .lines()
        .find(|line| line.starts_with("WM_CLASS"))
        .unwrap_or_default();
    ensure!(
        class_line.contains(&format!("\"{}\"", entry.wm_class)),
        "the window's {class_line} does not match StartupWMClass={}",
        entry.wm_class
    );
    ensure!(
        properties.contains("_NET_WM_ICON = \tIcon ("),
        "the window has no icon (_NET_WM_ICON):\n{properties}"
    );
    println!(
        "dist: the window is titled {:?}, {class_line}, with an icon",
        entry.name
    );
    Ok(())
}

/// Whether the desktop database lists the app for `mime`.
fn opens(cache: &str, mime: &str) -> bool {
    let desktop_file = format!("{DEB_PACKAGE}.desktop");
    cache.lines().any(|line| {
        line.split_once('=').is_some_and(|(key, apps)| {
            key == mime && apps.split(';').any(|app| app == desktop_file)
        })
    })
}

/// Every shared library the app loaded (from the dynamic loader's trace: its
/// NEEDED libraries and what winit and glutin `dlopen`) belongs to a package
/// that `Depends` pulls in, so installing the .deb with apt gives a system
/// where the app starts.
fn check_libraries_declared(
    sh: &Shell,
    trace: &Path,
    app: &Path,
    depends: &[String],
) -> Result<()> {
    let marker = format!("transferring control: {}", app.display());
    let mut libraries = BTreeSet::new();
    let mut found = false;
    for entry in std::fs::read_dir(trace)? {
        let text = std::fs::read_to_string(entry?.path())?;
        if !text.contains(&marker) {
            continue; // Xvfb, xauth, the shell: not the app
        }
        found = true;
        for line in text.lines() {
            if let Some((_, library)) = line.split_once("calling init: ") {
                libraries.insert(library.trim().to_owned());
            }
        }
    }
    ensure!(
        found,
        "no loader trace of {} in {}",
        app.display(),
        trace.display()
    );

    let mut owners = BTreeSet::new();
    for library in &libraries {
        owners.insert(owning_package(sh, library)?);
    }
    let closure = dependency_closure(sh, depends)?;
    let undeclared: Vec<&String> = owners
        .iter()
        .filter(|pkg| !closure.contains(*pkg))
        .collect();
    ensure!(
        undeclared.is_empty(),
        "the app loaded libraries from {undeclared:?}, which its Depends ({}) do not pull in",
        depends.join(", ")
    );
    println!(
        "dist: the app loaded {} libraries from {} packages, all pulled in by Depends",
        libraries.len(),
        owners.len()
    );
    Ok(())
}

/// The Debian package a library file belongs to (`dpkg -S`; Debian's merged
/// /usr means the loader's `/lib/...` may be listed as `/usr/lib/...`).
fn owning_package(sh: &Shell, library: &str) -> Result<String> {
    let real = std::fs::canonicalize(library)
        .map_or_else(|_| library.to_owned(), |path| path.display().to_string());
    let candidates = [
        library.to_owned(),
        real.clone(),
        format!("/usr{library}"),
        real.strip_prefix("/usr").unwrap_or(&real).to_owned(),
    ];
    for candidate in candidates {
        if let Ok(found) = cmd!(sh, "dpkg -S {candidate}")
            .quiet()
            .ignore_stderr()
            .read()
        {
            // `libx11-6:amd64: /usr/lib/x86_64-linux-gnu/libX11.so.6`
            if let Some(package) = found.lines().next().and_then(|line| line.split(':').next()) {
                return Ok(package.to_owned());
            }
        }
    }
    bail!("no Debian package owns {library}")
}

/// The packages `depends` pull in, recursively (Depends and PreDepends only).
fn dependency_closure(sh: &Shell, depends: &[String]) -> Result<BTreeSet<String>> {
    let tree = cmd!(
        sh,
        "apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts
         --no-breaks --no-replaces --no-enhances {depends...}"
    )
    .quiet()
    .read()?;
    // Package lines start in column 0; `  Depends: <virtual>` lines are indented.
    let mut closure: BTreeSet<String> = tree
        .lines()
        .filter(|line| !line.starts_with(' ') && !line.is_empty())
        .map(|line| line.trim_matches(|c| c == '<' || c == '>').to_owned())
        .collect();
    closure.extend(
        tree.lines()
            .filter_map(|line| line.trim().strip_prefix("Depends: "))
            .map(|dep| dep.trim_matches(|c| c == '<' || c == '>').to_owned()),
    );
    Ok(closure)
}

/// `dpkg -r`, then every file the package installed is gone, and so are its
/// "Open with" entries.
fn remove(sh: &Shell, root: apt::Root, installed_files: &str) -> Result<()> {
    root.cmd(sh, "dpkg", ["-r", DEB_PACKAGE]).run()?;
    let format = "${Status}";
    let status = cmd!(sh, "dpkg-query -W -f={format} {DEB_PACKAGE}")
        .quiet()
        .ignore_stderr()
        .ignore_status()
        .read()?;
    ensure!(
        !status.contains("installed") || status.contains("not-installed"),
        "dpkg still lists {DEB_PACKAGE}: {status}"
    );
    let left: Vec<&str> = installed_files
        .lines()
        .filter(|path| Path::new(path).is_file())
        .collect();
    ensure!(left.is_empty(), "dpkg -r left files behind: {left:?}");
    let cache = std::fs::read_to_string(MIME_CACHE).unwrap_or_default();
    ensure!(
        !cache.contains(&format!("{DEB_PACKAGE}.desktop")),
        "{MIME_CACHE} still lists {DEB_PACKAGE}.desktop after removal"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::opens;

    #[test]
    fn opens_reads_the_mime_cache() {
        let cache = "[MIME Cache]\n\
image/jpeg=org.gnome.eog.desktop;augment-desktop.desktop;\n\
image/png=org.gnome.eog.desktop;\n";
        assert!(opens(cache, "image/jpeg"));
        assert!(!opens(cache, "image/png"));
        assert!(!opens(cache, "image/gif"));
        // Another app whose name merely contains ours does not count.
        assert!(!opens(
            "image/png=x-augment-desktop.desktop;\n",
            "image/png"
        ));
    }
}
