//! The mesolite binary: mode dispatch (master, agent, standalone, run, ctl, executor) and the
//! mapping of errors to exit codes.

mod agent_driver;
mod agent_http;
mod client;
mod convert;
mod ctl;
mod executor;
mod http;
mod master_driver;
mod master_http;
mod run;
mod server;
mod v1;

use mesolite_config::{Command, Outcome};
use std::fmt;
use std::io::Write;
use std::process::ExitCode;

/// Why the binary stopped with an error.
#[derive(Debug)]
pub enum MainError {
    /// Could not start (bad work dir, corrupt registry, port in use): exit 1.
    Startup(String),
    /// A running master hit an error it must not go on from (a registry write failed): exit 1.
    Fatal(String),
}

impl fmt::Display for MainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MainError::Startup(m) | MainError::Fatal(m) => f.write_str(m),
        }
    }
}

/// Writes to stdout; a closed pipe (`mesolite ctl | head`) is a clean exit, not an abort.
pub fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

fn main() -> ExitCode {
    let command = match mesolite_config::parse_from_env() {
        Outcome::Command(c) => c,
        Outcome::Help(text) => {
            print_out(&text);
            if !text.ends_with('\n') {
                print_out("\n");
            }
            return ExitCode::SUCCESS;
        }
        Outcome::Error(e) => {
            eprintln!("mesolite: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Master(c) => server::run_master(c),
        Command::Agent(c) => server::run_agent(c),
        Command::Standalone(c) => server::run_standalone(c),
        Command::Executor => return executor::main(),
        Command::Run(c) => return run::main(c),
        Command::Ctl(c) => return ctl::main(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mesolite: {e}");
            ExitCode::from(1)
        }
    }
}
