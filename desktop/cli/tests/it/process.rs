//! `augment process` as a person runs it: a folder of mixed files in, the bucket
//! layout out, checked file by file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{ImageFormat, Rgba, RgbaImage};

use super::{folder, jpeg, says, write};

fn augment(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_augment"))
        .args(args)
        .output()
        .expect("augment runs")
}

/// `augment process INPUT --out OUT [EXTRA]...`.
fn process(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "process",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    augment(&args)
}

fn png_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, _| {
        Rgba([200, 30, 30, if x < width / 2 { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Every channel of the pixel at `x`, `y` above `floor`: white, give or take
/// JPEG's noise.
fn whitish(image: &image::RgbImage, x: u32, y: u32, floor: u8) -> bool {
    image.get_pixel(x, y).0.iter().all(|&c| c > floor)
}

/// Every file under `root`, as `relative path → bytes`.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// A folder like a person's: good images of every shape, and bad files.
fn mixed_folder(dir: &Path) -> PathBuf {
    let input = dir.join("photos");
    write(&input.join("wide.jpg"), &jpeg(1200, 300));
    write(&input.join("Tall Photo.JPEG"), &jpeg(200, 900));
    write(&input.join("tiny.png"), &png_with_alpha(12, 8));
    write(&input.join("trip 2024/beach+sun ☀.JPG"), &jpeg(640, 480));
    write(&input.join("notes.jpg"), b"this is not an image");
    let whole = jpeg(400, 300);
    write(&input.join("cut.jpg"), &whole[..whole.len() / 3]);
    let mut huge = jpeg(16, 16);
    huge.resize(10 * 1024 * 1024 + 1, 0);
    write(&input.join("huge.jpg"), &huge);
    write(
        &input.join("readme.txt"),
        b"ignored: not an image extension",
    );
    input
}

#[test]
fn a_mixed_folder_becomes_the_bucket_layout() {
    let dir = tempfile::tempdir().unwrap();
    let input = mixed_folder(dir.path());
    let out = dir.path().join("out");

    let run = process(&input, &out, &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(1),
        "some files are rejected\n{stderr}"
    );

    // Each rejection on stderr with its code and file.
    for (code, file) in [
        ("unsupported_type", "notes.jpg"),
        ("corrupt", "cut.jpg"),
        ("too_large", "huge.jpg"),
    ] {
        assert!(
            stderr.lines().any(|l| l.contains(code) && l.contains(file)),
            "{code} {file} in:\n{stderr}"
        );
    }
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    // One summary line.
    assert!(stdout.starts_with("4 done, 3 rejected in "), "{stdout}");
    assert_eq!(stdout.lines().count(), 1);

    let files = tree(&out);
    let good = ["wide", "Tall Photo", "tiny", "trip 2024/beach+sun ☀"];
    let mut expected: Vec<String> = Vec::new();
    for name in good {
        expected.push(format!("processed/{name}_256x256.jpg"));
        for angle in [90, 180, 270, 360] {
            expected.push(format!(
                "augmented-images/{angle}-degree/{name}_{angle}.jpg"
            ));
        }
    }
    for name in ["notes", "cut", "huge"] {
        expected.push(format!("failed/{name}.json"));
    }
    for file in [
        "wide.jpg",
        "Tall Photo.JPEG",
        "tiny.png",
        "trip 2024/beach+sun ☀.JPG",
        "notes.jpg",
        "cut.jpg",
        "huge.jpg",
    ] {
        expected.push(format!("original-uploads/{file}"));
        assert_eq!(
            files[&format!("original-uploads/{file}")],
            std::fs::read(input.join(file)).unwrap(),
            "{file} copied as is"
        );
    }
    expected.sort();
    assert_eq!(files.keys().cloned().collect::<Vec<_>>(), expected);

    for (key, bytes) in &files {
        if key.starts_with("processed/") || key.starts_with("augmented-images/") {
            let image = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap();
            assert_eq!((image.width(), image.height()), (256, 256), "{key}");
            assert_eq!(image.color(), image::ColorType::Rgb8, "{key}");
        }
    }
    let record: serde_json::Value = serde_json::from_slice(&files["failed/huge.json"]).unwrap();
    assert_eq!(record["code"], "too_large");
    assert_eq!(record["source_key"], "original-uploads/huge.jpg");

    // The wide image sits centred between white bars.
    let wide = image::load_from_memory(&files["processed/wide_256x256.jpg"])
        .unwrap()
        .to_rgb8();
    assert!(whitish(&wide, 128, 5, 245), "white above");
    assert!(whitish(&wide, 128, 250, 245), "white below");
    assert!(wide.get_pixel(128, 128).0[2] < 200, "image in the middle");
    // The tiny PNG is not enlarged: 12x8 in the middle, transparent half on white.
    let tiny = image::load_from_memory(&files["processed/tiny_256x256.jpg"])
        .unwrap()
        .to_rgb8();
    assert!(whitish(&tiny, 122, 128, 230), "transparent half is white");
    let red = tiny.get_pixel(131, 128).0;
    assert!(red[0] > 150 && red[1] < 90, "opaque half is red: {red:?}");
    assert!(whitish(&tiny, 100, 128, 245), "no upscale");
}

#[test]
fn results_do_not_depend_on_the_number_of_jobs_and_reruns_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let input = mixed_folder(dir.path());
    let one = dir.path().join("one");
    let many = dir.path().join("many");
    let run_one = process(&input, &one, &["--jobs", "1"]);
    let run_many = process(&input, &many, &["--jobs", "4"]);
    assert_eq!(run_one.status.code(), Some(1));
    assert_eq!(run_many.status.code(), Some(1));
    let first = tree(&one);
    assert_eq!(first, tree(&many));

    let again = process(&input, &one, &["-q"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(again.stdout.is_empty(), "--quiet prints no summary");
    assert_eq!(tree(&one), first, "a re-run overwrites the same objects");
}

#[test]
fn all_good_exits_zero_and_the_output_folder_may_sit_inside_the_input() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.jpg"), &jpeg(300, 300));
    write(&dir.path().join("b.png"), &png_with_alpha(40, 40));
    let out = dir.path().join("out");
    for _ in 0..2 {
        let run = process(dir.path(), &out, &[]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(String::from_utf8_lossy(&run.stdout).starts_with("2 done, 0 rejected in "));
    }
    assert_eq!(tree(&out).len(), 2 * 6, "outputs are never taken as inputs");
}

#[test]
fn usage_errors_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let missing = dir.path().join("missing.jpg");
    for args in [
        vec!["process"],
        vec!["process", "x.jpg"],
        vec!["process", missing.to_str().unwrap(), "--out", out],
        vec!["process", dir.path().to_str().unwrap(), "--out", out],
        vec![
            "process",
            missing.to_str().unwrap(),
            "--out",
            out,
            "--jobs",
            "0",
        ],
        vec!["frobnicate"],
    ] {
        let run = augment(&args);
        assert_eq!(
            run.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(!run.stderr.is_empty());
    }
    assert!(!Path::new(out).exists(), "nothing written on a usage error");
}

#[test]
fn help_explains_layout_and_exit_status() {
    let run = augment(&["process", "--help"]);
    assert_eq!(run.status.code(), Some(0));
    let help = String::from_utf8_lossy(&run.stdout);
    for needle in [
        "--out",
        "--jobs",
        "failed/",
        "augmented-images/",
        "Exit status",
        "10 MiB",
    ] {
        assert!(help.contains(needle), "{needle} in:\n{help}");
    }
}

/// Names legal on Linux that a folder on some OS cannot hold as they are: each is
/// processed, and its outputs are files whose names every OS can hold, escaped
/// reversibly (`10:30` → `10%3A30`).
#[cfg(unix)]
#[test]
fn awkward_names_are_processed_into_names_every_os_can_hold() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photos");
    // (file, its copy under original-uploads/, its outputs' `<name>`): a device
    // name is one only with nothing but an extension after it (`CON_90.jpg` is
    // a file).
    let names = [
        ("10:30.jpg", "10%3A30.jpg", "10%3A30"),
        ("a\\b.jpg", "a%5Cb.jpg", "a%5Cb"),
        ("CON.jpg", "%43ON.jpg", "CON"),
        ("nul .png", "%6Eul .png", "nul "),
        ("COM¹.jpg", "%43OM¹.jpg", "COM¹"),
        ("conout$.JPG", "%63onout$.JPG", "conout$"),
        ("what?.jpeg", "what%3F.jpeg", "what%3F"),
        ("trip./x.jpg", "trip%2E/x.jpg", "trip%2E/x"),
        ("trip /y.jpg", "trip%20/y.jpg", "trip%20/y"),
    ];
    for (name, _, _) in names {
        write(&input.join(name), &jpeg(64, 48));
    }
    let out = dir.path().join("out");

    let run = process(&input, &out, &["--quiet"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");

    let files = tree(&out);
    for (name, upload, escaped) in names {
        for output in [
            format!("original-uploads/{upload}"),
            format!("processed/{escaped}_256x256.jpg"),
            format!("augmented-images/90-degree/{escaped}_90.jpg"),
            format!("augmented-images/360-degree/{escaped}_360.jpg"),
        ] {
            assert!(
                files.contains_key(&output),
                "{name}: {output} in {:?}",
                files.keys()
            );
        }
    }
    assert!(
        !files.keys().any(|file| file.starts_with("failed/")),
        "{:?}",
        files.keys()
    );
    // One file per output: no two names collapsed into one.
    assert_eq!(files.len(), names.len() * 6, "{:?}", files.keys());
}

/// A link that loops back to a folder above it, and one that points nowhere, are
/// skipped with a warning; the folder's other files are processed.
#[cfg(unix)]
#[test]
fn a_folder_with_a_symlink_loop_processes_its_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let photos = [("a.jpg", jpeg(64, 48)), ("sub/b.jpg", jpeg(48, 64))];
    let input = folder(&dir.path().join("photos"), &photos);
    std::os::unix::fs::symlink(&input, input.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("missing.jpg", input.join("gone.jpg")).unwrap();
    let out = dir.path().join("out");

    let run = process(&input, &out, &["--quiet"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    says(
        &stderr,
        &["WARN", "loop", "sub/loop", "points nowhere", "gone.jpg"],
    );
    let files = tree(&out);
    for output in ["processed/a_256x256.jpg", "processed/sub/b_256x256.jpg"] {
        assert!(files.contains_key(output), "{output} in {:?}", files.keys());
    }
}

#[test]
fn the_verbose_version_names_the_libjpeg_turbo_built_in() {
    let short = augment(&["--version"]);
    let stdout = String::from_utf8_lossy(&short.stdout);
    assert_eq!(short.status.code(), Some(0));
    assert_eq!(
        stdout.trim(),
        format!("augment {}", env!("CARGO_PKG_VERSION"))
    );

    let long = augment(&["--version", "--verbose"]);
    let stdout = String::from_utf8_lossy(&long.stdout);
    assert_eq!(long.status.code(), Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!("augment {}", env!("CARGO_PKG_VERSION")),
            format!(
                "libjpeg-turbo {}",
                augment_pipeline::imaging::libjpeg_turbo_version()
            )
        ]
    );
    assert!(lines[1].starts_with("libjpeg-turbo 3."), "{stdout}");
}
