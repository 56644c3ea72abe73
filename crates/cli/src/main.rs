//! The `tabula` command-line tool. Today it has one command, `tabula demo`; the inspect, query,
//! check, dump and load commands arrive with the CLI issue. Built only on the `tabula` facade.

mod demo;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tabula: an embedded, in-memory table database with durable persistence.
#[derive(Debug, Parser)]
#[command(name = "tabula", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Builds the seed's university database (students, courses, enrollments) through ordinary
    /// commits with causes, and queries it.
    ///
    /// The database lives in memory for now: the durable engine that will write it to a
    /// directory is not built yet.
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Demo => demo::run(&mut out).map(drop),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`tabula demo | head`) is not an error worth a message.
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let _ = out.flush();
            let _ = writeln!(io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
