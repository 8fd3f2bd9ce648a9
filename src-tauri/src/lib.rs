//! The Mailwire desktop shell: a Tauri window over `mailwire-core`.
//!
//! Commands in [`commands`] are thin adapters: they parse arguments, call one core function and
//! return a DTO. No command ever returns a secret or a token; the webview learns only that a secret
//! is stored. The Google key is read in Rust and its private key goes straight to the keychain.

pub mod commands;
mod logging;
mod menu;
pub mod sandbox;
pub mod state;

use tauri::Manager;

/// Registers every command on `builder`; the app and the mock-runtime tests share it.
pub fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::list_profiles,
        commands::get_profile,
        commands::save_profile,
        commands::delete_profile,
        commands::duplicate_profile,
        commands::validate_field,
        commands::import_google_key,
        commands::create_certificate,
        commands::import_certificate,
        commands::unlock_certificate,
        commands::export_certificate,
        commands::google_delegation_info,
        commands::run_check,
        commands::cancel_check,
        commands::get_last_report,
        commands::export_report,
        commands::save_report,
        commands::start_sandbox,
        commands::open_link,
        commands::copy_text,
        commands::open_log_folder,
        commands::app_info,
        commands::get_network_settings,
        commands::save_network_settings,
        commands::choose_ca_file,
        commands::first_paint,
    ])
}

pub fn run() {
    let log_guard = logging::init();
    with_commands(tauri::Builder::default())
        // Must come first: a second launch hands over to the running window and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(|app| {
            let state = state::AppState::from_environment()?;
            // The first screen's connections come with the page, so it paints without waiting
            // for the first command round trip, which can be the slowest of all.
            let boot = commands::boot_script(&state);
            app.manage(state);
            let config = app.config().app.windows.first().cloned().ok_or("tauri.conf.json defines no window")?;
            tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?.initialization_script(&boot).build()?;
            menu::install(app)?;
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the Mailwire window could not start");
    drop(log_guard);
}
