// Without a console window on Windows; the desk is a GUI application.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    lifeline_desk::run()
}
