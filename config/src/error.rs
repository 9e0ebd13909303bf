//! `ConfigError`: every way the command line, the environment or the work dir can be wrong, as one line.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a flag's value came from: the command line or its `MESOLITE_*` environment variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The flag's canonical spelling, such as `--work-dir`.
    pub flag: &'static str,
    /// True when the value came from the environment variable rather than the command line.
    pub from_env: bool,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from_env {
            write!(f, "{} (from {})", self.flag, env_var_name(self.flag))
        } else {
            f.write_str(self.flag)
        }
    }
}

/// The environment variable that stands in for `flag`: `--work-dir` gives `MESOLITE_WORK_DIR`.
pub fn env_var_name(flag: &str) -> String {
    let name = flag.trim_start_matches('-');
    let mut var = String::with_capacity(9 + name.len());
    var.push_str("MESOLITE_");
    for c in name.chars() {
        var.push(if c == '-' {
            '_'
        } else {
            c.to_ascii_uppercase()
        });
    }
    var
}

/// What is wrong with a work directory.
#[derive(Debug)]
pub enum WorkDirProblem {
    /// The directory (or one of its parents) could not be created.
    Create(io::Error),
    /// The path exists but is not a directory.
    NotADirectory,
    /// The directory exists but this process cannot create files in it.
    NotWritable(io::Error),
    /// The lock file could not be opened, locked or written.
    LockFile(io::Error),
    /// Another process holds the lock; its pid is shown when the lock file names one.
    InUse { pid: Option<u32> },
}

/// A configuration error. `Display` gives one line that names the flag (or variable) at fault.
#[derive(Debug)]
pub enum ConfigError {
    /// A value that does not parse or is out of range.
    /// Shown as `--listen: 'abc' is not an IP:PORT address`.
    InvalidValue {
        origin: Origin,
        value: String,
        reason: String,
    },
    /// A required flag was given neither on the command line nor in its variable.
    MissingFlag { flag: &'static str },
    /// A combination of flags that cannot go together, or a missing alternative.
    Conflict(&'static str),
    /// A problem with the work directory at `path`.
    WorkDir {
        path: PathBuf,
        problem: WorkDirProblem,
    },
    /// No `--work-dir` was given and there is no default: not root and `$HOME` is unset.
    NoDefaultWorkDir,
    /// argh's own complaint (unknown flag, unknown subcommand, ...), flattened to one line.
    Usage(String),
}

impl ConfigError {
    pub(crate) fn invalid(origin: Origin, value: &str, reason: impl Into<String>) -> Self {
        ConfigError::InvalidValue {
            origin,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// Writes `value` in single quotes, escaping control characters so the message stays on one line,
/// and cutting very long values short.
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    const MAX_CHARS: usize = 80;
    f.write_str("'")?;
    for (i, c) in value.chars().enumerate() {
        if i == MAX_CHARS {
            f.write_str("...")?;
            break;
        }
        if c.is_control() {
            write!(f, "{}", c.escape_debug())?;
        } else {
            write!(f, "{c}")?;
        }
    }
    f.write_str("'")
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidValue {
                origin,
                value,
                reason,
            } => {
                write!(f, "{origin}: ")?;
                write_quoted(f, value)?;
                write!(f, " {reason}")
            }
            ConfigError::MissingFlag { flag } => {
                write!(f, "{flag}: required (or set {})", env_var_name(flag))
            }
            ConfigError::Conflict(message) => f.write_str(message),
            ConfigError::WorkDir { path, problem } => {
                write!(f, "--work-dir {}: ", path.display())?;
                match problem {
                    WorkDirProblem::Create(e) => write!(f, "cannot create: {e}"),
                    WorkDirProblem::NotADirectory => f.write_str("exists and is not a directory"),
                    WorkDirProblem::NotWritable(e) => write!(f, "not writable: {e}"),
                    WorkDirProblem::LockFile(e) => {
                        write!(f, "cannot lock {}/lock: {e}", path.display())
                    }
                    WorkDirProblem::InUse { pid: Some(pid) } => {
                        write!(f, "already in use by another mesolite process (pid {pid})")
                    }
                    WorkDirProblem::InUse { pid: None } => {
                        f.write_str("already in use by another mesolite process")
                    }
                }
            }
            ConfigError::NoDefaultWorkDir => f.write_str(
                "--work-dir: no default without $HOME; pass --work-dir or set MESOLITE_WORK_DIR",
            ),
            ConfigError::Usage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ConfigError {}
