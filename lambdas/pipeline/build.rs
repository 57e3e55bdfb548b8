//! Records the version of the libjpeg-turbo that `turbojpeg-sys` built (or found),
//! read from its `jconfig.h`, for `imaging::libjpeg_turbo_version`: the C code
//! that reads every upload, whose version is what its advisories name.

use std::path::Path;

fn main() {
    // `turbojpeg-sys` (links = "turbojpeg") passes its include folders on.
    println!("cargo::rerun-if-env-changed=DEP_TURBOJPEG_INCLUDE");
    let version = std::env::var("DEP_TURBOJPEG_INCLUDE")
        .ok()
        .and_then(|dirs| {
            dirs.split(',')
                .find_map(|dir| std::fs::read_to_string(Path::new(dir).join("jconfig.h")).ok())
        })
        .and_then(|header| {
            header.lines().find_map(|line| {
                let value = line.trim().strip_prefix("#define LIBJPEG_TURBO_VERSION ")?;
                Some(value.trim().trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=AUGMENT_LIBJPEG_TURBO_VERSION={version}");
}
