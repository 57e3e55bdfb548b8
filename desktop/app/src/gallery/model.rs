//! What the gallery knows: the entries listed so far (and those waiting to
//! join), their order, the rejected uploads; the texture cache's fields (its
//! methods are `textures.rs`).

use std::collections::{HashMap, VecDeque};

use augment_client::{ClientError, ImageEntry, Page, RejectedEntry};
use augment_pipeline::Output;

use crate::command::{Command, GalleryCommand, ListedPage, Listing};
/// A dialog over the window. Several can be open, one over the other (the
/// delete confirmation over the detail view); they live in [`Gallery::dialogs`],
/// bottom first, and that list is the only record of what is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// The four rotations of the entry with this name, large.
    Detail { name: String },
    /// "Delete …?" for the entry with this name.
    ConfirmDelete { name: String },
    /// The keyboard shortcuts and what the app is.
    Help,
}

impl Dialog {
    /// The dialog's modal layer, also what the app's focus returns know it by.
    pub fn id(&self) -> egui::Id {
        match self {
            Self::Detail { .. } => egui::Id::unique("detail"),
            Self::ConfirmDelete { .. } => egui::Id::unique("confirm-delete"),
            Self::Help => egui::Id::unique("help"),
        }
    }
}

use crate::format::fold;

/// The order of the cards. The order never changes by itself: images that
/// arrive during a batch wait in [`Gallery::pending`] until "show".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// By name, A to Z (the bucket's own order).
    #[default]
    Name,
    /// Newest first (by the processed image's time), then by name.
    Newest,
}

impl Sort {
    /// How two entries compare in this order.
    pub(super) fn order(self) -> fn(&ImageEntry, &ImageEntry) -> std::cmp::Ordering {
        match self {
            Self::Name => |a, b| a.name.cmp(&b.name),
            Self::Newest => |a, b| {
                b.last_modified
                    .cmp(&a.last_modified)
                    .then_with(|| a.name.cmp(&b.name))
            },
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Newest => "Newest",
        }
    }
}

/// What the panel shows: the processed images, or the uploads the pipeline
/// rejected (their originals stay in the bucket until deleted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    Images,
    Rejected,
}

/// What the gallery knows: the entries listed so far and the thumbnails asked for.
#[derive(Default)]
pub struct Gallery {
    /// In [`Gallery::sort`] order.
    pub entries: Vec<ImageEntry>,
    /// Finished while a card they would move was under the pointer (or had the
    /// keyboard focus): announced ("3 new — Show"), added on "Show" or once
    /// that card is let go, so no card moves under the pointer.
    pub pending: Vec<ImageEntry>,
    /// The card held last frame: the first one under the pointer or with the
    /// focus. Nothing before it may move.
    pub(super) anchor: Option<String>,
    pub sort: Sort,
    pub view: View,
    /// The uploads the pipeline rejected, by name: listed from `failed/`, and
    /// joined by the rejections of this session's batches.
    pub rejected: Vec<RejectedEntry>,
    /// Where the listing of `processed/` stands.
    pub image_pages: Paging,
    /// Where the listing of `failed/` stands.
    pub rejected_pages: Paging,
    /// The listing failed: the message, until a retry.
    pub error: Option<String>,
    /// Bumped on every reconnect, so a page from the old connection is dropped.
    pub generation: u64,
    pub filter: String,
    /// By key: card thumbnails (processed images) and detail images (rotations),
    /// also the queue's rotations. At most [`MAX_TEXTURES`] are kept past a
    /// frame (see [`Gallery::trim`]).
    pub thumbs: HashMap<String, Thumb>,
    /// The frame each texture in `thumbs` was last asked for.
    pub(super) used: HashMap<String, u64>,
    /// Decoded images waiting for their texture upload, oldest first (see
    /// [`Gallery::upload_textures`]).
    pub(super) uploads: VecDeque<(String, egui::ColorImage)>,
    /// Frames drawn so far (bumped by [`Gallery::trim`]).
    pub(super) frame: u64,
    /// The dialogs open over the window, bottom first (see [`dialogs_ui`]).
    pub dialogs: Vec<Dialog>,
    /// The last save's outcome, shown in the detail view.
    pub save_status: Option<Result<String, String>>,
    /// The card to give keyboard focus to when it is next drawn (arrow keys,
    /// closing the detail view), scrolled into view.
    pub(super) focus_request: Option<String>,
    /// The detail view showed another image (←/→) since it opened: closing
    /// it focuses that image's card rather than what opened it.
    pub(super) detail_moved: bool,
    /// Rows of cards drawn last frame, to know when a focus request must scroll.
    pub(super) rows_shown: std::ops::Range<usize>,
}

impl Gallery {
    /// Forgets everything listed; the caller asks for the first page again.
    pub fn reset(&mut self) {
        let generation = self.generation + 1;
        *self = Self {
            generation,
            filter: std::mem::take(&mut self.filter),
            sort: self.sort,
            view: self.view,
            ..Self::default()
        };
    }

