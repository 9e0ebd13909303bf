//! mesolite-config: flags (argh) and environment variables, validated into types that cannot hold invalid values.
//!
//! The binary calls [`parse_from_env`] and acts on the [`Outcome`]: run the [`Command`], print
//! [`Outcome::Help`] to stdout and exit 0, or print [`Outcome::Error`] to stderr and exit 2.
//!
//! Every flag can also come from `MESOLITE_<FLAG>` (`--work-dir`: `MESOLITE_WORK_DIR`); a flag on the
//! command line beats its variable, and an empty variable counts as unset. Before argh sees the
//! arguments, `--flag=value` is split in two and Mesos' underscore spellings (`--work_dir`) are
//! rewritten with dashes; values and everything after `--` are never touched.

mod args;
mod command;
mod error;
mod resolve;
mod values;
mod workdir;

#[cfg(test)]
mod tests;

use argh::FromArgs;
use mesolite_core::resources::Resources;

pub use command::{
    AgentConfig, Command, CtlConfig, CtlQuery, MasterConfig, PartitionConfig, RecoverMode,
    RunCommand, RunConfig, StandaloneConfig,
};
pub use error::{env_var_name, ConfigError, Origin, WorkDirProblem};
pub use mesolite_core::agent::reconfiguration::ReconfigurationPolicy;
pub use mesolite_core::wire::FaultDomain;
pub use values::{
    parse_domain, parse_duration, parse_percent, Attribute, AttributeScalar, AttributeValue,
    Attributes, Hostname, MasterAddr, Scalar,
};
pub use workdir::{default_work_dir, is_root, WorkDir, WorkDirLock};

/// The result of reading the command line.
#[derive(Debug)]
pub enum Outcome {
    /// A valid command to run.
    Command(Box<Command>),
    /// `--help` was asked for: print this to stdout and exit 0.
    Help(String),
    /// A usage error: print it (one line) to stderr and exit 2.
    Error(ConfigError),
}

impl Outcome {
    /// The exit code for a process that stops here: `None` for a command to run, 0 for help, 2 for
    /// a usage error.
    pub fn exit_code(&self) -> Option<u8> {
        match self {
            Outcome::Command(_) => None,
            Outcome::Help(_) => Some(0),
            Outcome::Error(_) => Some(2),
        }
    }
}

/// `--resources` text that `mesolite_core::resources::Resources::parse` accepts, kept with its parse.
#[derive(Clone, Debug)]
pub struct ResourcesText {
    text: String,
    resources: Resources,
}

impl ResourcesText {
    /// Validates Mesos' resource text form, such as `cpus:2;mem:1024;ports:[31000-32000]`.
    pub fn parse(text: &str) -> Result<ResourcesText, String> {
        match Resources::parse(text) {
            Ok(resources) => Ok(ResourcesText {
                text: text.to_string(),
                resources,
            }),
            Err(e) => Err(format!("is not valid resources: {e}")),
        }
    }
    /// The text as given.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The parsed resources.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }
}

impl PartialEq for ResourcesText {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Parses this process's arguments and environment; root-ness decides the default work dirs.
/// Arguments or variables that are not UTF-8 are read lossily, and then usually fail validation.
pub fn parse_from_env() -> Outcome {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    parse_with(&args, &env, is_root())
}

/// Parses `args` (without the program name) with variables from `env`; root-ness is this process's.
pub fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Outcome {
    parse_with(args, env, is_root())
}

/// Parses `args` (without the program name) with variables from `env`, as root or not.
/// The work dir of `master`, `agent` and `standalone` is created if missing (after every other flag
/// has been validated) but not locked: call [`WorkDir::lock`] for that.
pub fn parse_with(args: &[String], env: &dyn Fn(&str) -> Option<String>, is_root: bool) -> Outcome {
    let normalized = match args::normalize(args) {
        Ok(n) => n,
        Err(e) => return Outcome::Error(e),
    };
    let refs: Vec<&str> = normalized.iter().map(String::as_str).collect();
    let top = match args::TopArgs::from_args(&["mesolite"], &refs) {
        Ok(top) => top,
        Err(early) => {
            return match early.status {
                Ok(()) => Outcome::Help(early.output),
                Err(()) => Outcome::Error(ConfigError::Usage(args::one_line(&early.output))),
            }
        }
    };
    let ctx = resolve::Ctx { env, is_root };
    match resolve::resolve(top.cmd, &ctx) {
        Ok(command) => Outcome::Command(Box::new(command)),
        Err(e) => Outcome::Error(e),
    }
}
