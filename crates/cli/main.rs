//! `iteration`: call LaunchDarkly's Experiments API from the shell, or serve
//! it locally (`iteration serve`).
//!
//! `args.rs` declares the command line, `settings.rs` resolves flags, the
//! environment and the settings file, `commands.rs` runs the experiment
//! commands, `catalog.rs` the flag, metric, metric group, context kind and
//! experimentation settings commands, `layers.rs` the layer and holdout
//! commands, `admin.rs` the administration commands of `iteration serve`,
//! `config.rs` the settings file commands, `output.rs` prints
//! results, `feedback.rs` does colour, progress and retry notices, `exit.rs` maps each class of failure to its
//! exit code, `serve.rs` runs the server.

mod admin;
mod args;
mod catalog;
mod commands;
mod config;
mod exit;
mod feedback;
mod layers;
mod output;
mod serve;
mod settings;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser as _};

use args::{Cli, Command};
use commands::{Done, Failure};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let json_errors = asks_for_json(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => return ExitCode::from(usage_failure(&error, json_errors)),
    };
    ExitCode::from(run(cli, json_errors))
}

fn run(cli: Cli, json_errors: bool) -> u8 {
    let env = settings::process_env;
    let outcome = match cli.command {
        Command::Serve(options) => {
            return match serve::main(options) {
                Ok(_) => exit::OK,
                Err(error) => {
                    let colour = feedback::stderr_colour();
                    let _ = writeln!(std::io::stderr(), "{} {error:#}", feedback::red("error:", colour));
                    exit::INVALID
                }
            };
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "iteration", &mut script);
            return write_stdout(&script, exit::OK);
        }
        Command::Man => {
            let mut page = Vec::new();
            return match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => write_stdout(&page, exit::OK),
                Err(error) => report(&Failure::Usage(format!("cannot render the man page: {error}")), false),
            };
        }
        Command::Config(command) => config::run(command, &env),
        command => {
            feedback::init_logs(verbosity(&command, &cli.client));
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(commands::run(command, cli.client, &env)),
                Err(error) => Err(Failure::Usage(format!("cannot start the async runtime: {error}"))),
            }
        }
    };
    match outcome {
        Ok(Done { text, code }) if text.is_empty() => code,
        Ok(Done { mut text, code }) => {
            text.push('\n');
            write_stdout(text.as_bytes(), code)
        }
        Err(failure) => report(&failure, json_errors),
    }
}

/// `-v` given before or after the command.
fn verbosity(command: &Command, top: &args::ClientOptions) -> u8 {
    let inner = command.client_options().map_or(0, |client| client.verbose);
    top.verbose.saturating_add(inner)
}

/// Writes the result; a reader that went away (`| head -1`) is not a
/// failure, so the command's own exit code stands and nothing panics.
fn write_stdout(bytes: &[u8], code: u8) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => code,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the output: {error}");
            exit::USAGE
        }
    }
}

/// Prints a failure on standard error, as JSON when asked; its exit code.
fn report(failure: &Failure, json: bool) -> u8 {
    let text = if json { failure.json() } else { failure.message(feedback::stderr_colour()) };
    let _ = writeln!(std::io::stderr(), "{text}");
    failure.exit_code()
}

/// Help and version go to standard output (exit 0); anything else is a
/// usage error (exit 2), printed by clap, or as JSON when asked.
fn usage_failure(error: &clap::Error, json: bool) -> u8 {
    let code = u8::try_from(error.exit_code()).unwrap_or(exit::USAGE);
    let is_output = matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if json && !is_output && error.kind() != ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let rendered = error.render().to_string();
        let message = rendered.lines().next().unwrap_or("").trim_start_matches("error: ").to_owned();
        let body = serde_json::json!({"error": {
            "kind": exit::kind(exit::USAGE), "exitCode": exit::USAGE, "message": message, "detail": rendered.trim_end(),
        }});
        let _ = writeln!(std::io::stderr(), "{body}");
        return exit::USAGE;
    }
    // A closed pipe while printing help is fine: nothing is left to say.
    let _ = error.print();
    code
}

/// Whether errors should be JSON: `-o json` or `--output json` among the
/// arguments, else `LD_OUTPUT=json`. Read before parsing, so that usage
/// errors follow it too.
fn asks_for_json(args: &[OsString]) -> bool {
    let words: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let mut chosen = None;
    for (i, word) in words.iter().enumerate() {
        if *word == "--" {
            break;
        }
        let value = match *word {
            "-o" | "--output" => words.get(i + 1).copied(),
            _ => word.strip_prefix("--output=").or_else(|| word.strip_prefix("-o")).filter(|v| !v.is_empty()),
        };
        if let Some(value) = value {
            chosen = Some(value.trim_start_matches('='));
        }
    }
    match chosen {
        Some(value) => value == "json",
        None => settings::process_env("LD_OUTPUT").is_some_and(|value| value.trim() == "json"),
    }
}
