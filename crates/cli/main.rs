//! `iteration`: call LaunchDarkly's Experiments API from the shell, or serve
//! it locally (`iteration serve`).

mod args;
mod commands;
mod exit;
mod output;
mod serve;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use args::Command;

const HELP: &str = "\
iteration: create and run experiment iterations through LaunchDarkly's Experiments API

USAGE:
    iteration [OPTIONS] <COMMAND>

COMMANDS:
    create --project P --environment E --experiment X --file FILE|- [--dry-run]
        Create an iteration from a JSON body (IterationInput). --dry-run only
        checks the body, offline, and needs no token.
    validate FILE|-
        Check an iteration, experiment or semantic patch offline; print every
        problem with its JSON Pointer.
    experiment get --project P --environment E --experiment X [--expand PARTS]
    experiment list --project P [--environment E] [--limit N] [--offset N]
            [--filter flagKey:K,metricKey:M,status:S] [--expand PARTS]
            [--lifecycle-state active|archived|all] [--all]
        Without --environment, list the whole project. --all walks every page.
    experiment start   --project P --environment E --experiment X [--justification TEXT]
    experiment stop    --project P --environment E --experiment X --winner TREATMENT_ID [--reason TEXT]
    experiment archive --project P --environment E --experiment X
    experiment restore --project P --environment E --experiment X
    serve [SERVE OPTIONS]
        Serve the API locally; see `iteration serve --help`.

    PARTS: draftIteration,previousIterations,treatments,secondaryMetrics,analysisConfig,
           mutableFieldsByStatus

OPTIONS:
    --base-url URL      API server (default https://app.launchdarkly.com)
    --federal           use https://app.launchdarkly.us
    --eu                use https://app.eu.launchdarkly.com
    --token-file PATH   read the access token from a file
    --api-version V     LD-API-Version header (default 20240415)
    -o, --output FORMAT json (default) or table
    -h, --help          print this help
    -V, --version       print the version

TOKEN:
    Read from --token-file, else LD_API_KEY, else LD_ACCESS_TOKEN. Never taken
    as an argument, so that it stays out of the process list and shell history.
";

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|first| first == "serve") {
        args.remove(0);
        return match serve::main(args) {
            Ok(code) => code,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    ExitCode::from(run(args))
}

/// Parses and runs a client command; returns the exit code.
fn run(args: Vec<OsString>) -> u8 {
    let (command, globals) = match args::parse(args) {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("error: {error}\nrun `iteration --help` for usage");
            return exit::USAGE;
        }
    };
    match command {
        Command::Help => {
            println!("{HELP}\n{}", exit::TABLE);
            return exit::OK;
        }
        Command::Version => {
            println!("iteration {}", env!("CARGO_PKG_VERSION"));
            return exit::OK;
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return exit::TRANSPORT;
        }
    };
    match runtime.block_on(commands::run(command, &globals)) {
        Ok((text, code)) => {
            // A closed pipe (`| head`) is not worth a panic.
            let _ = writeln!(std::io::stdout(), "{text}");
            code
        }
        Err(failure) => {
            eprintln!("{}", failure.message());
            failure.exit_code()
        }
    }
}
