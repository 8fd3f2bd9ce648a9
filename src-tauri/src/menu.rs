//! The app menu: the platform's standard menu plus "Open Log Folder".

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::App;

const OPEN_LOGS: &str = "open-log-folder";

pub fn install(app: &mut App) -> tauri::Result<()> {
    let handle = app.handle();
    let open_logs = MenuItem::with_id(handle, OPEN_LOGS, "Open Log Folder", true, None::<&str>)?;
    let menu = if cfg!(target_os = "macos") {
        let menu = Menu::default(handle)?;
        menu.append(&Submenu::with_items(handle, "Help", true, &[&open_logs])?)?;
        menu
    } else {
        let quit = PredefinedMenuItem::quit(handle, Some("Quit"))?;
        let file =
            Submenu::with_items(handle, "File", true, &[&open_logs, &PredefinedMenuItem::separator(handle)?, &quit])?;
        let edit = Submenu::with_items(
            handle,
            "Edit",
            true,
            &[
                &PredefinedMenuItem::cut(handle, None)?,
                &PredefinedMenuItem::copy(handle, None)?,
                &PredefinedMenuItem::paste(handle, None)?,
                &PredefinedMenuItem::select_all(handle, None)?,
            ],
        )?;
        Menu::with_items(handle, &[&file, &edit])?
    };
    app.set_menu(menu)?;
    app.on_menu_event(|app, event| {
        if event.id() == OPEN_LOGS {
            if let Err(e) = crate::commands::reveal_logs(app) {
                tracing::warn!("cannot open the log folder: {}", e.message);
            }
        }
    });
    Ok(())
}
