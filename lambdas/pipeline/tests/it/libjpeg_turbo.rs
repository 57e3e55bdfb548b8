//! The libjpeg-turbo built in is not one its known CVEs affect
//! (`libjpeg-turbo-cves.csv`, from upstream's ChangeLog): `RustSec` covers Rust
//! crates, not the bundled C library that reads every upload.

use augment_pipeline::imaging::libjpeg_turbo_version;

/// `3.1.0` → `[3, 1, 0]`; `None` for anything else.
fn parse(version: &str) -> Option<Vec<u32>> {
    version.split('.').map(|part| part.parse().ok()).collect()
}

#[test]
fn the_built_libjpeg_turbo_has_no_known_cve() {
    let built = libjpeg_turbo_version();
    let version = parse(built).unwrap_or_else(|| panic!("version not read: {built:?}"));
    assert!(
        version >= vec![3, 1, 0],
        "older than turbojpeg-sys 1.2.0 bundles: {built}"
    );
    let list = include_str!("../../libjpeg-turbo-cves.csv");
    let rows: Vec<Vec<&str>> = list
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .skip(1)
        .map(|line| line.splitn(4, ',').collect())
        .collect();
    assert!(rows.len() >= 19, "the list lost rows: {}", rows.len());
    for row in rows {
        let [cve, introduced, fixed, what] = row[..] else {
            panic!("a row is not cve,introduced,fixed,what: {row:?}")
        };
        assert!(cve.starts_with("CVE-") && !what.is_empty(), "{row:?}");
        let fixed = parse(fixed).unwrap_or_else(|| panic!("{cve}: fixed {fixed:?}"));
        let introduced = match introduced {
            "" => Vec::new(),
            version => parse(version).unwrap_or_else(|| panic!("{cve}: {version:?}")),
        };
        assert!(
            version < introduced || version >= fixed,
            "libjpeg-turbo {built} is affected by {cve} ({what}); fixed in {fixed:?}"
        );
    }
}
