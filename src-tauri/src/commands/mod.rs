//! Tauri commands, one file per area. Each deserialises, calls the core, converts to a DTO,
//! returns. Every command here must also be listed in `build.rs` and granted in
//! `capabilities/main.json`, or the window cannot call it.

pub mod actions;
pub mod advisories;
pub mod alerts;
pub mod downloads;
pub mod export;
pub mod handover;
pub mod map;
pub mod map_packs;
pub mod media;
pub mod messages;
pub mod panel;
pub mod places;
pub mod requests;
pub mod session;
pub mod settings;
pub mod sync;

use std::sync::Arc;

use tauri::State;

use crate::state::Desk;

/// The desk, as commands receive it.
pub type DeskState<'a> = State<'a, Arc<Desk>>;
