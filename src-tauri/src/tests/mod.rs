//! Checks that keep the shell's contracts honest: the UI's types match the Rust DTOs, and
//! the command list, the handler, the capability file and the UI's calls agree.

mod bindings;
mod capabilities;
