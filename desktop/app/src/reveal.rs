//! "Reveal in file manager": the OS's own file manager, showing a file of the
//! local data folder (selected where the file manager can select).

use std::path::Path;
use std::process::Command;

/// Opens the file manager at `path`: Explorer and Finder select the file; on
/// Linux and the BSDs, `xdg-open` opens the folder that holds it.
pub fn reveal(path: &Path) -> std::io::Result<()> {
    let mut command = if cfg!(target_os = "windows") {
        let mut command = Command::new("explorer");
        command.arg("/select,").arg(path);
        command
    } else if cfg!(target_os = "macos") {
        let mut command = Command::new("open");
        command.arg("-R").arg(path);
        command
    } else {
        let mut command = Command::new("xdg-open");
        command.arg(path.parent().unwrap_or(path));
        command
    };
    // Not waited for: the file manager lives on; its exit status says nothing.
    command.spawn().map(drop)
}
