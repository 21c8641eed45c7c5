// Without a console window on Windows; the desk is a GUI application.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    prefer_shared_memory_rendering();
    lifeline_desk::run()
}

/// WebKitGTK's DMA-BUF renderer, under software GL (virtual displays, remote desktops,
/// machines without a GPU driver) and with some GPU drivers, draws the map slower and uses
/// more memory, or shows a blank window; measured here with the map at 10^5 requests it
/// cost ~0.9 s to the first frame, ~20 ms a frame and ~80 MiB (docs/PERFORMANCE.md). An
/// officer who sets the variable keeps their choice.
fn prefer_shared_memory_rendering() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        // SAFETY: first thing in `main`, before any thread exists, so nothing reads the
        // environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
        }
    }
}
