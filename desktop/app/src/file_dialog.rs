//! Whether a file dialog can open at all. On Linux and the BSDs rfd asks the
//! XDG desktop portal over D-Bus and falls back to `zenity`; with neither it
//! returns nothing, exactly as when a person cancels. So when a dialog comes
//! back empty, [`unavailable`] looks for what rfd needs, and the app says what
//! to install instead of doing nothing.

use std::path::{Path, PathBuf};

/// Shows a dialog (it blocks: call it off the async threads) and tells a
/// cancel (`Ok(None)`) from no dialog at all (`Err`: what to tell the person).
pub fn ask<T>(dialog: impl FnOnce() -> Option<T>) -> Result<Option<T>, String> {
    match dialog() {
        Some(chosen) => Ok(Some(chosen)),
        None => unavailable().map_or(Ok(None), Err),
    }
}

/// What to tell a person when no file dialog can open; `None` when one can
/// (the empty answer was a cancel).
pub fn unavailable() -> Option<String> {
    if !cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd"
    )) {
        return None;
    }
    let env = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let found = Found {
        zenity: on_path(env("PATH").as_deref(), "zenity"),
        session_bus: env("DBUS_SESSION_BUS_ADDRESS").is_some()
            || env("XDG_RUNTIME_DIR").is_some_and(|dir| dir.join("bus").exists()),
        portal: portal_installed(&data_dirs(env("XDG_DATA_DIRS").as_deref())),
    };
    found.message()
}

/// What was found on this machine.
#[derive(Debug, Clone, Copy)]
struct Found {
    zenity: bool,
    session_bus: bool,
    /// xdg-desktop-portal and a backend that offers the file chooser.
    portal: bool,
}

impl Found {
    fn message(self) -> Option<String> {
        if self.zenity || (self.session_bus && self.portal) {
            return None;
        }
        let why = if self.portal {
            "the desktop portal is installed but there is no D-Bus session to reach it"
        } else {
            "neither the desktop portal (xdg-desktop-portal with a backend such as xdg-desktop-portal-gtk) nor zenity is installed"
        };
        Some(format!(
            "No file dialog can open: {why}. Install xdg-desktop-portal-gtk (or -kde) or zenity, or drop the files on the window."
        ))
    }
}

fn on_path(path: Option<&Path>, program: &str) -> bool {
    path.is_some_and(|path| std::env::split_paths(path).any(|dir| dir.join(program).is_file()))
}

fn data_dirs(xdg_data_dirs: Option<&Path>) -> Vec<PathBuf> {
    match xdg_data_dirs {
        Some(dirs) if !dirs.as_os_str().is_empty() => std::env::split_paths(dirs).collect(),
        _ => vec![
            PathBuf::from("/usr/local/share"),
            PathBuf::from("/usr/share"),
        ],
    }
}

/// The portal's D-Bus service and a `*.portal` file offering the `FileChooser`.
fn portal_installed(data_dirs: &[PathBuf]) -> bool {
    let service = data_dirs.iter().any(|dir| {
        dir.join("dbus-1/services/org.freedesktop.portal.Desktop.service")
            .is_file()
    });
    let chooser = data_dirs.iter().any(|dir| {
        std::fs::read_dir(dir.join("xdg-desktop-portal/portals"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                std::fs::read_to_string(entry.path())
                    .is_ok_and(|text| text.contains("org.freedesktop.impl.portal.FileChooser"))
            })
    });
    service && chooser
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_portal_or_zenity_it_says_what_to_install() {
        let none = Found {
            zenity: false,
            session_bus: true,
            portal: false,
        };
        let message = none.message().unwrap();
        assert!(message.contains("zenity") && message.contains("xdg-desktop-portal"));
        let zenity = Found {
            zenity: true,
            ..none
        };
        assert_eq!(zenity.message(), None);
        let portal = Found {
            portal: true,
            ..none
        };
        assert_eq!(portal.message(), None);
    }

    #[test]
    fn a_portal_with_a_file_chooser_backend_counts() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_owned();
        assert!(!portal_installed(std::slice::from_ref(&data)));
        std::fs::create_dir_all(data.join("dbus-1/services")).unwrap();
        std::fs::write(
            data.join("dbus-1/services/org.freedesktop.portal.Desktop.service"),
            "[D-BUS Service]\n",
        )
        .unwrap();
        std::fs::create_dir_all(data.join("xdg-desktop-portal/portals")).unwrap();
        std::fs::write(
            data.join("xdg-desktop-portal/portals/gtk.portal"),
            "[portal]\nInterfaces=org.freedesktop.impl.portal.FileChooser;\n",
        )
        .unwrap();
        assert!(portal_installed(&[data]));
    }
}