    /// The first pages of both listings, images and rejections (after a reset
    /// or a retry).
    pub fn first_page(&mut self) -> [Command; 2] {
        self.error = None;
        Listing::ALL.map(|listing| self.ask(listing, None))
    }

    /// The next pages of both listings, once the last ones are in (and none
    /// failed).
    pub fn next_pages(&mut self) -> Vec<Command> {
        if self.error.is_some() {
            return Vec::new();
        }
        Listing::ALL
            .into_iter()
            .filter_map(|listing| self.next_page(listing))
            .collect()
    }

    /// The next page of `listing`, unless one is on its way or all are listed.
    pub fn next_page(&mut self, listing: Listing) -> Option<Command> {
        let pages = self.pages(listing);
        if pages.loading {
            return None;
        }
        let cursor = pages.next.clone()?;
        Some(self.ask(listing, Some(cursor)))
    }

    fn ask(&mut self, listing: Listing, cursor: Option<String>) -> Command {
        self.pages(listing).loading = true;
        let generation = self.generation;
        GalleryCommand::List {
            listing,
            cursor,
            generation,
        }
        .into()
    }

    fn pages(&mut self, listing: Listing) -> &mut Paging {
        match listing {
            Listing::Images => &mut self.image_pages,
            Listing::Rejected => &mut self.rejected_pages,
        }
    }

    /// A page of `listing` arrived: its entries join (one of an older
    /// connection is dropped). A failed page's error is the caller's to show.
    pub fn page_arrived(
        &mut self,
        listing: Listing,
        generation: u64,
        result: Result<ListedPage, ClientError>,
    ) -> Result<(), ClientError> {
        if generation != self.generation {
            return Ok(());
        }
        self.pages(listing).loading = false;
        match result? {
            ListedPage::Images(page) => self.add_page(page),
            ListedPage::Rejected(page) => self.add_rejected_page(page),
        }
        Ok(())
    }

    /// A page of `failed/`: each entry joins by name, as [`Gallery::add_rejected`].
    pub fn add_rejected_page(&mut self, page: Page<RejectedEntry>) {
        for item in page.items {
            self.add_rejected(item);
        }
        self.rejected_pages.next = page.next;
    }

    /// A rejection joins the list, kept by name, in place of an earlier one of
    /// the same name (the pipeline just rejected it again, or a page listed it).
    pub fn add_rejected(&mut self, entry: RejectedEntry) {
        match self.rejected.binary_search_by(|e| e.name.cmp(&entry.name)) {
            Ok(at) => self.rejected[at] = entry,
            Err(at) => self.rejected.insert(at, entry),
        }
    }

    /// Indices into `rejected` that the filter lets through, in order.
    pub fn visible_rejected(&self) -> Vec<usize> {
        let matches = self.filter_matcher();
        (0..self.rejected.len())
            .filter(|&i| matches(&self.rejected[i].name))
            .collect()
    }

    /// Whether a name passes the filter box (case-insensitive, anywhere).
    pub(super) fn filter_matcher(&self) -> impl Fn(&str) -> bool {
        let filter = fold(self.filter.trim());
        move |name| filter.is_empty() || fold(name).contains(&filter)
    }

    /// A page of the listing: entries not seen yet join, in the current order.
    pub fn add_page(&mut self, page: Page<ImageEntry>) {
        for item in page.items {
            if !self.entries.iter().any(|e| e.name == item.name) {
                self.pending.retain(|e| e.name != item.name);
                self.entries.push(item);
            }
        }
        self.image_pages.next = page.next;
        self.sort_entries();
    }

    /// An upload just finished. A name already shown is refreshed in place; a
    /// new one joins at once unless it would move the card under the pointer
    /// (or with the focus): then it waits in [`Gallery::pending`].
    pub fn upsert(&mut self, mut entry: ImageEntry) {
        // Every output's texture is stale: the name was uploaded again.
        let stale: Vec<String> = Output::ALL
            .iter()
            .map(|output| output.key_of_name(&entry.name))
            .collect();
        self.forget_textures(stale.iter().map(String::as_str));
        self.forget_textures([entry.processed_key.as_str()]);
        if entry.last_modified.is_none() {
            entry.last_modified = Some(std::time::SystemTime::now());
        }
        // The pipeline deleted the stale record of an earlier rejection.
        self.rejected.retain(|e| e.name != entry.name);
        if let Some(shown) = self.entries.iter_mut().find(|e| e.name == entry.name) {
            *shown = entry;
            return;
        }
        self.pending.retain(|e| e.name != entry.name);
        self.pending.push(entry);
        self.release_pending();
    }

