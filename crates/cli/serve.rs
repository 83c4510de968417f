//! `iteration serve`: the Experiments API on this machine.
//!
//! `iteration serve --help` lists the options ([`ServeArgs`]).
//!
//! Data lives in `--data-dir` (default `./.iteration-data`, an SQLite
//! database that one server at a time may open: a second one on the same
//! directory fails to start), or only in memory with `--in-memory`. The world (projects,
//! flags, metrics, tokens) comes from `--world FILE`, or `--demo`, or else
//! from the data directory, where it was saved the first time. The server
//! prints the address it actually listens on (so `--listen 127.0.0.1:0`
//! works; a host name is resolved when the arguments are read, so a name
//! that does not resolve is a usage error), logs each request (`RUST_LOG` filters; tokens are never logged)
//! and shuts down gracefully on Ctrl-C or SIGTERM.
//!
//! `--bench-baseline-route`, for `cargo xtask bench` only and not in the
//! usage, adds `POST /__bench/fixed?size=N`: a fixed JSON body of N bytes,
//! the baseline the benchmarks put create iteration against.

use std::io::{IsTerminal as _, Write as _};
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use iteration_api::server::store::{MemoryStore, SqliteStore, Store};
use iteration_api::server::world::World;
use iteration_api::server::{App, AppConfig, RateLimits, seed_store};
use iteration_transport::{Server, ServerConfig, TlsConfig};

/// The allocator of the whole binary, chosen here because serving is what
/// needs it: under load, glibc's malloc spent more of the server's time
/// than all of its own code (freeing memory another worker thread
/// allocated, consolidating free lists), and create iteration ran at half
/// the requests per second it reaches with mimalloc (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AFTER_HELP: &str = "\
Without --demo or --world, the world saved in the data directory is served.
Logs go to standard error (RUST_LOG filters them; tokens are never logged).
Ctrl-C or SIGTERM stops the server after the requests in flight finish.

Examples:
  iteration serve --demo
  iteration serve --demo --in-memory --listen localhost:0
  iteration serve --world world.json --data-dir ./data --tls-cert cert.pem --tls-key key.pem
  iteration serve --demo --rate-limit 5 --log-format json
  iteration serve --demo --in-memory --journal-size 0";

/// `iteration serve`'s options.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct ServeArgs {
    /// The built-in demo world (docs/demo-world.md): project my-project, tokens api-demo-writer and api-demo-reader
    #[arg(long, conflicts_with = "world", help_heading = "World (projects, flags, metrics, tokens)")]
    demo: bool,
    /// A world file of your own (docs/world-format.md)
    #[arg(long, value_name = "FILE", help_heading = "World (projects, flags, metrics, tokens)")]
    world: Option<PathBuf>,
    /// Keep data in SQLite in DIR [default: ./.iteration-data]; every write is on disk before it is answered; one server per directory
    #[arg(long, value_name = "DIR", conflicts_with = "in_memory", help_heading = "Data")]
    data_dir: Option<PathBuf>,
    /// Keep nothing after the server stops
    #[arg(long, help_heading = "Data")]
    in_memory: bool,
    /// How many experiment records the SQLite store caches in memory (0: none; the rest are read from disk when asked for)
    #[arg(long, value_name = "N", default_value_t = SqliteStore::DEFAULT_CACHE_RECORDS, conflicts_with = "in_memory", help_heading = "Data")]
    cache_records: usize,
    /// Host name or address, and port (port 0 picks one; the first line printed names it)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080", value_parser = listen_address, help_heading = "Network")]
    listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_key", help_heading = "Network")]
    tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_cert", help_heading = "Network")]
    tls_key: Option<PathBuf>,
    /// Requests per route per ten-second window [default: 300]
    #[arg(long, value_name = "N", help_heading = "Rate limits")]
    rate_limit: Option<u32>,
    /// Requests per token per ten-second window [default: 150]
    #[arg(long, value_name = "N", help_heading = "Rate limits")]
    token_rate_limit: Option<u32>,
    /// No rate limits at all
    #[arg(long, conflicts_with_all = ["rate_limit", "token_rate_limit"], help_heading = "Rate limits")]
    no_rate_limit: bool,
    /// How many requests the journal (GET /_iteration/requests) keeps; 0 switches it off
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u16).range(0..=1000), help_heading = "Test double")]
    journal_size: u16,
    /// Log lines as text (coloured on a terminal, unless NO_COLOR is set) or JSON
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text", help_heading = "Logs")]
    log_format: LogFormat,
    /// For `cargo xtask bench` only: adds POST /__bench/fixed?size=N, a fixed body of N bytes
    #[arg(long, hide = true)]
    bench_baseline_route: bool,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// One line per event for people
    Text,
    /// One JSON object per line for log collectors
    Json,
}

