//! Running external commands: echo each one, run it, turn failures into `XtaskError`s.
//!
//! Commands run from the workspace root with inherited stdout and stderr, so a tool's own output
//! (for example the test runner's final line) stays visible. The echo goes to stderr, like `set -x`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::XtaskError;

/// Changes the current directory to the workspace root (the parent of xtask's manifest directory).
pub fn enter_workspace_root() -> Result<(), XtaskError> {
    let root = workspace_root();
    std::env::set_current_dir(&root).map_err(|source| XtaskError::Io {
        what: format!("cannot enter workspace root {}", root.display()),
        source,
    })
}

/// The workspace root, taken from where xtask was compiled.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// Renders a command as a shell line: explicit environment first, then the program and arguments.
pub fn display(cmd: &Command) -> String {
    let mut words = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            words.push(format!(
                "{}={}",
                key.to_string_lossy(),
                quote(&value.to_string_lossy())
            ));
        }
    }
    words.push(quote(&cmd.get_program().to_string_lossy()));
    for arg in cmd.get_args() {
        words.push(quote(&arg.to_string_lossy()));
    }
    words.join(" ")
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn echo(cmd: &Command) -> String {
    let line = display(cmd);
    eprintln!("$ {line}");
    line
}

fn spawn_error(command: String) -> impl FnOnce(std::io::Error) -> XtaskError {
    move |source| XtaskError::Spawn { command, source }
}

/// Echoes and runs a command to completion; fails unless it exits successfully.
pub fn run(cmd: &mut Command) -> Result<(), XtaskError> {
    let command = echo(cmd);
    let status = cmd.status().map_err(spawn_error(command.clone()))?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::CommandFailed { command, status })
    }
}

/// Echoes and runs a command, returning its stdout; stderr stays visible. Fails unless it exits successfully.
pub fn capture(cmd: &mut Command) -> Result<String, XtaskError> {
    let command = echo(cmd);
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(spawn_error(command.clone()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(XtaskError::CommandFailed {
            command,
            status: output.status,
        })
    }
}

/// Echoes and runs a command in its own process group; if it is still running after `limit`, the
/// whole group gets SIGTERM, then SIGKILL five seconds later, and the run fails as timed out.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<(), XtaskError> {
    use std::os::unix::process::CommandExt;

    let command = echo(cmd);
    let mut child = cmd
        .process_group(0)
        .spawn()
        .map_err(spawn_error(command.clone()))?;
    let deadline = Instant::now() + limit;
    loop {
        let polled = child.try_wait().map_err(|source| XtaskError::Io {
            what: format!("cannot wait for `{command}`"),
            source,
        })?;
        if let Some(status) = polled {
            return if status.success() {
                Ok(())
            } else {
                Err(XtaskError::CommandFailed { command, status })
            };
        }
        if Instant::now() >= deadline {
            eprintln!(
                "xtask: `{command}` still running after {} s; stopping its process group",
                limit.as_secs()
            );
            stop_group(&mut child);
            return Err(XtaskError::TimedOut { command, limit });
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM to the process group led by `child`, waits up to five seconds, then SIGKILLs it.
fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    signal("TERM", &group);
    if !wait_up_to(child, Duration::from_secs(5)) {
        signal("KILL", &group);
        // The group leader has been killed; reaping it cannot block for long.
        let _ = child.wait();
    }
}

/// Sends a signal with kill(1) to a pid, or to a process group when `target` is `-<pgid>`.
pub fn signal(name: &str, target: &str) {
    let mut cmd = Command::new("kill");
    cmd.arg(format!("-{name}")).arg("--").arg(target);
    echo(&cmd);
    // A failure here means the target already exited; the caller's wait notices either way.
    let _ = cmd.stderr(Stdio::null()).status();
}

/// Waits for `child` to exit for at most `limit`; true when it has exited (and has been reaped).
pub fn wait_up_to(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return true,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            Ok(None) => return false,
            // The child can no longer be waited for, so there is nothing left to stop.
            Err(_) => return true,
        }
    }
}

/// A `cargo` command (the `cargo` on PATH, which is rustup's proxy for the pinned toolchain).
pub fn cargo() -> Command {
    Command::new("cargo")
}

/// Installs a rustup target unless `rustup target list --installed` already lists it.
/// Without rustup, the target is assumed present and the build that needs it reports otherwise.
pub fn ensure_target(triple: &str) -> Result<(), XtaskError> {
    let mut list = Command::new("rustup");
    list.args(["target", "list", "--installed"]);
    let installed = match capture(&mut list) {
        Ok(out) => out,
        Err(XtaskError::Spawn { .. }) => {
            eprintln!("xtask: rustup not found; assuming target {triple} is installed");
            return Ok(());
        }
        Err(other) => return Err(other),
    };
    if installed.lines().any(|line| line.trim() == triple) {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", triple]))
}

/// Formats a byte count as bytes and MiB, for example `1234567 bytes (1.18 MiB)`.
pub fn bytes_and_mib(bytes: u64) -> String {
    // The conversion to f64 is for display only; binary sizes are far below 2^53.
    format!(
        "{bytes} bytes ({:.2} MiB)",
        bytes as f64 / (1024.0 * 1024.0)
    )
}

/// Formats a duration as seconds with one decimal, for wall-time summaries.
pub fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_words_a_shell_would_split() {
        let mut cmd = Command::new("mesolite");
        cmd.env("MESOLITE_SIM_SEEDS", "200").args([
            "agent",
            "--resources",
            "cpus:2;mem:1024",
            "it's",
        ]);
        assert_eq!(
            display(&cmd),
            r"MESOLITE_SIM_SEEDS=200 mesolite agent --resources 'cpus:2;mem:1024' 'it'\''s'"
        );
    }

    #[test]
    fn run_reports_the_failing_command_and_status() {
        let err = run(Command::new("sh").args(["-c", "exit 3"])).unwrap_err();
        assert_eq!(err.to_string(), "`sh -c 'exit 3'` failed: exit status: 3");
    }

    #[test]
    fn run_reports_a_missing_program() {
        let err = run(&mut Command::new("/nonexistent/xtask-test-program")).unwrap_err();
        assert!(matches!(err, XtaskError::Spawn { .. }), "{err}");
    }

    #[test]
    fn run_bounded_kills_the_whole_group_on_timeout() {
        let started = Instant::now();
        // The shell's child `sleep` would outlive a kill of the shell alone; the group kill reaps both.
        let err = run_bounded(
            Command::new("sh").args(["-c", "sleep 30; true"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(err, XtaskError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn run_bounded_passes_a_quick_success() {
        run_bounded(&mut Command::new("true"), Duration::from_secs(10)).unwrap();
    }
}
