//! `lifeline-hub`: the reference hub, and its administration.
//!
//! `lifeline-hub --db PATH --listen ADDR --tls-cert CERT --tls-key KEY` serves the protocol.
//! `lifeline-hub --db PATH officers|channels|services|posts|sessions|audit …` administers it.
//! `lifeline-hub dev-ca --out DIR` makes a local CA and certificate for development.
//! `lifeline-hub drills` lists the drill scenarios (`--exercise --drill NAME` runs one).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use lifeline_hub::admin::{self, AdminError};
use lifeline_hub::drill::{DrillConfig, Scenario};
use lifeline_hub::limits::Limits;
use lifeline_hub::store::{CredentialKind, HubDb, HubStore};
use lifeline_hub::{HubConfig, TlsPaths, start};

#[derive(Debug, Parser)]
#[command(
    name = "lifeline-hub",
    version,
    about = "The Lifeline reference hub: sync protocol server with a drill simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The hub's store: a SQLite file (created when missing), or a PostgreSQL database as
    /// `postgres://USER@HOST:PORT/DATABASE` (several replicas may share one; the password,
    /// when one is needed, goes in LIFELINE_HUB_DB_PASSWORD, never in the URL).
    #[arg(long, default_value = "hub.sqlite", global = true)]
    db: String,
    /// The CA certificate (PEM) of the PostgreSQL server's certificate: TLS to the database,
    /// required when it is not on this machine.
    #[arg(long, global = true)]
    db_ca: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// The TLS certificate chain (PEM). With --tls-key the hub serves HTTPS; `kill -HUP`
    /// reloads both files.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A development token accepted for everything (every post, any actor). For drills and
    /// local development only; never on a hub with real data.
    #[arg(long, env = "LIFELINE_HUB_DEV_TOKEN", hide_env_values = true)]
    dev_token: Vec<String>,
    /// A file of development tokens, one per line (`#` starts a comment).
    #[arg(long)]
    dev_tokens: Option<PathBuf>,
    /// Exercise mode: request ids get `EX-`, and drills may run.
    #[arg(long)]
    exercise: bool,
    /// Replay a drill scenario (see `lifeline-hub drills`); needs --exercise.
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
    /// Intake requests per second per channel (bursts of ten times that are allowed).
    #[arg(long)]
    intake_rate: Option<f64>,
    /// Officers' messages handed to each intake channel per second (safety reminders to a
    /// whole area leave at this pace; the burst is four seconds' worth).
    #[arg(long)]
    channel_message_rate: Option<f64>,
    /// Connections open at once, in all.
    #[arg(long)]
    max_connections: Option<usize>,
    /// Connections open at once from one client address.
    #[arg(long)]
    max_connections_per_address: Option<usize>,
    /// Seconds a client has to send a whole request head (and to finish a TLS handshake).
    #[arg(long)]
    header_timeout: Option<f64>,
    /// Case events one request keeps at most (500, the most allowed; lower for tests).
    #[arg(long)]
    max_case_events: Option<usize>,
    /// A folder of region packs (PMTiles) to host: signed-in desks download them in the
    /// background and draw their streets offline.
    #[arg(long)]
    maps: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the drill scenarios.
    Drills,
    /// Make a local CA and a certificate for 127.0.0.1/localhost (development and tests).
    DevCa {
        #[arg(long)]
        out: PathBuf,
    },
    /// Start a throwaway PostgreSQL server in DIR (development and tests; emptied first) and
    /// print the URL of its database `lifeline`; `--stop` stops the one in DIR.
    DevPostgres {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long)]
        stop: bool,
        /// Stop the server and remove DIR once process PID has ended, however it ends.
        #[arg(long, value_name = "PID")]
        until_gone: Option<u32>,
    },
    /// Sets a drill hub up: the posts of a scenario's places and a duty officer of them.
    DrillAccounts {
        #[arg(long)]
        scenario: String,
        #[arg(long)]
        officer: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Embassies and consulates, and the countries they answer for.
    #[command(subcommand)]
    Posts(PostsCommand),
    /// Officers: who may sign in from a desk, with which role, for which posts.
    #[command(subcommand)]
    Officers(OfficersCommand),
    /// Intake channels (hotline, chat gateway): may only post requests.
    #[command(subcommand)]
    Channels(CredentialCommand),
    /// Service accounts for feeds and automation, with narrow scopes.
    #[command(subcommand)]
    Services(CredentialCommand),
    /// Signed-in desks.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The hash-chained audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Requests: erasure orders.
    #[command(subcommand)]
    Requests(RequestsCommand),
}

