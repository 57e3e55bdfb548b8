//! The gallery: every processed image in the bucket, a page at a time, with
//! thumbnails loaded only for the cards on screen; the rejected uploads; the
//! dialogs over the window (detail view, delete confirmation, Help).
//!
//! `model.rs` is what the gallery knows (listing, order, pending cards),
//! `textures.rs` the texture cache (bounded, and uploads bounded a frame), both
//! tested without a window; `ui.rs` draws the cards,
//! `rejected.rs` the rejected list, `dialogs.rs` the dialog stack.

mod dialogs;
mod model;
mod rejected;
mod textures;
mod ui;

pub use self::dialogs::{SHORTCUTS, dialogs_ui};
pub use self::model::Thumb;
pub use self::model::{Dialog, Gallery, Sort, View, card_id};
pub use self::textures::{MAX_TEXTURE_UPLOADS_PER_FRAME, MAX_TEXTURES};
pub use self::ui::{NOT_PROCESSED, count_text, gallery_ui};
