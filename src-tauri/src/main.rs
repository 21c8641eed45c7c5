// Without a console window on Windows; the desk is a GUI application.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    tune_webkit();
    lifeline_desk::run()
}

/// WebKitGTK settings the desk needs, set through the environment because WebKit reads them
/// there (also in the web process it starts). Each was measured with the map at 10^5
/// requests and during a drill (docs/PERFORMANCE.md). An officer who sets one of these
/// variables keeps their choice.
///
/// - `WEBKIT_DISABLE_DMABUF_RENDERER`: the DMA-BUF renderer, under software GL (virtual
///   displays, remote desktops, machines without a GPU driver) and with some GPU drivers,
///   draws the map slower and uses more memory, or shows a blank window; it cost ~0.9 s to
///   the first frame, ~20 ms a frame and ~80 MiB.
/// - `JSC_forceMiniVMMode`: JavaScriptCore sizes its heap from the machine's RAM and, on a
///   workstation with plenty of it, lets a page that redraws all day (the queue, the map's
///   clusters and the timeline refresh with every change) grow by ~150 MiB of garbage
///   before collecting. The compact mode collects earlier; the map's frame times did not
///   change.
fn tune_webkit() {
    #[cfg(target_os = "linux")]
    for (name, value) in [
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
        ("JSC_forceMiniVMMode", "true"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: first thing in `main`, before any thread exists, so nothing reads the
            // environment concurrently.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(name, value);
            }
        }
    }
}