    /// The waiting entries that move no held card (none is held, or they sort
    /// after it) join the cards, each in its place.
    pub fn release_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let order = self.sort.order();
        let anchor = self
            .anchor
            .as_ref()
            .and_then(|name| self.entries.iter().find(|e| &e.name == name))
            .cloned();
        let (joining, waiting): (Vec<ImageEntry>, Vec<ImageEntry>) =
            std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|entry| {
                    anchor
                        .as_ref()
                        .is_none_or(|held| order(entry, held) == std::cmp::Ordering::Greater)
                });
        self.pending = waiting;
        for entry in joining {
            let at = self
                .entries
                .partition_point(|e| order(e, &entry) == std::cmp::Ordering::Less);
            self.entries.insert(at, entry);
        }
    }

    /// "Show": the waiting entries join the cards, in the current order.
    pub fn show_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.entries.append(&mut self.pending);
        self.sort_entries();
    }

    /// Another order, at once: the cards are sorted again (and the waiting
    /// ones join: the person just asked every card to move).
    pub fn set_sort(&mut self, sort: Sort) {
        self.sort = sort;
        self.entries.append(&mut self.pending);
        self.sort_entries();
    }

    /// Forgets one entry (it was deleted), image or rejection.
    /// Removes a deleted image. When its card had the keyboard focus, the
    /// focus goes on to the next card (the previous one at the end), as in a
    /// list, rather than to nowhere.
    pub fn remove_deleted(&mut self, name: &str, had_focus: bool) {
        if had_focus {
            self.focus_request = [1, -1]
                .into_iter()
                .filter_map(|step| self.neighbour(name, step))
                .find(|next| next != name);
        }
        self.remove(name);
    }

    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|e| e.name != name);
        self.pending.retain(|e| e.name != name);
        self.rejected.retain(|e| e.name != name);
    }

    pub(super) fn sort_entries(&mut self) {
        self.entries.sort_by(self.sort.order());
    }

    /// Indices into `entries` of the cards the filter lets through, in order.
    pub fn visible(&self) -> Vec<usize> {
        let matches = self.filter_matcher();
        (0..self.entries.len())
            .filter(|&i| matches(&self.entries[i].name))
            .collect()
    }

    /// Whether the gallery puts the keyboard focus on a card itself at its
    /// next drawing (arrow keys, the detail view closed on another image).
    pub fn places_focus(&self) -> bool {
        self.focus_request.is_some()
    }

    /// The visible entry `step` places from `name` (clamped at the ends).
    pub(super) fn neighbour(&self, name: &str, step: isize) -> Option<String> {
        let visible = self.visible();
        let at = visible.iter().position(|&i| self.entries[i].name == name)?;
        let to = at
            .saturating_add_signed(step)
            .min(visible.len().saturating_sub(1));
        Some(self.entries[visible[to]].name.clone())
    }
}

/// Where a listing stands: where its next page starts, and whether a page is
/// on its way.
#[derive(Debug, Default)]
pub struct Paging {
    /// `None` when everything is listed.
    pub next: Option<String>,
    pub loading: bool,
}

impl Paging {
    /// Nothing on its way and nothing left to list.
    pub fn is_done(&self) -> bool {
        !self.loading && self.next.is_none()
    }
}

/// The id of the card of `name`: the same wherever the card is drawn, so focus
/// can be sent back to it.
pub fn card_id(name: &str) -> egui::Id {
    egui::Id::unique(("gallery-card", name))
}

/// A thumbnail in the gallery's texture cache ([`super::textures`]).
pub enum Thumb {
    /// Asked of the worker, or decoded and waiting for its upload.
    Loading,
    Ready(egui::TextureHandle),
    /// No picture, and why: a placeholder stays.
    Missing(crate::thumbs::NoImage),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(name: &str, code: &str) -> RejectedEntry {
        RejectedEntry {
            name: name.to_owned(),
            failed_key: format!("failed/{name}.json"),
            code: code.to_owned(),
            message: "why".to_owned(),
            last_modified: None,
        }
    }

    #[test]
    fn a_rejection_is_listed_once_by_name_and_goes_when_the_name_succeeds() {
        let mut gallery = Gallery::default();
        gallery.add_rejected_page(Page {
            items: vec![rejected("b", "corrupt"), rejected("a", "too_large")],
            next: None,
        });
        // This session's rejection of a name listed already replaces it.
        gallery.add_rejected(rejected("b", "name_too_long"));
        gallery.add_rejected(rejected("c", "corrupt"));
        let listed: Vec<(&str, &str)> = gallery
            .rejected
            .iter()
            .map(|e| (e.name.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            listed,
            [("a", "too_large"), ("b", "name_too_long"), ("c", "corrupt")]
        );
        // A later page of the listing does not bring it back twice.
        gallery.add_rejected_page(Page {
            items: vec![rejected("c", "corrupt")],
            next: None,
        });
        assert_eq!(gallery.rejected.len(), 3);

        gallery.filter = "C".to_owned();
        assert_eq!(gallery.visible_rejected(), [2]);

        // A later upload of the name succeeded: the pipeline deleted its record.
        gallery.upsert(ImageEntry {
            name: "b".to_owned(),
            processed_key: "processed/b_256x256.jpg".to_owned(),
            size_bytes: 1,
            last_modified: None,
        });
        // Deleted from the app.
        gallery.remove("a");
        let names: Vec<&str> = gallery.rejected.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["c"]);
    }
}
