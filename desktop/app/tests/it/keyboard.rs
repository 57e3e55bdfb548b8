//! The panels and dialogs of the last rounds with the keyboard alone: each
//! gives the focus back where it was when it closes, the status panel opens
//! under its line and Esc closes it, a card's tooltip never shows over a
//! dialog, and Settings' *Choose…* says when no file dialog can open. Widgets
//! by role and label.

use augment_desktop::DesktopApp;
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

use super::common::{click, shows, wait_for};
use super::layout::{SMALL, app_at};

fn focused(harness: &Harness<'_, DesktopApp>, role: Role, label: &str) -> bool {
    harness
        .query_by_role_and_label(role, label)
        .is_some_and(|node| node.is_focused())
}

/// An app at the small window size, its data folder in a new home.
fn small_app() -> (tempfile::TempDir, Harness<'static, DesktopApp>) {
    let home = tempfile::tempdir().unwrap();
    let harness = app_at(&home.path().join("data"), SMALL, 1.0);
    (home, harness)
}

/// An app at full HD and 200 % whose gallery shows the cards of the samples
/// `names` (uploaded, `.jpg` each), with its data folder and the samples'.
fn with_cards(
    names: &[&str],
) -> (
    Harness<'static, DesktopApp>,
    tempfile::TempDir,
    tempfile::TempDir,
) {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), super::layout::FULL_HD_AT_200, 1.0);
    let files: Vec<String> = names.iter().map(|name| format!("{name}.jpg")).collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let (samples, files) = super::layout::samples(&files);
    super::layout::upload(&mut harness, &files, names);
    (harness, data, samples)
}

/// Gives the button `label` the focus, then lets two frames pass.
fn focus(harness: &mut Harness<'_, DesktopApp>, label: &str) {
    harness.get_by_role_and_label(Role::Button, label).focus();
    harness.run_steps(2);
}

/// Enter on the focused Close: what showed `gone` closes and the button
/// `back_to` has the focus again.
fn enter_closes(harness: &mut Harness<'_, DesktopApp>, gone: &str, back_to: &str) {
    press(harness, Modifiers::NONE, Key::Enter);
    assert!(!shows(harness, gone), "{gone:?} did not close");
    assert!(
        focused(harness, Role::Button, back_to),
        "the focus did not come back to {back_to}"
    );
}

/// The button `label` has the keyboard focus (or the message says what has).
fn assert_focus_on(harness: &Harness<'_, DesktopApp>, label: &str) {
    assert!(
        focused(harness, Role::Button, label),
        "the focus is not on {label}: it is on {:?}",
        focus_label(harness)
    );
}

/// Presses `key` with `modifiers`, then lets two frames pass.
fn press(harness: &mut Harness<'_, DesktopApp>, modifiers: Modifiers, key: Key) {
    harness.key_press_modifiers(modifiers, key);
    harness.run_steps(2);
}

/// Focuses the button `label`, opens something with `open`, closes it with
/// `close`; the button has the focus again.
fn comes_back(
    harness: &mut Harness<'_, DesktopApp>,
    label: &str,
    open: (Modifiers, Key),
    close: (Modifiers, Key),
    opened: &str,
) {
    focus(harness, label);
    press(harness, open.0, open.1);
    assert!(
        shows(harness, opened),
        "{opened:?} did not open from {label}"
    );
    press(harness, close.0, close.1);
    assert!(!shows(harness, opened), "{opened:?} did not close");
    assert!(
        focused(harness, Role::Button, label),
        "the focus did not come back to {label} after {opened:?}"
    );
}

#[test]
fn every_dialog_and_panel_gives_the_focus_back_where_it_was() {
    let (_home, mut harness) = small_app();
    harness.run_steps(3);
    let esc = (Modifiers::NONE, Key::Escape);
    let enter = (Modifiers::NONE, Key::Enter);
    for (open, opened) in [
        ((Modifiers::COMMAND, Key::E), "Splits"),
        (
            (Modifiers::COMMAND, Key::D),
            "Also the originals and the rejection records",
        ),
        ((Modifiers::NONE, Key::F1), "Move between gallery cards"),
    ] {
        comes_back(&mut harness, "Add folder…", open, esc, opened);
    }
    comes_back(
        &mut harness,
        "Help",
        enter,
        esc,
        "Move between gallery cards",
    );
    comes_back(&mut harness, "Settings", enter, esc, "Where images go");
    // Settings' own Close, from the keyboard, gives it back too.
    focus(&mut harness, "Settings");
    press(&mut harness, Modifiers::NONE, Key::Enter);
    focus(&mut harness, "Close");
    enter_closes(&mut harness, "Where images go", "Settings");
}

