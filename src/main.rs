//! `vigil`: the command-line edge of the workbench. A thin layer over the crates: it parses
//! arguments, sets up logging (stderr) and maps outcomes to exit codes — 0 ok, 1 a quality gate
//! failed, 2 error.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose, args.quiet);
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
