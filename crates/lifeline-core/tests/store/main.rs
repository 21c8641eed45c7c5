//! Store behaviour against real SQLite files in a temporary folder.
//!
//! Where new tests go: one file per area (the modules below); a regression test is named
//! after the bug.

use chrono::Duration;
use lifeline_core::geo::BBox;
use lifeline_core::model::*;
use lifeline_core::store::{
    IncomingRequest, LocalState, OutboxState, RequestOrder, RequestQuery, Store, Withdrawal,
};

#[path = "../common/mod.rs"]
mod common;
use common::*;

mod derived_index;
mod encryption;
mod index;
mod messages;
mod migrations;
mod outbox;
mod queries;
mod retention;
mod upsert;
