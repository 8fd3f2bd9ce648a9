//! A bare Tauri window: the floor Mailwire's start time and memory are compared with. Its page
//! reports when it is painted the way Mailwire's does: it invokes `first_paint` with
//! `performance.now()`, written to MAILWIRE_FIRST_PAINT_FILE when that is set.

#[tauri::command]
fn first_paint(ms: f64) {
    if let Ok(path) = std::env::var("MAILWIRE_FIRST_PAINT_FILE") {
        let _ = std::fs::write(path, format!("{ms}\n"));
    }
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![first_paint])
        .run(tauri::generate_context!())
        .expect("the bare window could not start");
}
