//! `lifeline`: the desk without a window. Regional desks script against it; the project's
//! tests drive it. Every command takes `--db PATH` and `--json`.

/// `println!` that returns an error instead of panicking when standard output is closed
/// (`lifeline requests | head`).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
            .map_err(|e| $crate::CliError::Write { what: "standard output".into(), source: e })
    }};
}

mod args;
mod commands;
mod filters;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// Why a command stopped. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] lifeline_core::store::StoreError),
    #[error("cannot write {what}: {source}")]
    Write {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("nothing could be read from the given files")]
    NothingRead,
    #[error("{0}")]
    Sync(String),
    /// The hub refused what was asked (a right the officer's role does not have).
    #[error("{0}")]
    Refused(String),
    /// A file was read and is not what it must be (a damaged map pack).
    #[error("{0}")]
    BadFile(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Write { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lifeline: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    // Map packs are files beside the store: the store itself (encrypted on a desk) is not
    // opened for them.
    if let Command::Maps { action } = &cli.command {
        return commands::maps::run(&cli.db, action, cli.json);
    }
    let store = lifeline_core::Store::open(&cli.db)?;
    let json = cli.json;
    match cli.command {
        Command::Import(a) => commands::import::run(&store, a, json),
        Command::Requests(a) => commands::requests::run(&store, a, json),
        Command::Export(a) => commands::export::run(&store, a),
        Command::Stats(a) => commands::stats::run(&store, a, json),
        Command::Advisories(a) => commands::advisories::run(&store, a, json),
        Command::Quarantine { limit } => commands::quarantine::run(&store, limit, json),
        Command::Sync(a) => commands::sync::run(store, a, json),
        Command::Outbox { all } => commands::outbox::list(&store, all, json),
        Command::Act(a) => commands::outbox::act(&store, a, json),
        Command::Messages { request_id } => commands::messages::thread(&store, &request_id, json),
        Command::Reply(a) => commands::messages::reply(&store, a, json),
        Command::Remind(a) => commands::messages::remind(&store, a, json),
        Command::Purge {
            closed_older_than_days: days,
        } => {
            let n = store.purge_closed(chrono::Utc::now() - chrono::Duration::days(days.max(0)))?;
            say!("erased {n} requests closed over {days} days ago")
        }
        Command::Erase { ids } => {
            let n = store.erase(&ids)?;
            say!("erased {n} of {} requests", ids.len())
        }
        Command::Maps { .. } => Ok(()),
    }
}
