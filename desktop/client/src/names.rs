//! Choosing an upload's name: never over an earlier upload, by any extension or output.

use augment_pipeline::contract::{UPLOAD_PREFIX, is_upload_extension};
use augment_pipeline::{Rejection, UploadKey};

use crate::error::{ClientError, ErrorKind};
use crate::retry::RETRY_BUDGET;

use crate::lock::lock;
use crate::remote::Remote;
use crate::{inputs, retry};

/// Most `-2`, `-3`… suffixes [`Remote::choose_upload_key`] tries before giving up.
const MAX_NAME_SUFFIX: u32 = 1000;

impl Remote {
    /// An upload key for a file called `file_name` (a name, or a relative path
    /// with `/`) that does not overwrite an earlier upload: `<name>`, else
    /// `<name>-2`, `<name>-3`… until no original (any extension, any case), no
    /// processed image and no failed record has that name, and this process has
    /// not handed it out already.
    ///
    /// Async and fallible because it asks the store (a few `HEAD`s and a list per
    /// candidate); a transient error starts the name check again with backoff,
    /// within the file's [`RETRY_BUDGET`], which starts now. A name handed out
    /// stays reserved in this process until [`Remote::upload`] of that key ends.
    pub async fn choose_upload_key(&self, file_name: &str) -> Result<UploadKey, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        let key = retry::until(deadline, &self.inner.retried, || {
            self.choose_upload_key_once(file_name)
        })
        .await?;
        lock(&self.inner.deadlines).insert(key.name().to_lowercase(), deadline);
        Ok(key)
    }

    /// The file's retry budget starts now (a name chosen without a request).
    pub(crate) fn set_deadline(&self, key: &UploadKey) {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        lock(&self.inner.deadlines).insert(key.name().to_lowercase(), deadline);
    }

    pub(crate) async fn choose_upload_key_once(
        &self,
        file_name: &str,
    ) -> Result<UploadKey, ClientError> {
        self.choose_key_with(
            file_name,
            |name| async move { self.name_taken(&name).await },
        )
        .await
    }

    /// The first of `<name>`, `<name>-2`… that `taken` says is free and this
    /// process has not handed out, reserved for this process.
    pub(crate) async fn choose_key_with<F, Fut>(
        &self,
        file_name: &str,
        mut taken: F,
    ) -> Result<UploadKey, ClientError>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<bool, ClientError>>,
    {
        let (stem, ext) = split_file_name(file_name)?;
        for n in 1..=MAX_NAME_SUFFIX {
            let candidate = inputs::numbered(&stem, n);
            let lowered = candidate.to_lowercase();
            if self.is_reserved(&lowered) || taken(candidate.clone()).await? {
                continue;
            }
            let key = UploadKey::from_name(&candidate, &ext).map_err(|err| {
                ClientError::invalid_settings(format!("{err}. Rename the file: {file_name}"))
            })?;
            // Another task may have taken it while we asked the store.
            if lock(&self.inner.reserved).insert(lowered) {
                return Ok(key);
            }
        }
        Err(ClientError::new(
            ErrorKind::Other,
            format!(
                "{MAX_NAME_SUFFIX} uploads already have this name. Rename the file: {file_name}"
            ),
        ))
    }

    pub(crate) fn is_reserved(&self, lowered: &str) -> bool {
        lock(&self.inner.reserved).contains(lowered)
    }

    pub(crate) fn release(&self, name: &str) {
        lock(&self.inner.deadlines).remove(&name.to_lowercase());
        lock(&self.inner.reserved).remove(&name.to_lowercase());
    }

    pub(crate) async fn name_taken(&self, name: &str) -> Result<bool, ClientError> {
        let key = upload_key_for(name)?;
        Ok(!self.originals_of(name).await?.is_empty()
            || self.exists(&key.processed_key()).await?
            || self.exists(&key.failed_key()).await?)
    }

    /// Originals of `name`: `original-uploads/<name>.<ext>` for an upload
    /// extension in any case (and not `<name>.x.jpg`, which is another name).
    pub(crate) async fn originals_of(&self, name: &str) -> Result<Vec<String>, ClientError> {
        let prefix = format!("{UPLOAD_PREFIX}{name}.");
        let found = self.ask(self.store().list(&prefix)).await?;
        Ok(found
            .into_iter()
            .map(|info| info.key)
            .filter(|key| key.get(prefix.len()..).is_some_and(is_upload_extension))
            .collect())
    }
}

/// `(stem, extension)` of a file name, with `\` and `/` as separators and `.`,
/// `..` and empty segments dropped, so the key is valid in a bucket and a folder.
pub(crate) fn split_file_name(file_name: &str) -> Result<(String, String), ClientError> {
    let segments: Vec<&str> = file_name
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    let Some((last, folders)) = segments.split_last() else {
        return Err(ClientError::invalid_settings(format!(
            "The file has no name: {file_name}"
        )));
    };
    let (base, ext) = match last.rfind('.') {
        Some(dot) if dot > 0 => (&last[..dot], &last[dot + 1..]),
        _ => (*last, ""),
    };
    if !is_upload_extension(ext) {
        return Err(ClientError::rejected(Rejection::new(
            augment_pipeline::RejectCode::UnsupportedType,
            format!(
                "The file name must end in .jpg, .jpeg or .png. Rename or convert it, then add it again: {file_name}"
            ),
        )));
    }
    let mut stem = folders.join("/");
    if !stem.is_empty() {
        stem.push('/');
    }
    stem.push_str(base);
    Ok((stem, ext.to_owned()))
}

/// `<name>.<ext>` of an upload key, as [`Remote::choose_upload_key`] takes it.
pub(crate) fn file_name_of(key: &UploadKey) -> String {
    match key.extension() {
        Some(ext) => format!("{}.{ext}", key.name()),
        None => key.name().to_owned(),
    }
}

/// Any upload key with this `<name>`: every output key depends on the name only.
pub(crate) fn upload_key_for(name: &str) -> Result<UploadKey, ClientError> {
    UploadKey::from_name(name, "jpg").map_err(|err| {
        ClientError::invalid_settings(format!("This is not an image name ({err}): {name}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_safe_stems() {
        let ok = |name: &str| split_file_name(name).unwrap();
        assert_eq!(ok("cat.JPG"), ("cat".into(), "JPG".into()));
        assert_eq!(
            ok("trip/beach day.jpeg"),
            ("trip/beach day".into(), "jpeg".into())
        );
        assert_eq!(ok("..\\a\\.\\b.png"), ("a/b".into(), "png".into()));
        assert_eq!(ok("v1.2.final.jpg"), ("v1.2.final".into(), "jpg".into()));
        for bad in ["notes.txt", "cat", ".jpg", "", "/"] {
            assert!(split_file_name(bad).is_err(), "{bad}");
        }
    }
}
