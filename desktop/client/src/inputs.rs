//! Turning what a person names (files, folders) into uploads with unique keys.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use augment_pipeline::UploadKey;
use augment_pipeline::contract::is_upload_extension;

/// One file to upload, and the key it gets under `original-uploads/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub upload: UploadKey,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("no such file or folder: {}", .0.display())]
    NotFound(PathBuf),
    #[error("cannot read the folder: {}", path.display())]
    Walk {
        path: PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error("no .jpg, .jpeg or .png files found in: {}", .0.display())]
    NoImages(PathBuf),
}

/// Whether the file name ends in `.jpg`, `.jpeg` or `.png`, in any case.
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(is_upload_extension)
}

/// The `n`th name for `name` when earlier ones are taken: `cat`, `cat-2`,
/// `cat-3`… (here for a batch, and in the bucket by `Remote::choose_upload_key`).
pub fn numbered(name: &str, n: u32) -> String {
    if n <= 1 {
        name.to_owned()
    } else {
        format!("{name}-{n}")
    }
}

/// Files named directly are taken whatever their extension (the pipeline judges
/// them by content); folders are searched recursively for image extensions, in
/// sorted order, skipping `exclude` (the output folder, when it is inside an input
/// folder). A file's upload name keeps its path below the folder named, so
/// sub-folders survive. Names that would collide (also by case only, as on macOS
/// and Windows, or by extension only, since `cat.jpg` and `cat.png` share outputs)
/// get `-2`, `-3`… so no upload overwrites another.
pub fn collect(paths: &[PathBuf], exclude: Option<&Path>) -> Result<Vec<Input>, InputError> {
    let exclude = exclude.and_then(|dir| dir.canonicalize().ok());
    let mut found: Vec<(PathBuf, String, String)> = Vec::new();
    for path in paths {
        if path.is_file() {
            found.push(named(path, path.file_name().map(Path::new).unwrap_or(path)));
        } else if path.is_dir() {
            let before = found.len();
            let walker = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|entry| {
                    exclude
                        .as_ref()
                        .is_none_or(|ex| entry.path().canonicalize().ok().as_ref() != Some(ex))
                });
            for entry in walker {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(err) if skippable(&err) => continue,
                    Err(source) => {
                        return Err(InputError::Walk {
                            path: path.clone(),
                            source,
                        });
                    }
                };
                if entry.file_type().is_file() && has_image_extension(entry.path()) {
                    let relative = entry.path().strip_prefix(path).unwrap_or(entry.path());
                    found.push(named(entry.path(), relative));
                }
            }
            if found.len() == before {
                return Err(InputError::NoImages(path.clone()));
            }
        } else {
            return Err(InputError::NotFound(path.clone()));
        }
    }

    let mut taken = HashSet::new();
    let inputs = found
        .into_iter()
        .filter_map(|(path, name, ext)| {
            let unique = (1..)
                .map(|n| numbered(&name, n))
                .find(|candidate| taken.insert(candidate.to_lowercase()))?;
            let upload = UploadKey::from_name(&unique, &ext).ok()?;
            Some(Input { path, upload })
        })
        .collect();
    Ok(inputs)
}

/// A link the walk cannot follow, skipped with a warning so the rest of the
/// folder goes on: one back to a folder that contains it (followed, it would
/// never end), or one that points nowhere.
fn skippable(err: &walkdir::Error) -> bool {
    let Some(path) = err.path() else {
        return false;
    };
    if err.loop_ancestor().is_some() {
        tracing::warn!(
            "skipped a link to a folder that contains it (a loop): {}",
            path.display()
        );
        return true;
    }
    let dangling = err
        .io_error()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
        && path.symlink_metadata().is_ok_and(|meta| meta.is_symlink());
    if dangling {
        tracing::warn!("skipped a link that points nowhere: {}", path.display());
    }
    dangling
}

/// `(path, name, extension)` for a file, its name from `relative` with `/`
/// separators on every OS.
fn named(path: &Path, relative: &Path) -> (PathBuf, String, String) {
    let ext = relative
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = relative.with_extension("");
    let name = stem
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    (path.to_owned(), name, ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    fn keys(inputs: &[Input]) -> Vec<&str> {
        inputs.iter().map(|i| i.upload.as_str()).collect()
    }

    #[test]
    fn folders_are_searched_recursively_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.JPG", "a.png", "sub/c d.jpeg", "notes.txt", "sub/e.gif"] {
            touch(&dir.path().join(name));
        }
        let inputs = collect(&[dir.path().to_owned()], None).unwrap();
        assert_eq!(
            keys(&inputs),
            [
                "original-uploads/a.png",
                "original-uploads/b.JPG",
                "original-uploads/sub/c d.jpeg"
            ]
        );
    }

    #[test]
    fn colliding_names_get_suffixes() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["x/cat.jpg", "y/cat.png", "y/Cat.jpg"] {
            touch(&dir.path().join(name));
        }
        let files: Vec<PathBuf> = ["x/cat.jpg", "y/cat.png", "y/Cat.jpg"]
            .iter()
            .map(|n| dir.path().join(n))
            .collect();
        let inputs = collect(&files, None).unwrap();
        assert_eq!(
            keys(&inputs),
            [
                "original-uploads/cat.jpg",
                "original-uploads/cat-2.png",
                "original-uploads/Cat-3.jpg"
            ]
        );
    }

    #[test]
    fn named_files_are_taken_whatever_their_extension() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("notes.txt"));
        let inputs = collect(&[dir.path().join("notes.txt")], None).unwrap();
        assert_eq!(keys(&inputs), ["original-uploads/notes.txt"]);
    }

    #[test]
    fn the_output_folder_is_not_an_input() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("a.jpg"));
        touch(&dir.path().join("out/processed/a_256x256.jpg"));
        let inputs = collect(&[dir.path().to_owned()], Some(&dir.path().join("out"))).unwrap();
        assert_eq!(keys(&inputs), ["original-uploads/a.jpg"]);
    }

    #[cfg(unix)]
    #[test]
    fn links_that_loop_or_point_nowhere_are_skipped_and_the_rest_taken() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("a.jpg"));
        touch(&dir.path().join("sub/b.png"));
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
        std::os::unix::fs::symlink("gone.jpg", dir.path().join("dangling.jpg")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("a.jpg"), dir.path().join("c.jpg")).unwrap();
        let inputs = collect(&[dir.path().to_owned()], None).unwrap();
        assert_eq!(
            keys(&inputs),
            [
                "original-uploads/a.jpg",
                "original-uploads/c.jpg",
                "original-uploads/sub/b.png"
            ]
        );
    }

    #[test]
    fn missing_and_empty_inputs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            collect(&[dir.path().join("nope")], None),
            Err(InputError::NotFound(_))
        ));
        assert!(matches!(
            collect(&[dir.path().to_owned()], None),
            Err(InputError::NoImages(_))
        ));
    }
}
