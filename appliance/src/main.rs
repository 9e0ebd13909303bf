//! The mesolite binary: mode dispatch (master, agent, standalone, run, ctl, executor) and the
//! mapping of errors to exit codes.

use mesolite_appliance::{ctl, executor, print_out, run, server};
use mesolite_config::{Command, Outcome};
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match mesolite_config::parse_from_env() {
        Outcome::Command(c) => *c,
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
