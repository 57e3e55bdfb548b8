//! User metadata and tags in a folder, as S3 keeps `x-amz-meta-*` and an
//! object's tags beside it: a small side file `.augment-meta-<file>` next to the
//! object's file, one `name=value` line per metadata entry and one
//! `tag:name=value` line per tag (metadata names are HTTP header names, which
//! hold no `:`). Listing never shows it and no key can name it.

use std::io;
use std::path::{Path, PathBuf};

use augment_pipeline::limits::MAX_FILE_NAME_BYTES;

/// Side files of metadata start with this; `list` never shows them.
pub(crate) const META_PREFIX: &str = ".augment-meta-";

/// The side file of the object stored at `path`; none when its name would be
/// longer than a file name may be (such an upload's name is refused by the
/// pipeline anyway: it keeps no metadata).
pub(crate) fn side_file(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let side = format!("{META_PREFIX}{name}");
    (side.len() <= MAX_FILE_NAME_BYTES).then(|| path.with_file_name(side))
}

/// Starts a tag's line in a side file.
const TAG_PREFIX: &str = "tag:";

/// Writes (or, for no metadata and no tags, removes) the side file of the object
/// at `path`. S3 replaces an object's metadata and tags with each write, so a
/// write without any leaves none behind.
pub(crate) fn write(
    path: &Path,
    metadata: &[(&'static str, String)],
    tags: &[(&'static str, String)],
) -> io::Result<()> {
    let Some(side) = side_file(path) else {
        return Ok(());
    };
    if metadata.is_empty() && tags.is_empty() {
        return remove(path);
    }
    let mut text = String::new();
    let tagged = tags
        .iter()
        .map(|(name, value)| (format!("{TAG_PREFIX}{name}"), value));
    let entries = metadata
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value))
        .chain(tagged);
    for (name, value) in entries {
        if value.contains(['\n', '\r']) || name.contains(['=', '\n', '\r']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "metadata holds a line break",
            ));
        }
        text.push_str(&name.to_lowercase());
        text.push('=');
        text.push_str(value);
        text.push('\n');
    }
    if let Some(dir) = side.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(side, text)
}

/// The metadata (`tags` false) or the tags (`tags` true) of the object at
/// `path`: `None` when there is no object.
pub(crate) fn read(path: &Path, tags: bool) -> io::Result<Option<Vec<(String, String)>>> {
    if !path.is_file() {
        return Ok(None);
    }
    let Some(side) = side_file(path) else {
        return Ok(Some(Vec::new()));
    };
    let text = match std::fs::read_to_string(side) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Some(Vec::new())),
        Err(err) => return Err(err),
    };
    Ok(Some(
        text.lines()
            .filter_map(|line| line.split_once('='))
            .filter_map(|(name, value)| match name.strip_prefix(TAG_PREFIX) {
                Some(tag) => tags.then_some((tag, value)),
                None => (!tags).then_some((name, value)),
            })
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
    ))
}

/// Removes the side file of the object at `path`, if there is one.
pub(crate) fn remove(path: &Path) -> io::Result<()> {
    let Some(side) = side_file(path) else {
        return Ok(());
    };
    match std::fs::remove_file(side) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use augment_pipeline::folder_names::{STORE_FILE_PREFIX, escape};

    #[test]
    fn no_key_names_a_file_of_the_store_itself() {
        for prefix in [super::META_PREFIX, crate::store::TEMP_PREFIX] {
            assert!(prefix.starts_with(STORE_FILE_PREFIX), "{prefix}");
            assert!(!escape(&format!("{prefix}x.jpg")).starts_with(prefix));
        }
    }
}
