//! The command executor's configuration, read from the `MESOS_*` environment the agent sets.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Mesos `DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD`.
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Mesos' default `--recovery_timeout`, passed to executors as `MESOS_RECOVERY_TIMEOUT`.
const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Mesos' default `--executor_reregistration_timeout`, passed as `MESOS_SUBSCRIPTION_BACKOFF_MAX`.
const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Where the task's standard output and error go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskStdio {
    /// The executor's own stdout and stderr, which the agent pointed at `<sandbox>/stdout` and
    /// `<sandbox>/stderr`.
    Inherit,
    /// Files appended to (used by in-process tests, whose stdout is the test harness's).
    #[cfg_attr(not(test), allow(dead_code))]
    Files { stdout: PathBuf, stderr: PathBuf },
}

/// Everything the command executor needs to know, parsed and validated.
#[derive(Debug, Clone)]
pub(crate) struct ExecutorEnv {
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: String,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: String,
    /// `MESOS_AGENT_ENDPOINT`: the agent's `ip:port`.
    pub agent: SocketAddr,
    /// `MESOS_SANDBOX`, else `MESOS_DIRECTORY`: the task's working directory.
    pub sandbox: PathBuf,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`: the kill grace when neither `KILL` nor the task says.
    pub shutdown_grace: Duration,
    /// `MESOS_CHECKPOINT` = `1`: the framework checkpoints, so the executor survives agent restarts
    /// by resubscribing; otherwise it gives up as soon as the agent connection drops.
    pub checkpoint: bool,
    /// `MESOS_RECOVERY_TIMEOUT`: how long to keep trying to resubscribe.
    pub recovery_timeout: Duration,
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX`: the longest pause between resubscription attempts.
    pub backoff_max: Duration,
    pub task_stdio: TaskStdio,
    /// Whether to install SIGTERM/SIGINT/SIGCHLD handlers (off for in-process tests).
    pub handle_signals: bool,
}

/// A missing or malformed executor environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvError {
    Missing(&'static str),
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(name) => write!(f, "environment variable {name} is not set"),
            Self::Invalid {
                name,
                value,
                expected,
            } => write!(f, "environment variable {name}={value:?} is not {expected}"),
        }
    }
}

impl ExecutorEnv {
    /// Reads the configuration from `vars` (normally `std::env::vars()`).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, EnvError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let get = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or(EnvError::Missing(name))
        };
        let duration = |name: &'static str, default: Duration| match get(name) {
            None | Some("") => Ok(default),
            Some(v) => parse_duration(v).ok_or_else(|| EnvError::Invalid {
                name,
                value: v.to_owned(),
                expected: "a duration such as 5secs",
            }),
        };

        let framework_id = required("MESOS_FRAMEWORK_ID")?.to_owned();
        let executor_id = required("MESOS_EXECUTOR_ID")?.to_owned();
        let endpoint = required("MESOS_AGENT_ENDPOINT")?;
        let agent = endpoint.parse().map_err(|_| EnvError::Invalid {
            name: "MESOS_AGENT_ENDPOINT",
            value: endpoint.to_owned(),
            expected: "an ip:port address",
        })?;
        let sandbox = get("MESOS_SANDBOX")
            .filter(|v| !v.is_empty())
            .or_else(|| get("MESOS_DIRECTORY").filter(|v| !v.is_empty()))
            .map(PathBuf::from)
            .ok_or(EnvError::Missing("MESOS_SANDBOX"))?;
        let checkpoint = match get("MESOS_CHECKPOINT") {
            None | Some("") | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(v) => {
                return Err(EnvError::Invalid {
                    name: "MESOS_CHECKPOINT",
                    value: v.to_owned(),
                    expected: "0 or 1",
                });
            }
        };
        Ok(Self {
            framework_id,
            executor_id,
            agent,
            sandbox,
            shutdown_grace: duration(
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                DEFAULT_SHUTDOWN_GRACE,
            )?,
            checkpoint,
            recovery_timeout: duration("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT)?,
            backoff_max: duration("MESOS_SUBSCRIPTION_BACKOFF_MAX", DEFAULT_BACKOFF_MAX)?,
            task_stdio: TaskStdio::Inherit,
            handle_signals: true,
        })
    }
}

/// Parses a Mesos duration: a non-negative decimal number and a unit (`ns`, `us`, `ms`, `secs`,
/// `mins`, `hrs`, `days`, `weeks`); a bare number means seconds.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "" | "s" | "sec" | "secs" => 1.0,
        "min" | "mins" => 60.0,
        "hr" | "hrs" => 3600.0,
        "day" | "days" => 86_400.0,
        "week" | "weeks" => 604_800.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(number * scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const BASE: &[(&str, &str)] = &[
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_EXECUTOR_ID", "ex"),
        ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"),
        ("MESOS_DIRECTORY", "/var/sandbox"),
    ];

    #[test]
    fn durations_follow_mesos_units() {
        assert_eq!(parse_duration("5secs"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5secs"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("15mins"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("2hrs"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(parse_duration("secs"), None);
        assert_eq!(parse_duration("-1secs"), None);
    }

    #[test]
    fn parses_the_agent_environment_with_defaults() {
        let env = ExecutorEnv::from_vars(vars(BASE)).expect("valid");
        assert_eq!(env.framework_id, "fw");
        assert_eq!(env.executor_id, "ex");
        assert_eq!(env.agent, "127.0.0.1:5051".parse().expect("addr"));
        assert_eq!(env.sandbox, PathBuf::from("/var/sandbox"));
        assert_eq!(env.shutdown_grace, Duration::from_secs(5));
        assert!(!env.checkpoint);

        let mut more = vars(BASE);
        more.extend(vars(&[
            ("MESOS_SANDBOX", "/mnt/mesos/sandbox"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "2secs"),
            ("MESOS_CHECKPOINT", "1"),
        ]));
        let env = ExecutorEnv::from_vars(more).expect("valid");
        assert_eq!(env.sandbox, PathBuf::from("/mnt/mesos/sandbox"));
        assert_eq!(env.shutdown_grace, Duration::from_secs(2));
        assert!(env.checkpoint);
    }

    #[test]
    fn missing_and_malformed_variables_are_named() {
        let err = ExecutorEnv::from_vars(vars(&BASE[1..])).expect_err("missing");
        assert_eq!(err, EnvError::Missing("MESOS_FRAMEWORK_ID"));
        assert_eq!(
            err.to_string(),
            "environment variable MESOS_FRAMEWORK_ID is not set"
        );
        let mut bad = vars(BASE);
        bad[2].1 = "agent.local:5051".into();
        let err = ExecutorEnv::from_vars(bad).expect_err("hostname");
        assert!(err.to_string().contains("MESOS_AGENT_ENDPOINT"), "{err}");
        let mut bad = vars(BASE);
        bad.extend(vars(&[("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "soon")]));
        assert!(ExecutorEnv::from_vars(bad).is_err());
    }
}