#[derive(Debug, Subcommand)]
enum PostsCommand {
    /// Adds (or changes) a post.
    Add {
        id: String,
        #[arg(long)]
        name_en: String,
        #[arg(long)]
        name_zh: String,
        /// ISO 3166-1 alpha-2 codes, comma-separated.
        #[arg(long)]
        countries: String,
        /// ISO 3166-2 codes of the sub-regions it covers (a consulate), comma-separated.
        #[arg(long, default_value = "")]
        subregions: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum OfficersCommand {
    /// Adds an officer. The password is read from standard input with --password-stdin,
    /// else a random one is made and shown once.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        /// duty_officer, supervisor, regional_viewer or admin.
        #[arg(long)]
        role: String,
        /// Post ids, comma-separated, or `*` for every post.
        #[arg(long, default_value = "")]
        posts: String,
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    Disable {
        id: String,
    },
    Enable {
        id: String,
    },
    /// Sets a new password (random unless --password-stdin) and ends every session.
    ResetPassword {
        id: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CredentialCommand {
    /// Adds one; its secret is shown once.
    Add {
        name: String,
        /// Service accounts: intake, advisories:publish, advisories:read, metrics:read
        /// (comma-separated).
        #[arg(long, default_value = "")]
        scopes: String,
    },
    List,
    /// A new secret; the old one stops working at once.
    Rotate {
        id: String,
    },
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    List {
        #[arg(long)]
        officer: Option<String>,
    },
    /// Ends a session: its desk is refused from its next request.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
enum RequestsCommand {
    /// Erases a request (right to erasure): at the hub now, and on every desk at its next
    /// sync. The audit trail records the erasure with --reference (the order's number;
    /// never personal data).
    Erase {
        id: String,
        #[arg(long)]
        reference: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recomputes the hash chain; fails naming the first entry that does not match.
    Verify,
    /// Entries since a time (RFC 3339 or YYYY-MM-DD), as JSON lines.
    Export {
        #[arg(long)]
        since: String,
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Archives entries before a time to a file, then drops them from the database.
    Rotate {
        #[arg(long)]
        before: String,
        #[arg(long)]
        archive: PathBuf,
    },
}

fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, AdminError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            AdminError::Usage(format!("`{text}` is not a time (2026-12-01 or RFC 3339)"))
        })
}

fn read_password(from_stdin: bool) -> Result<Option<String>, AdminError> {
    if !from_stdin {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| AdminError::Usage(format!("cannot read the password: {e}")))?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

fn administer(db: &HubDb, command: Command) -> Result<String, AdminError> {
    let store = db.open(lifeline_hub::store::MAX_CASE_EVENTS)?;
    let s = store.as_ref();
    match command {
        Command::Drills | Command::DevCa { .. } | Command::DevPostgres { .. } => Ok(String::new()),
        Command::Posts(PostsCommand::Add {
            id,
            name_en,
            name_zh,
            countries,
            subregions,
        }) => admin::add_post(s, &id, &name_en, &name_zh, &countries, &subregions),
        Command::Posts(PostsCommand::List) => admin::list_posts(s),
        Command::DrillAccounts {
            scenario,
            officer,
            name,
            password_stdin,
        } => {
            let scenario = Scenario::parse(&scenario).ok_or_else(|| {
                AdminError::Usage(format!(
                    "unknown drill `{scenario}` (see `lifeline-hub drills`)"
                ))
            })?;
            admin::drill_accounts(s, scenario, &officer, &name, read_password(password_stdin)?)
        }
        Command::Officers(OfficersCommand::Add {
            id,
            name,
            role,
            posts,
            password_stdin,
        }) => admin::add_officer(s, &id, &name, &role, &posts, read_password(password_stdin)?),
        Command::Officers(OfficersCommand::List) => admin::list_officers(s),
        Command::Officers(OfficersCommand::Disable { id }) => admin::set_disabled(s, &id, true),
        Command::Officers(OfficersCommand::Enable { id }) => admin::set_disabled(s, &id, false),
        Command::Officers(OfficersCommand::ResetPassword { id, password_stdin }) => {
            admin::reset_password(s, &id, read_password(password_stdin)?)
        }
        Command::Channels(c) => credential(s, CredentialKind::Channel, c),
        Command::Services(c) => credential(s, CredentialKind::Service, c),
        Command::Sessions(SessionsCommand::List { officer }) => {
            admin::list_sessions(s, officer.as_deref())
        }
        Command::Sessions(SessionsCommand::Revoke { id }) => admin::revoke_session(s, &id),
        Command::Audit(AuditCommand::Verify) => admin::verify_audit(s),
        Command::Requests(RequestsCommand::Erase { id, reference }) => {
            admin::erase_request(s, &id, &reference)
        }
        Command::Audit(AuditCommand::Export { since, output }) => {
            let since = parse_time(&since)?;
            let n = match output {
                Some(path) => {
                    let mut f = std::fs::File::create(&path).map_err(|e| AdminError::Write {
                        path: path.display().to_string(),
                        source: e,
                    })?;
                    admin::export_audit(s, since, &mut f)?
                }
                None => {
                    // The lines are the output (piped to a file or a tool): the count goes
                    // to stderr, so the output stays valid JSON lines.
                    let n = admin::export_audit(s, since, &mut std::io::stdout().lock())?;
                    eprintln!("{n} entries exported");
                    return Ok(String::new());
                }
            };
            Ok(format!("{n} entries exported"))
        }
        Command::Audit(AuditCommand::Rotate { before, archive }) => {
            admin::rotate_audit(s, parse_time(&before)?, &archive)
        }
    }
}

fn credential(
    s: &dyn HubStore,
    kind: CredentialKind,
    command: CredentialCommand,
) -> Result<String, AdminError> {
    match command {
        CredentialCommand::Add { name, scopes } => admin::add_credential(s, kind, &name, &scopes),
        CredentialCommand::List => admin::list_credentials(s, kind),
        CredentialCommand::Rotate { id } => admin::rotate_credential(s, &id),
        CredentialCommand::Revoke { id } => admin::revoke_credential(s, &id),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Drills) => {
            for s in Scenario::ALL {
                println!("{:<12} {}", s.name(), s.description());
            }
            return ExitCode::SUCCESS;
        }
        Some(Command::DevCa { out }) => {
            return match lifeline_hub::dev_ca::make(&out) {
                Ok(ca) => {
                    println!(
                        "CA {}\ncertificate {}\nkey {}",
                        ca.ca.display(),
                        ca.cert.display(),
                        ca.key.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("lifeline-hub: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::DevPostgres {
            dir,
            port,
            stop,
            until_gone,
        }) => {
            let done = if stop {
                lifeline_hub::dev_postgres::DevPostgres::at(&dir)
                    .and_then(|pg| pg.stop())
                    .map(|()| format!("stopped the server in {}", dir.display()))
            } else {
                lifeline_hub::dev_postgres::DevPostgres::start(&dir, port).and_then(|pg| {
                    if let Some(pid) = until_gone {
                        pg.stop_when_gone(pid)?;
                    }
                    pg.database("lifeline")
                })
            };
            return match done {
                Ok(said) => {
                    println!("{said}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("lifeline-hub: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(command) => {
            let db = match HubDb::from_arg(&cli.db, cli.db_ca.as_deref()) {
                Ok(db) => db,
                Err(e) => {
                    eprintln!("lifeline-hub: {e}");
                    return ExitCode::from(2);
                }
            };
            return match administer(&db, command) {
                Ok(out) => {
                    print!("{out}");
                    if !out.is_empty() && !out.ends_with('\n') {
                        println!();
                    }
                    ExitCode::SUCCESS
                }
                Err(e @ AdminError::Usage(_)) => {
                    eprintln!("lifeline-hub: {e}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("lifeline-hub: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        None => {}
    }
    serve(cli)
}

fn serve(cli: Cli) -> ExitCode {
    let mut dev_tokens = cli.dev_token.clone();
    if let Some(path) = &cli.dev_tokens {
        match std::fs::read_to_string(path) {
            Ok(text) => dev_tokens.extend(
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
    let mut limits = Limits::default();
    if let Some(rate) = cli.intake_rate {
        limits.intake_per_sec = rate;
        limits.intake_burst = rate * 10.0;
    }
    if let Some(n) = cli.max_connections {
        limits.max_connections = n;
    }
    if let Some(n) = cli.max_connections_per_address {
        limits.max_connections_per_address = n;
    }
    if let Some(n) = cli.max_case_events {
        limits.max_case_events = n;
    }
    if let Some(rate) = cli.channel_message_rate {
        limits.channel_messages_per_sec = rate;
        limits.channel_messages_burst = (rate * 4.0).max(1.0);
    }
    if let Some(s) = cli.header_timeout {
        limits.header_timeout = Duration::from_secs_f64(s.max(0.1));
    }
    let tls = match (cli.tls_cert, cli.tls_key) {
        (Some(cert), Some(key)) => Some(TlsPaths { cert, key }),
        _ => None,
    };
    if !dev_tokens.is_empty() {
        eprintln!(
            "lifeline-hub: WARNING: {} development token(s) accepted. A development token reads \
             every post's requests and acts under any name. Never use one on a hub with real \
             citizens' data: sign officers in instead (lifeline-hub officers add).",
            dev_tokens.len()
        );
    }
    let db = match HubDb::from_arg(&cli.db, cli.db_ca.as_deref()) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("lifeline-hub: {e}");
            return ExitCode::from(2);
        }
    };
    let config = HubConfig {
        db,
        listen: cli.listen,
        dev_tokens,
        tls,
        limits,
        exercise: cli.exercise,
        drill,
        maps: cli.maps,
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
        println!("lifeline-hub listening on {}", hub.url());
        if hub.state.exercise {
            eprintln!(
                "lifeline-hub: EXERCISE mode: every request and advisory here is an exercise"
            );
        }
        #[cfg(unix)]
        if let Some(tls) = hub.tls.clone() {
            tokio::spawn(async move {
                let Ok(mut hup) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                else {
                    return;
                };
                while hup.recv().await.is_some() {
                    match tls.reload() {
                        Ok(()) => eprintln!("lifeline-hub: TLS certificate reloaded"),
                        Err(e) => eprintln!(
                            "lifeline-hub: TLS reload failed, keeping the old certificate: {e}"
                        ),
                    }
                }
            });
        }
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