/// Where data lives when no `--data-dir` is given.
const DEFAULT_DATA_DIR: &str = ".iteration-data";

/// `--listen`: `127.0.0.1:8080`, `[::1]:0` or a host name such as
/// `localhost:8080`, resolved now; IPv4 first, as users of `localhost`
/// expect `127.0.0.1`.
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    if text.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_err()) {
        return Err("give a host and a port, such as 127.0.0.1:8080 or localhost:8080".to_owned());
    }
    let addresses: Vec<SocketAddr> =
        text.to_socket_addrs().map_err(|e| format!("cannot resolve {text}: {e}"))?.collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("{text} resolves to no address"))
}

impl ServeArgs {
    fn limits(&self) -> RateLimits {
        if self.no_rate_limit {
            return RateLimits::OFF;
        }
        let mut limits = RateLimits::default();
        if let Some(route) = self.rate_limit {
            limits.route = Some(route);
        }
        if let Some(token) = self.token_rate_limit {
            limits.token = Some(token);
        }
        limits
    }
}

/// Runs `iteration serve` until SIGINT or SIGTERM.
pub(crate) fn main(options: ServeArgs) -> anyhow::Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match options.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(crate::feedback::colour(std::io::stderr().is_terminal())).init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(options))?;
    Ok(ExitCode::SUCCESS)
}

/// A line on standard output; a closed pipe is no reason to stop serving.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

async fn serve(options: ServeArgs) -> anyhow::Result<()> {
    let (store, location): (Arc<dyn Store>, String) = if options.in_memory {
        (Arc::new(MemoryStore::new()), "in memory only (lost on exit)".to_owned())
    } else {
        let dir = options.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let open_dir = dir.clone();
        let cache_records = options.cache_records;
        let store =
            tokio::task::spawn_blocking(move || SqliteStore::open_with_cache(&open_dir, cache_records))
                .await?
                .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
        (Arc::new(store), format!("in {}", dir.display()))
    };
    let world = if options.demo {
        World::demo()
    } else if let Some(path) = &options.world {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        World::from_json(&bytes).with_context(|| format!("{} is not a valid world", path.display()))?
    } else {
        match store.load_world().await? {
            Some(world) => world,
            None => {
                bail!("no world yet in this data directory: start once with --demo or --world FILE")
            }
        }
    };
    let seeded = seed_store(store.as_ref(), &world).await?;

    let mut server_config = ServerConfig::default();
    if let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) {
        server_config.tls =
            Some(TlsConfig::from_pem_files(cert, key).context("cannot load the TLS certificate")?);
    }
    let scheme = if server_config.tls.is_some() { "https" } else { "http" };
    let server = Server::bind(options.listen, server_config).await?;
    say(&format!("listening on {scheme}://{}", server.local_addr()));
    say(&format!("data {location}; {seeded} seed experiment(s) added"));
    if options.demo {
        say("demo tokens: api-demo-writer (writer), api-demo-reader (reader), api-demo-admin (admin)");
    }
    let config = AppConfig::default()
        .with_rate_limits(options.limits())
        .with_bench_baseline(options.bench_baseline_route)
        .with_journal_capacity(usize::from(options.journal_size));
    let app = App::new(store, Arc::new(world), config);
    server.serve(app, shutdown_signal()).await?;
    say("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        // If the handler cannot be installed, wait for the other signal.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
