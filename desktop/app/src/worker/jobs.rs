//! The jobs besides the rows: connections and settings dialogs, gallery pages,
//! thumbnails, deleting and saving, reports, notifications, the file manager.

use std::path::Path;
use std::sync::Arc;

use augment_client::{AwsSettings, ClientError, Concurrency, ErrorKind, Mode, Remote};
use augment_pipeline::contract::UPLOAD_EXTENSIONS;
use augment_pipeline::limits::MAX_OUTPUT_BYTES;
use egui::ColorImage;

use super::core::{Worker, lock};
use crate::command::{
    DesktopCommand, DesktopEvent, GalleryCommand, GalleryEvent, ListedPage, Listing,
    SettingsCommand, SettingsEvent,
};
use crate::file_dialog;
use crate::launch::APP_NAME;
use crate::thumbs;

/// The contract's upload extensions, in both cases (some file dialogs match
/// case-sensitively).
pub(super) fn dialog_extensions() -> Vec<String> {
    UPLOAD_EXTENSIONS
        .iter()
        .flat_map(|ext| [(*ext).to_owned(), ext.to_uppercase()])
        .collect()
}

/// "Local · /data/folder" or "AWS · `s3://bucket`".
pub(super) fn describe(mode: Mode, remote: &Remote) -> String {
    let what = match mode {
        Mode::Local => "Local",
        Mode::Aws => "AWS",
        Mode::Custom => "S3",
    };
    let mut place = remote.describe();
    // `~/…` reads shorter in the title bar than the full home path.
    if let Some(home) =
        directories::BaseDirs::new().map(|dirs| dirs.home_dir().display().to_string())
        && let Some(rest) = place.strip_prefix(&home)
        && rest.starts_with(std::path::MAIN_SEPARATOR)
    {
        place = format!("~{rest}");
    }
    format!("{what} · {place}")
}

/// A pipeline output from the bucket as a thumbnail: untrusted bytes, decoded
/// only if they are what the pipeline writes ([`thumbs::decode_processed`]).
pub(super) async fn fetch_thumbnail(
    remote: &Remote,
    key: &str,
    side: u32,
) -> Result<ColorImage, thumbs::NoImage> {
    let bytes = match remote.get(key, MAX_OUTPUT_BYTES).await {
        Ok(bytes) => bytes,
        // Over the output limit: the client refused to read it, so it was not
        // written by the pipeline.
        Err(err) if err.kind == ErrorKind::TooLarge => {
            tracing::info!("not shown, larger than a processed image: {key}");
            return Err(thumbs::NoImage::NotProcessed);
        }
        Err(err) => {
            tracing::info!("no thumbnail for {key}: {}", err.detail());
            return Err(thumbs::NoImage::Unavailable);
        }
    };
    tokio::task::spawn_blocking(move || thumbs::decode_processed(&bytes, side))
        .await
        .unwrap_or(Err(thumbs::NoImage::Unavailable))
}

/// Each key's object into `folder` under its file name (`landscape_90.jpg`), by
/// the client's one key → path rule (nothing lands outside `folder`).
pub(super) async fn save_keys(
    remote: &Remote,
    keys: &[String],
    folder: &Path,
) -> Result<String, ClientError> {
    let objects: Vec<(String, String)> = keys
        .iter()
        .map(|key| {
            let file_name = key.rsplit('/').next().unwrap_or(key);
            (key.clone(), file_name.to_owned())
        })
        .collect();
    remote.save_to_folder(&objects, folder).await?;
    Ok(format!(
        "Saved {} images to {}",
        keys.len(),
        folder.display()
    ))
}

impl Worker {
    /// Connections, settings and their dialogs.
    pub(super) fn handle_settings(&self, command: SettingsCommand) {
        let this = self.clone();
        match command {
            SettingsCommand::Connect(settings) => self.connect(settings),
            SettingsCommand::TestConnection(settings) => {
                tokio::spawn(async move {
                    let result = async {
                        let remote = Remote::connect(&settings).await?;
                        remote.check().await?;
                        Ok::<_, ClientError>(describe(settings.mode, &remote))
                    }
                    .await;
                    this.events.send(SettingsEvent::Tested(result));
                });
            }
            SettingsCommand::ImportTerraform => {
                this.ask_then(
                    || {
                        rfd::FileDialog::new()
                            .set_title("Import Terraform outputs")
                            .add_filter("terraform output -json", &["json"])
                            .pick_file()
                    },
                    |this, path| {
                        let result = std::fs::read_to_string(&path)
                            .map_err(|err| ClientError::io("Cannot read the file", &path, err))
                            .and_then(|json| AwsSettings::from_terraform_outputs(&json));
                        this.events.send(SettingsEvent::Imported(result));
                    },
                );
            }
            SettingsCommand::LoadProfiles => {
                tokio::spawn(async move {
                    let profiles = augment_client::aws_profiles().await;
                    this.events.send(SettingsEvent::Profiles(profiles));
                });
            }
            SettingsCommand::ChooseDataDir => {
                this.ask_then(
                    || {
                        rfd::FileDialog::new()
                            .set_title("Local data folder")
                            .pick_folder()
                    },
                    |this, dir| this.events.send(SettingsEvent::DataDirChosen(dir)),
                );
            }
        }
    }

