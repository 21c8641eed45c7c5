//! `lifeline-hub`: the reference hub.
//!
//! `lifeline-hub --db PATH --listen ADDR --token T [--drill SCENARIO --rate PER_MINUTE --seed S]`
//! `lifeline-hub drills` lists the drill scenarios.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lifeline_hub::drill::{DrillConfig, Scenario};
use lifeline_hub::{HubConfig, start};

#[derive(Debug, Parser)]
#[command(
    name = "lifeline-hub",
    version,
    about = "The Lifeline reference hub: sync protocol server with a drill simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The hub's SQLite database (created when missing).
    #[arg(long, default_value = "hub.sqlite")]
    db: PathBuf,
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// A workstation token the hub accepts (repeatable).
    #[arg(long, env = "LIFELINE_HUB_TOKEN")]
    token: Vec<String>,
    /// A file of accepted tokens, one per line (`#` starts a comment).
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// Replay a drill scenario (see `lifeline-hub drills`).
    #[arg(long)]
    drill: Option<String>,
    /// Drill requests per minute, on average.
    #[arg(long, default_value_t = 30.0)]
    rate: f64,
    /// Seed of the drill (the same seed replays the same people and places).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop the drill after this many requests.
    #[arg(long)]
    drill_limit: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the drill scenarios.
    Drills,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Drills) = cli.command {
        for s in Scenario::ALL {
            println!("{:<12} {}", s.name(), s.description());
        }
        return ExitCode::SUCCESS;
    }
    let mut tokens = cli.token.clone();
    if let Some(path) = &cli.tokens {
        match std::fs::read_to_string(path) {
            Ok(text) => tokens.extend(
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
                    .filter(|l| !l.is_empty()),
            ),
            Err(e) => {
                eprintln!("lifeline-hub: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let drill = match cli.drill.as_deref() {
        None => None,
        Some(name) => match Scenario::parse(name) {
            Some(scenario) => Some(DrillConfig {
                scenario,
                rate_per_minute: cli.rate,
                seed: cli.seed,
                limit: cli.drill_limit,
            }),
            None => {
                let known: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                eprintln!(
                    "lifeline-hub: unknown drill `{name}`; scenarios: {}",
                    known.join(", ")
                );
                return ExitCode::from(2);
            }
        },
    };
    let config = HubConfig {
        db: cli.db,
        listen: cli.listen,
        tokens,
        drill,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lifeline-hub: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let hub = match start(config).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("lifeline-hub: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Tests and scripts read the address from this line.
        println!("lifeline-hub listening on http://{}", hub.addr);
        let stop = hub.stop;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => { let _ = stop.send(()); ExitCode::SUCCESS }
            result = hub.task => match result {
                Ok(Ok(())) => ExitCode::SUCCESS,
                Ok(Err(e)) => { eprintln!("lifeline-hub: {e}"); ExitCode::FAILURE }
                Err(e) => { eprintln!("lifeline-hub: {e}"); ExitCode::FAILURE }
            },
        }
    })
}
