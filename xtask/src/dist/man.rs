//! Documentation for the Linux packages: the changelog, gzipped, and the man
//! pages (`man augment`, `man augment-desktop`),
//! written by help2man from each binary's `--help` and `--version`, so they
//! can't drift from the command lines. A binary with subcommands gets each
//! subcommand's help as a section of its page.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use xshell::{Shell, cmd};

use crate::apt;

/// Where the README lives (the workspace's `homepage`).
const HOMEPAGE: &str = "https://github.com/image-augmentation/image-augmentation";
/// Each binary with the one-line summary its page's NAME section shows.
const PAGES: &[(&str, &str)] = &[
    (
        "augment-desktop",
        "the Augment desktop app: drop images, get them back rotated four ways",
    ),
    (
        "augment",
        "fit images onto 256x256 and rotate them four ways, locally or on AWS",
    ),
];

/// Writes `<binary>.1.gz` for each binary into `dir`; returns (page, where the
/// package installs it) pairs.
pub fn write_pages(sh: &Shell, binaries_dir: &Path, dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    apt::ensure_installed(sh, "the man pages", &[("help2man", "/usr/bin/help2man")])?;
    std::fs::create_dir_all(dir)?;
    let mut pages = Vec::new();
    for (binary, summary) in PAGES {
        let program = binaries_dir.join(binary);
        let include = dir.join(format!("{binary}.h2m"));
        let mut sections = subcommand_sections(sh, &program, binary)?;
        sections.push_str(&see_also(binary));
        std::fs::write(&include, sections)?;
        let page = dir.join(format!("{binary}.1"));
        cmd!(
            sh,
            "help2man --no-info --no-discard-stderr --section=1 --name={summary}
             --include={include} --output={page} {program}"
        )
        .quiet()
        .run()
        .with_context(|| format!("help2man could not write the page of {binary}"))?;
        let gzipped = gzip_copy(sh, &page, &dir.join(format!("{binary}.1.gz")))?;
        pages.push((gzipped, format!("/usr/share/man/man1/{binary}.1.gz")));
    }
    Ok(pages)
}

/// A help2man include file with a COMMANDS section: each subcommand that
/// `--help` lists under "Commands:" (but `help`), with its own `--help`.
fn subcommand_sections(sh: &Shell, program: &Path, binary: &str) -> Result<String> {
    let help = cmd!(sh, "{program} --help").read()?;
    let subcommands: Vec<&str> = help
        .lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    if subcommands.is_empty() {
        return Ok(String::new());
    }
    let mut include = String::from("[COMMANDS]\n");
    for subcommand in subcommands {
        // Wrapped for an 80-column terminal, as `man` shows it (.nf keeps lines).
        let help = cmd!(sh, "{program} {subcommand} --help")
            .env("COLUMNS", "72")
            .read()?;
        include.push_str(&format!(".SS \"{binary} {subcommand}\"\n.nf\n"));
        include.push_str(&roff_literal(&help));
        include.push_str(".fi\n");
    }
    Ok(include)
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
        .filter(|(other, _)| *other != binary)
        .map(|(other, _)| format!(".BR {other} (1)"))
        .collect();
    format!(
        "[SEE ALSO]\n{}\n.PP\nThe guide:\n.UR {HOMEPAGE}#readme\n.UE\n",
        others.join(",\n")
    )
}

/// Text shown as is in roff: backslashes escaped, lines that would read as
/// requests (starting with `.` or `'`) guarded with `\&`, and non-ASCII
/// characters as groff's `\[uXXXX]` escapes (the page then renders the same in
/// any locale).
fn roff_literal(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        for c in line.chars() {
            match c {
                '\\' => out.push_str("\\e"),
                c if c.is_ascii() => out.push(c),
                c => out.push_str(&format!("\\[u{:04X}]", u32::from(c))),
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::roff_literal;

    #[test]
    fn roff_literal_keeps_text_from_reading_as_requests() {
        assert_eq!(
            roff_literal(".hidden\n'quoted\nC:\\path\nplain"),
            "\\&.hidden\n\\&'quoted\nC:\\epath\nplain\n"
        );
        assert_eq!(roff_literal("a… 256×256"), "a\\[u2026] 256\\[u00D7]256\n");
    }
}
