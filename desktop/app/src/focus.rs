//! The keyboard focus given back: a dialog or panel remembers what had the
//! focus when it opened and hands it back when it closes, so a person on the
//! keyboard goes on from where they were, not from the window's first button.
//!
//! One place asks: the app tells [`FocusReturns`] at the start and the end of
//! each frame which dialogs, panels and menus are open; nothing else keeps a
//! focus.

/// The dialogs and panels open over the window, bottom first, each with what
/// had the focus when it opened.
#[derive(Debug, Default)]
pub struct FocusReturns {
    open: Vec<(egui::Id, Option<egui::Id>)>,
    /// What had the focus as this frame began, before its input opened
    /// anything (Enter on a button, Ctrl+E, F1); while a menu is open, what
    /// had it before the menu.
    before: Option<egui::Id>,
    /// What had the focus as this frame began, menu or not.
    at_begin: Option<egui::Id>,
    /// The focus to give back at the end of this frame.
    due: Option<egui::Id>,
}

impl FocusReturns {
    /// At the start of a frame, before anything is drawn. While a menu is
    /// open what it opens gives the focus back to what had it before the
    /// menu (its button), not to the menu's item, gone with the menu.
    pub fn begin_frame(&mut self, ctx: &egui::Context) {
        self.at_begin = ctx.memory(egui::Memory::focused);
        if !egui::Popup::is_any_open(ctx) {
            self.before = self.at_begin;
        }
    }

    /// Whether `id` has the keyboard focus or is about to get it back; if so
    /// the caller places the focus from now on (a deleted card's neighbour),
    /// and nothing is given back to `id`.
    pub fn hand_over(&mut self, ctx: &egui::Context, id: egui::Id) -> bool {
        if self.due == Some(id) {
            self.due = None;
            return true;
        }
        ctx.memory(egui::Memory::focused) == Some(id)
    }

    /// At the end of a frame, after everything is drawn: `open` is what is
    /// open now, bottom first. Nothing is given back when something else
    /// takes the focus's place: `placed`, a room put the focus somewhere
    /// itself (the gallery's card after the detail view moved to another
    /// image); a dialog opened as another closed (a menu's item); the focus
    /// moved as it closed (a click into a field closed a menu).
    ///
    /// What closed gives its focus back at the end of the *next* frame: until
    /// then egui still counts a closed modal as on top and drops the focus of
    /// every widget under it as it is drawn; a request made after drawing
    /// holds (egui keeps a focus requested in the frame it was requested).
    pub fn end_frame(&mut self, ctx: &egui::Context, open: &[egui::Id], placed: bool) {
        let opened = open
            .iter()
            .any(|id| !self.open.iter().any(|(was, _)| was == id));
        if let Some(id) = self.due.take()
            && !opened
            && !placed
        {
            ctx.memory_mut(|memory| memory.request_focus(id));
        }
        // The lowest that closed gives back: when a dialog and the one over it
        // close together, the focus goes where it was before both.
        let closed = self.open.iter().find(|(id, _)| !open.contains(id));
        let moved = ctx.memory(egui::Memory::focused) != self.at_begin;
        if let Some(&(_, back)) = closed
            && !placed
            && !opened
            && !moved
        {
            self.due = back;
        }
        self.open.retain(|(id, _)| open.contains(id));
        for id in open {
            if !self.open.iter().any(|(was, _)| was == id) {
                self.open.push((*id, self.before));
            }
        }
    }
}

/// Whether a widget of `ui` may show its tooltip: not while a modal dialog
/// is over it (egui keeps a tooltip open while the pointer rests on its
/// widget, so one opened before the dialog would stay on top of it).
pub fn tooltips_allowed(ui: &egui::Ui) -> bool {
    ui.ctx()
        .memory(|memory| memory.is_above_modal_layer(ui.layer_id()))
}

/// `response`'s context menu: a secondary click opens it at the pointer, as
/// egui's own does; with the focus on the widget, Shift+F10 or the Menu key
/// opens it under the widget (a keyboard has no pointer to open it at).
pub fn context_menu(response: &egui::Response, add_contents: impl FnOnce(&mut egui::Ui)) {
    let ctx = &response.ctx;
    let popup_id = egui::Popup::default_response_id(response);
    let by_key_id = popup_id.with("by-key");
    let by_key = response.has_focus()
        && ctx.input_mut(|i| {
            i.consume_key(egui::Modifiers::SHIFT, egui::Key::F10)
                || i.consume_key(egui::Modifiers::NONE, egui::Key::Menu)
        });
    if by_key || response.secondary_clicked() {
        ctx.data_mut(|data| data.insert_temp(by_key_id, by_key));
    }
    let opened_by_key = by_key
        || (egui::Popup::is_id_open(ctx, popup_id)
            && ctx.data(|data| data.get_temp::<bool>(by_key_id).unwrap_or(false)));
    let popup = if opened_by_key {
        let open = by_key.then_some(egui::SetOpenCommand::Bool(true));
        egui::Popup::menu(response).open_memory(open)
    } else {
        egui::Popup::context_menu(response)
    };
    popup.show(add_contents);
}
