//! Declares the app's commands so each gets an `allow-…` permission; with an app manifest, Tauri
//! refuses every command the capability does not grant, so the webview can call nothing else.

const COMMANDS: &[&str] = &[
    "list_profiles",
    "get_profile",
    "save_profile",
    "delete_profile",
    "duplicate_profile",
    "validate_field",
    "import_google_key",
    "create_certificate",
    "import_certificate",
    "unlock_certificate",
    "export_certificate",
    "google_delegation_info",
    "run_check",
    "cancel_check",
    "get_last_report",
    "export_report",
    "save_report",
    "start_sandbox",
    "open_link",
    "copy_text",
    "open_log_folder",
    "app_info",
    "get_network_settings",
    "save_network_settings",
    "choose_ca_file",
    "first_paint",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    // The app package is the workspace root, so its capabilities are found under src-tauri/.
    // tauri-build writes the generated per-command permissions to ./permissions (git-ignored).
    let attributes = tauri_build::Attributes::new()
        .app_manifest(manifest)
        .capabilities_path_pattern("./src-tauri/capabilities/**/*");
    tauri_build::try_build(attributes).expect("the Tauri build configuration is invalid");
}
