//! `iteration serve`: the Experiments API on this machine.
//!
//! ```text
//! iteration serve [--demo] [--world FILE] [--data-dir DIR | --in-memory]
//!                 [--listen ADDR] [--tls-cert PEM --tls-key PEM]
//!                 [--rate-limit N] [--token-rate-limit N] [--no-rate-limit]
//! ```
//!
//! Data lives in `--data-dir` (default `./.iteration-data`, an SQLite
//! database that one server at a time may open: a second one on the same
//! directory fails to start), or only in memory with `--in-memory`. The world (projects,
//! flags, metrics, tokens) comes from `--world FILE`, or `--demo`, or else
//! from the data directory, where it was saved the first time. The server
//! prints the address it actually listens on (so `--listen 127.0.0.1:0`
//! works), logs each request (`RUST_LOG` filters; tokens are never logged)
//! and shuts down gracefully on Ctrl-C or SIGTERM.
//!
//! `--bench-baseline-route`, for `cargo xtask bench` only and not in the
//! usage, adds `POST /__bench/fixed?size=N`: a fixed JSON body of N bytes,
//! the baseline the benchmarks put create iteration against.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
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

const USAGE: &str = "usage: iteration serve [--demo] [--world FILE] [--data-dir DIR | --in-memory] \
                     [--listen ADDR] [--tls-cert PEM --tls-key PEM] [--rate-limit N] \
                     [--token-rate-limit N] [--no-rate-limit]";

/// `iteration serve --help`: every option with its default.
const HELP: &str = "\
iteration serve: LaunchDarkly's Experiments API on this machine

USAGE:
    iteration serve [OPTIONS]

WORLD (projects, flags, metrics, tokens):
    --demo                 the built-in demo world (docs/demo-world.md):
                           project my-project, tokens api-demo-writer (writer)
                           and api-demo-reader (reader)
    --world FILE           a world file of your own (docs/world-format.md)
                           Without either, the world saved in the data directory.

DATA:
    --data-dir DIR         SQLite in DIR (default ./.iteration-data); every write is on
                           disk before it is answered, and survives restarts;
                           one server at a time per directory
    --in-memory            keep nothing after the server stops

NETWORK:
    --listen ADDR          address and port (default 127.0.0.1:8080; port 0 picks one,
                           and the first line printed names it)
    --tls-cert PEM         serve HTTPS with this certificate chain...
    --tls-key PEM          ...and this private key (both or neither)

RATE LIMITS (per ten-second window):
    --rate-limit N         requests per route (default 300)
    --token-rate-limit N   requests per token (default 150)
    --no-rate-limit        no limits at all

Logs go to standard error (RUST_LOG filters them; tokens are never logged).
Ctrl-C or SIGTERM stops the server after the requests in flight finish.";

/// Where data lives when no `--data-dir` is given.
const DEFAULT_DATA_DIR: &str = ".iteration-data";

#[derive(Debug)]
struct Options {
    demo: bool,
    world: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    in_memory: bool,
    listen: SocketAddr,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    limits: RateLimits,
    bench_baseline: bool,
}

fn parse(args: Vec<OsString>) -> anyhow::Result<Option<Options>> {
    use lexopt::prelude::*;
    let mut options = Options {
        demo: false,
        world: None,
        data_dir: None,
        in_memory: false,
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        tls_cert: None,
        tls_key: None,
        limits: RateLimits::default(),
        bench_baseline: false,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("demo") => options.demo = true,
            Long("world") => options.world = Some(parser.value()?.into()),
            Long("data-dir") => options.data_dir = Some(parser.value()?.into()),
            Long("in-memory") => options.in_memory = true,
            Long("listen") => options.listen = parser.value()?.parse()?,
            Long("tls-cert") => options.tls_cert = Some(parser.value()?.into()),
            Long("tls-key") => options.tls_key = Some(parser.value()?.into()),
            Long("rate-limit") => options.limits.route = Some(parser.value()?.parse()?),
            Long("token-rate-limit") => options.limits.token = Some(parser.value()?.parse()?),
            Long("no-rate-limit") => options.limits = RateLimits::OFF,
            Long("bench-baseline-route") => options.bench_baseline = true,
            Short('h') | Long("help") => {
                println!("{HELP}");
                return Ok(None);
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    if options.demo && options.world.is_some() {
        bail!("give --demo or --world, not both\n{USAGE}");
    }
    if options.in_memory && options.data_dir.is_some() {
        bail!("give --data-dir or --in-memory, not both\n{USAGE}");
    }
    if options.tls_cert.is_some() != options.tls_key.is_some() {
        bail!("--tls-cert and --tls-key go together\n{USAGE}");
    }
    Ok(Some(options))
}

/// Runs `iteration serve ARGS...` until SIGINT or SIGTERM.
pub(crate) fn main(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let Some(options) = parse(args)? else { return Ok(ExitCode::SUCCESS) };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(options))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(options: Options) -> anyhow::Result<()> {
    let (store, location): (Arc<dyn Store>, String) = if options.in_memory {
        (Arc::new(MemoryStore::new()), "in memory only (lost on exit)".to_owned())
    } else {
        let dir = options.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let open_dir = dir.clone();
        let store = tokio::task::spawn_blocking(move || SqliteStore::open(&open_dir))
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
                bail!("no world yet in this data directory: start once with --demo or --world FILE\n{USAGE}")
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
    println!("listening on {scheme}://{}", server.local_addr());
    println!("data {location}; {seeded} seed experiment(s) added");
    if options.demo {
        println!("demo tokens: api-demo-writer (writer), api-demo-reader (reader)");
    }
    let config =
        AppConfig::default().with_rate_limits(options.limits).with_bench_baseline(options.bench_baseline);
    let app = App::new(store, Arc::new(world), config);
    server.serve(app, shutdown_signal()).await?;
    println!("stopped");
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
