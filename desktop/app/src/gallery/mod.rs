//! The gallery: every processed image in the bucket, a page at a time, with
//! thumbnails loaded only for the cards on screen; the rejected uploads; the
//! dialogs over the window (detail view, delete confirmation, Help).
//!
//! `model.rs` is what the gallery knows (listing, order, pending cards, the
//! texture cache), tested without a window; `ui.rs` draws the cards,
//! `rejected.rs` the rejected list, `dialogs.rs` the dialog stack.

mod dialogs;
mod model;
mod rejected;
mod ui;

pub use self::dialogs::{SHORTCUTS, dialogs_ui};
pub use self::model::{Dialog, Gallery, MAX_TEXTURES, Sort, Thumb, View, card_id};
pub use self::ui::{NOT_PROCESSED, count_text, gallery_ui};
