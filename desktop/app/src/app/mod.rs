//! The window: [`DesktopApp`] composes the rooms (queue, gallery, settings,
//! quit) and is the one place their models change, from the worker's events.
//!
//! `desktop.rs` holds the app and its parts, `layout.rs` draws the frame and
//! hands each panel to its room's `*_ui`, `events.rs` applies the worker's
//! events, one handler per area.

mod desktop;
mod events;
mod layout;

pub use self::desktop::DesktopApp;