    /// Shows a Settings file dialog on a blocking thread: what the person
    /// chose goes to `then`, a cancel to nothing, and a machine where no file
    /// dialog can open is told so.
    fn ask_then(
        self,
        dialog: impl FnOnce() -> Option<std::path::PathBuf> + Send + 'static,
        then: impl FnOnce(&Self, std::path::PathBuf) + Send + 'static,
    ) {
        tokio::task::spawn_blocking(move || match file_dialog::ask(dialog) {
            Ok(Some(path)) => then(&self, path),
            Ok(None) => {}
            Err(why) => self.events.send(SettingsEvent::NoFileDialog(why)),
        });
    }

    /// Shows a folder dialog, then downloads `keys` into it.
    fn save_rotations(&self, keys: Vec<String>) {
        let this = self.clone();
        tokio::spawn(async move {
            let folder = tokio::task::spawn_blocking(|| {
                rfd::FileDialog::new()
                    .set_title("Save the rotations to a folder")
                    .pick_folder()
            })
            .await
            .ok()
            .flatten();
            let Some(folder) = folder else {
                // No dialog could open: say so, not nothing.
                let why = file_dialog::unavailable()
                    .map(|why| Err(ClientError::new(ErrorKind::Other, why)));
                this.events.send(GalleryEvent::Saved(why));
                return;
            };
            let remote = this.connected().await;
            let result = save_keys(&remote, &keys, &folder).await;
            this.events.send(GalleryEvent::Saved(Some(result)));
        });
    }

    /// Uses these settings from now on: uploads wait for the new connection
    /// rather than use the old one.
    fn connect(&self, settings: augment_client::Settings) {
        let this = self.clone();
        self.remote.send_replace(None);
        *lock(&self.uploads) = Concurrency::new(settings.transfer_jobs.map(usize::from));
        tokio::spawn(async move {
            match Remote::connect(&settings).await {
                Ok(remote) => {
                    let description = describe(settings.mode, &remote);
                    this.remote.send_replace(Some(Arc::new(remote)));
                    this.events.send(SettingsEvent::Connected(Ok(description)));
                }
                Err(err) => this.events.send(SettingsEvent::Connected(Err(err))),
            }
        });
    }

    /// Saving a report, a notification, revealing a file: the desktop's parts.
    pub(super) fn handle_desktop(&self, command: DesktopCommand) {
        let this = self.clone();
        match command {
            DesktopCommand::SaveReport(csv) => {
                tokio::task::spawn_blocking(move || {
                    let picked = rfd::FileDialog::new()
                        .set_title("Save the transfer report")
                        .set_file_name("augment-report.csv")
                        .add_filter("CSV", &["csv"])
                        .save_file();
                    let result = picked.map(|path| {
                        std::fs::write(&path, csv)
                            .map(|()| path.clone())
                            .map_err(|err| ClientError::io("Cannot write the report", &path, err))
                    });
                    this.events.send(DesktopEvent::ReportSaved(result));
                });
            }
            DesktopCommand::Notify { summary, body } => {
                tokio::task::spawn_blocking(move || {
                    let shown = notify_rust::Notification::new()
                        .appname(APP_NAME)
                        .summary(&summary)
                        .body(&body)
                        .show();
                    // No notification service (no desktop session): the window
                    // title and the summary say the same.
                    if let Err(err) = shown {
                        tracing::debug!("no desktop notification: {err}");
                    }
                });
            }
            DesktopCommand::Reveal(path) => {
                tokio::task::spawn_blocking(move || {
                    if let Err(err) = crate::reveal::reveal(&path) {
                        tracing::warn!("cannot show {} in the file manager: {err}", path.display());
                    }
                });
            }
        }
    }

    /// Listing pages, thumbnails, deleting and saving.
    pub(super) fn handle_gallery(&self, command: GalleryCommand) {
        let this = self.clone();
        match command {
            GalleryCommand::List {
                listing,
                cursor,
                generation,
            } => {
                tokio::spawn(async move {
                    let remote = this.connected().await;
                    let result = match listing {
                        Listing::Images => remote.list_images(cursor).await.map(ListedPage::Images),
                        Listing::Rejected => {
                            remote.list_rejected(cursor).await.map(ListedPage::Rejected)
                        }
                    };
                    let page = GalleryEvent::Page {
                        listing,
                        generation,
                        result,
                    };
                    this.events.send(page);
                });
            }
            GalleryCommand::Thumbnail { key, side } => {
                tokio::spawn(async move {
                    let Ok(_permit) = this.thumbnails.acquire().await else {
                        return;
                    };
                    let remote = this.connected().await;
                    let image = fetch_thumbnail(&remote, &key, side).await;
                    this.events.send(GalleryEvent::Thumbnail { key, image });
                });
            }
            GalleryCommand::Delete { name } => {
                tokio::spawn(async move {
                    let remote = this.connected().await;
                    let result = remote.delete_image(&name).await;
                    this.events.send(GalleryEvent::Deleted { name, result });
                });
            }
            GalleryCommand::SaveRotations { keys } => self.save_rotations(keys),
        }
    }
}