#[test]
fn the_status_panel_opens_under_its_line_and_esc_closes_it() {
    let (_home, mut harness) = small_app();
    wait_for(&mut harness, "Pipeline: 0 complete");
    let line = "Pipeline: 0 complete · 0 stuck";
    let line_rect = harness.get_by_role_and_label(Role::Button, line).rect();
    let header = harness
        .get_by_role_and_label(Role::Button, "Add images…")
        .rect();
    comes_back(
        &mut harness,
        line,
        (Modifiers::NONE, Key::Enter),
        (Modifiers::NONE, Key::Escape),
        "Refresh",
    );
    press(&mut harness, Modifiers::NONE, Key::Enter);
    let title = harness.get_by_label("Pipeline status").rect();
    assert!(
        title.top() >= line_rect.bottom() && !title.intersects(header),
        "the panel's title at {title:?} covers the header {header:?} or its line {line_rect:?}"
    );
    // Tab reaches the panel's buttons from its line.
    for _ in 0..4 {
        press(&mut harness, Modifiers::NONE, Key::Tab);
        if focused(&harness, Role::Button, "Refresh") {
            return;
        }
    }
    panic!("Tab from the line never reached the panel's Refresh");
}

#[test]
fn choosing_the_data_folder_says_when_no_file_dialog_can_open() {
    if augment_desktop::file_dialog::unavailable().is_none() {
        eprintln!("a file dialog can open on this machine: nothing to check");
        return;
    }
    let (_home, mut harness) = small_app();
    harness.run_steps(3);
    click(&mut harness, "Settings");
    wait_for(&mut harness, "Data folder");
    click(&mut harness, "Choose…");
    wait_for(&mut harness, "No file dialog can open");
    assert!(shows(&harness, "zenity"));
}

/// The label of the widget with the keyboard focus, if it has one.
fn focus_label(harness: &Harness<'_, DesktopApp>) -> Option<String> {
    harness
        .query_all_by_label_contains("")
        .find(egui_kittest::Node::is_focused)
        .and_then(|node| node.accesskit_node().label())
}

#[test]
fn tab_goes_through_the_window_in_reading_order_and_wraps() {
    let (_home, mut harness) = small_app();
    wait_for(&mut harness, "Pipeline: 0 complete");
    let mut reached = Vec::new();
    for _ in 0..10 {
        press(&mut harness, Modifiers::NONE, Key::Tab);
        reached.push(focus_label(&harness).unwrap_or_default());
    }
    // The header left to right, its status line, the (empty) queue panel's
    // edge, the gallery's header; then round again.
    assert_eq!(
        reached,
        [
            "Add images…",
            "Add folder…",
            "Dataset",
            "Settings",
            "Help",
            "Pipeline: 0 complete · 0 stuck",
            "Resize panel",
            "Sort",
            "Filter",
            "Add images…",
        ],
        "Tab from the start does not follow the window's reading order"
    );
    // Shift+Tab goes back the same way, round the end too.
    press(&mut harness, Modifiers::SHIFT, Key::Tab);
    assert_eq!(focus_label(&harness).as_deref(), Some("Filter"));
    press(&mut harness, Modifiers::SHIFT, Key::Tab);
    assert_eq!(focus_label(&harness).as_deref(), Some("Sort"));
}

#[test]
fn a_cards_tooltip_never_shows_over_its_detail_view() {
    let (mut harness, _data, _samples) = with_cards(&["alpha"]);
    let tooltip = "alpha: open the four rotations";
    harness.get_by_role_and_label(Role::Button, "alpha").hover();
    wait_for(&mut harness, tooltip);
    // Enter with the pointer still resting on the card.
    focus(&mut harness, "alpha");
    press(&mut harness, Modifiers::NONE, Key::Enter);
    wait_for(&mut harness, "alpha rotated 90°");
    harness.run_steps(3);
    assert!(
        !shows(&harness, tooltip),
        "the card's tooltip is drawn over its detail view"
    );
    // Closed, the card under the pointer may show it again.
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(focused(&harness, Role::Button, "alpha"));
}

/// Presses Tab until the button `label` has the focus (at most `most` times).
fn tab_to(harness: &mut Harness<'_, DesktopApp>, label: &str, most: usize) {
    let mut seen = Vec::new();
    for _ in 0..most {
        press(harness, Modifiers::NONE, Key::Tab);
        if focused(harness, Role::Button, label) {
            return;
        }
        seen.push(focus_label(harness));
    }
    panic!("Tab never reached {label:?}; it went through {seen:?}");
}

#[test]
fn the_dataset_menu_opens_its_dialog_from_the_keyboard_and_gets_the_focus_back() {
    let (_home, mut harness) = small_app();
    wait_for(&mut harness, "Pipeline: 0 complete");
    focus(&mut harness, "Dataset");
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert!(
        shows(&harness, "Export dataset…"),
        "Enter did not open the menu"
    );
    tab_to(&mut harness, "Export dataset…", 3);
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert!(
        shows(&harness, "Splits"),
        "the menu's item did not open the dialog"
    );
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(!shows(&harness, "Splits"));
    assert_focus_on(&harness, "Dataset");
}

