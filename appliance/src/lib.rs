//! The mesolite appliance as a library: the drivers, the HTTP APIs and the CLI subcommands that
//! the `mesolite` binary dispatches to (a library so integration tests and benches can reach them).

pub mod agent_driver;
pub mod agent_gc;
pub mod agent_http;
pub mod agent_recovery;
pub mod agent_volumes;
pub mod client;
pub mod convert;
pub mod ctl;
pub mod event_queue;
pub mod executor;
pub mod http;
pub mod master_driver;
pub mod master_http;
pub mod operator;
pub mod run;
pub mod server;
pub mod v1;

use std::fmt;
use std::io::Write;

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
