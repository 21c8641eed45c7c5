// Without a console window on Windows; the desk is a GUI application.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    tune_malloc();
    tune_webkit();
    lifeline_desk::run()
}

/// glibc's allocator, for a desk that answers every change over its whole store.
///
/// With 10^6 requests, each refresh of the queue, the counts or the clusters briefly holds
/// megabytes, on whichever of the async runtime's threads runs it. glibc's default serves
/// such blocks from per-thread arenas once one has been freed (its mmap threshold rises to
/// the largest block freed), and an arena keeps what it grew: the desk's own memory rose
/// from ~320 to ~1,040 MiB over a ten-minute drill (docs/PERFORMANCE.md). A fixed
/// threshold sends every block of 1 MiB or more to its own mapping, returned when freed,
/// and two arenas bound what small blocks can strand.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets the allocator's parameters; called first thing in `main`,
    // before any thread exists.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
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
