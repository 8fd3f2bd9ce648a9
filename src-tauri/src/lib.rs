//! The Mailwire desktop shell: a Tauri window over `mailwire-core`. Commands are thin adapters.

pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running the Mailwire window");
}