#[test]
fn deleting_a_card_from_the_keyboard_moves_the_focus_to_the_next_card() {
    let (mut harness, data, _samples) = with_cards(&["alpha", "bravo"]);
    focus(&mut harness, "alpha");
    press(&mut harness, Modifiers::NONE, Key::Delete);
    assert!(shows(&harness, "Delete “alpha”?"));
    tab_to(&mut harness, "Delete", 3);
    press(&mut harness, Modifiers::NONE, Key::Enter);
    super::common::wait_until(&mut harness, "alpha's card to go", |h| {
        h.query_by_role_and_label(Role::Button, "alpha").is_none()
    });
    harness.run_steps(2);
    assert!(!data.path().join("processed/alpha_256x256.jpg").exists());
    assert_focus_on(&harness, "bravo");
}

#[test]
fn a_rows_menu_opens_from_the_keyboard_and_what_it_opens_gives_the_focus_back() {
    let (mut harness, _data, _samples) = with_cards(&["alpha"]);
    let thumb_focused = |harness: &Harness<'_, DesktopApp>| {
        harness
            .query_all_by_label("alpha.jpg")
            .any(|node| node.accesskit_node().role() == Role::Image && node.is_focused())
    };
    harness
        .query_all_by_label("alpha.jpg")
        .find(|node| node.accesskit_node().role() == Role::Image)
        .unwrap()
        .focus();
    harness.run_steps(2);
    assert!(thumb_focused(&harness));
    press(&mut harness, Modifiers::SHIFT, Key::F10);
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "Copy key")
            .is_some(),
        "Shift+F10 did not open the row's menu"
    );
    tab_to(&mut harness, "Delete…", 10);
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert!(shows(&harness, "Delete “alpha”?"));
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "Copy key")
            .is_none()
    );
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(!shows(&harness, "Delete “alpha”?"));
    assert!(
        thumb_focused(&harness),
        "the focus did not come back to the row's picture; it is on {:?}",
        focus_label(&harness)
    );
    // The Menu key opens it too, and Esc closes it.
    press(&mut harness, Modifiers::NONE, Key::Menu);
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "Copy key")
            .is_some()
    );
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "Copy key")
            .is_none()
    );
}

#[test]
fn the_detail_views_delete_question_gives_the_focus_back_to_its_button() {
    let (mut harness, _data, _samples) = with_cards(&["alpha"]);
    focus(&mut harness, "alpha");
    press(&mut harness, Modifiers::NONE, Key::Enter);
    wait_for(&mut harness, "alpha rotated 90°");
    // Tab stays inside the view: it reaches its buttons, not the window's.
    tab_to(&mut harness, "Delete…", 3);
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert!(shows(&harness, "Delete “alpha”?"));
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(!shows(&harness, "Delete “alpha”?"));
    assert!(
        shows(&harness, "alpha rotated 90°"),
        "Esc closed both dialogs"
    );
    assert_focus_on(&harness, "Delete…");
    tab_to(&mut harness, "Close", 2);
    enter_closes(&mut harness, "alpha rotated 90°", "alpha");
}

#[test]
fn choosing_a_sort_from_the_keyboard_leaves_the_focus_on_its_box() {
    let (_home, mut harness) = small_app();
    wait_for(&mut harness, "Pipeline: 0 complete");
    let list_open = |harness: &Harness<'_, DesktopApp>| harness.query_by_label("Name").is_some();
    harness.get_by_label("Sort").focus();
    harness.run_steps(2);
    assert_eq!(focus_label(&harness).as_deref(), Some("Sort"));
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert!(list_open(&harness), "Enter did not open the list");
    for _ in 0..2 {
        press(&mut harness, Modifiers::NONE, Key::Tab);
    }
    assert_eq!(focus_label(&harness).as_deref(), Some("Newest"));
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert!(!list_open(&harness), "the list did not close");
    assert_eq!(
        focus_label(&harness).as_deref(),
        Some("Sort"),
        "the focus did not come back to the box"
    );
    let chosen = harness.get_by_label("Sort").accesskit_node().value();
    assert_eq!(chosen.as_deref(), Some("Newest"), "Newest was not chosen");
    // Esc closes the list and leaves the focus on the box too.
    press(&mut harness, Modifiers::NONE, Key::Enter);
    assert!(list_open(&harness));
    press(&mut harness, Modifiers::NONE, Key::Escape);
    assert!(!list_open(&harness));
    assert_eq!(focus_label(&harness).as_deref(), Some("Sort"));
}
