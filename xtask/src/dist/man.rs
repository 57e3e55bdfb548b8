//! Documentation for the Linux packages: the changelog, gzipped, and the man
//! pages (`man augment`, `man augment-desktop`), written by each binary from its
//! own clap definitions (`--generate-man-page`, `clap_mangen`), so they can't drift
//! from the command lines. `augment`'s page has a section per subcommand with its
//! options.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, ensure};
use xshell::{Shell, cmd};

/// Where the README lives (the workspace's `homepage`).
const HOMEPAGE: &str = "https://github.com/image-augmentation/image-augmentation";
/// The binaries with a page.
const PAGES: &[&str] = &["augment-desktop", "augment"];

/// Writes `<binary>.1.gz` for each binary into `dir`; returns (page, where the
/// package installs it) pairs.
pub fn write_pages(sh: &Shell, binaries_dir: &Path, dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    std::fs::create_dir_all(dir)?;
    let mut pages = Vec::new();
    for binary in PAGES {
        let program = binaries_dir.join(binary);
        let mut roff = cmd!(sh, "{program} --generate-man-page")
            .quiet()
            .read()
            .with_context(|| format!("{binary} could not write its man page"))?;
        ensure!(
            roff.contains(".TH"),
            "{binary} --generate-man-page printed no page"
        );
        roff.push('\n');
        roff.push_str(&see_also(binary));
        let page = dir.join(format!("{binary}.1"));
        std::fs::write(&page, ascii_roff(&roff))?;
        let gzipped = gzip_copy(sh, &page, &dir.join(format!("{binary}.1.gz")))?;
        pages.push((gzipped, format!("/usr/share/man/man1/{binary}.1.gz")));
    }
    Ok(pages)
}

/// `from` compressed into `to`, as Debian ships documentation. `-n`: no name or
/// time stamp in the archive, so the package is reproducible.
pub fn gzip_copy(sh: &Shell, from: &Path, to: &Path) -> Result<PathBuf> {
    let compressed = cmd!(sh, "gzip -n -9 -c {from}").quiet().output()?.stdout;
    std::fs::write(to, compressed)?;
    Ok(to.to_path_buf())
}

/// A SEE ALSO section naming the other pages and the project's README.
fn see_also(binary: &str) -> String {
    let others: Vec<String> = PAGES
        .iter()
        .filter(|other| **other != binary)
        .map(|other| format!(".BR {other} (1)"))
        .collect();
    format!(
        ".SH \"SEE ALSO\"\n{}\n.PP\nThe guide:\n.UR {HOMEPAGE}#readme\n.UE\n",
        others.join(",\n")
    )
}

/// Non-ASCII characters as groff's `\[uXXXX]` escapes, so the page renders the
/// same in any locale (the help texts have `×`, `°`, `…`).
fn ascii_roff(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ascii_roff;

    #[test]
    fn non_ascii_becomes_groff_escapes() {
        assert_eq!(
            ascii_roff("a… 256×256\n.B x"),
            "a\\[u2026] 256\\[u00D7]256\n.B x"
        );
    }
}
