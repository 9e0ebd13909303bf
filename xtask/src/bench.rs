//! `cargo xtask bench`: the machine, the allocator and registry benches, the end-to-end
//! throughput, GET_STATE and master failover benches of the appliance (run against the static
//! musl binary that ships), the pymesos interop throughput, and the idle RSS of a master and an
//! agent started from the release binary.
//!
//! Idle RSS targets: an agent below 4 MiB, a master below 6 MiB (VmRSS, about 3 s after start).
//! The processes run on loopback ports picked by the kernel and in temporary work directories,
//! and are stopped (SIGTERM, then SIGKILL after 5 s) and cleaned up even when a step fails.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::cmd;
use crate::XtaskError;

/// How long the processes settle before their RSS is read.
const SETTLE: Duration = Duration::from_secs(3);
/// How long a process gets to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(5);
const AGENT_TARGET_KIB: u64 = 4 * 1024;
const MASTER_TARGET_KIB: u64 = 6 * 1024;
const AGENT_RESOURCES: &str = "cpus:2;mem:1024;disk:1024;ports:[31000-32000]";

/// The benches this job runs: (package, package directory, bench target).
const BENCHES: [(&str, &str, &str); 5] = [
    ("mesolite-core", "core", "allocator"),
    ("mesolite-platform", "platform", "registry"),
    ("mesolite", "appliance", "throughput"),
    ("mesolite", "appliance", "get_state"),
    ("mesolite", "appliance", "failover"),
];

/// The package whose benches start `mesolite` processes; they get the release binary's path in
/// `MESOLITE_BENCH_BIN`.
const APPLIANCE: &str = "mesolite";

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchArgs {
    /// Smaller cases: sets MESOLITE_BENCH_QUICK=1 for the benches.
    pub quick: bool,
}

impl BenchArgs {
    pub fn parse(args: &[String]) -> Result<BenchArgs, XtaskError> {
        let mut quick = false;
        for arg in args {
            match arg.as_str() {
                "--quick" => quick = true,
                other => {
                    return Err(XtaskError::Usage(format!(
                        "`bench` does not know `{other}`"
                    )))
                }
            }
        }
        Ok(BenchArgs { quick })
    }
}

pub fn run(args: &BenchArgs) -> Result<(), XtaskError> {
    print_machine();
    let mut release = None;
    for (package, dir, bench) in BENCHES {
        if !bench_exists(Path::new(dir), bench) {
            println!("skipped: {bench} (not built yet)");
            continue;
        }
        let mut cargo = cmd::cargo();
        if args.quick {
            cargo.env("MESOLITE_BENCH_QUICK", "1");
        }
        if package == APPLIANCE {
            let binary = match &release {
                Some(binary) => binary,
                None => release.insert(build_release_static()?),
            };
            cargo.env("MESOLITE_BENCH_BIN", binary);
        }
        cmd::run(cargo.args(["bench", "-p", package, "--bench", bench]))?;
    }
    let binary = match release {
        Some(binary) => binary,
        None => build_release_static()?,
    };
    pymesos_throughput(args, &binary)?;
    idle_rss()
}

/// The pymesos scheduler's end-to-end throughput (driver start to the last TASK_FINISHED), as
/// `cargo xtask interop` measures it, with N = 200 (50 with `--quick`), against the static
/// `binary` the other end-to-end benches use. A machine without a Python pymesos runs on gets
/// the reason printed instead of a number.
fn pymesos_throughput(args: &BenchArgs, binary: &Path) -> Result<(), XtaskError> {
    let tasks = if args.quick { 50 } else { 200 };
    eprintln!("\n==> bench: pymesos throughput, N = {tasks}");
    let interop = crate::interop::InteropArgs { tasks, keep: false };
    if let Err(e) = crate::interop::run_with(&interop, Some(binary)) {
        println!("interop_throughput n={tasks} FAILED: {e}");
    }
    Ok(())
}

/// Builds the host's release binary (`target/release/mesolite`) and returns its path.
fn build_release_host() -> Result<PathBuf, XtaskError> {
    cmd::run(cmd::cargo().env_remove("CARGO_TARGET_DIR").args([
        "build",
        "--release",
        "-p",
        "mesolite",
    ]))?;
    Ok(cmd::workspace_root().join("target/release/mesolite"))
}

/// Builds the static musl release binary, the one `cargo xtask dist` ships, and returns its
/// path: the end-to-end benches measure what users run (a static binary also starts faster than
/// a dynamically linked one, and every task starts an executor).
fn build_release_static() -> Result<PathBuf, XtaskError> {
    cmd::ensure_target(MUSL)?;
    cmd::run(cmd::cargo().env_remove("CARGO_TARGET_DIR").args([
        "build",
        "--release",
        "-p",
        "mesolite",
        "--target",
        MUSL,
    ]))?;
    Ok(cmd::workspace_root().join(format!("target/{MUSL}/release/mesolite")))
}

/// Prints the processor count, CPU model, kernel and memory, so results can be compared.
fn print_machine() {
    let nproc = thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = ["model name", "Model", "Hardware", "CPU part"]
        .iter()
        .find_map(|key| proc_field(&cpuinfo, key))
        .unwrap_or_else(|| "unknown".to_string());
    let kernel = fs::read_to_string("/proc/version")
        .map_or_else(|_| "unknown".to_string(), |text| text.trim().to_string());
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = proc_kib(&meminfo, "MemTotal").map_or_else(
        || "unknown".to_string(),
        |kib| format!("{kib} KiB ({:.1} GiB)", kib as f64 / (1024.0 * 1024.0)),
    );
    println!("machine:");
    println!("  nproc:  {nproc}");
    println!("  cpu:    {cpu}");
    println!("  kernel: {kernel}");
    println!("  memory: {memory}");
}

/// The value of the first `key: value` line of a /proc text file.
fn proc_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == key).then(|| value.trim().to_string())
    })
}

/// A `key: <n> kB` field of a /proc text file, in KiB.
fn proc_kib(text: &str, key: &str) -> Option<u64> {
    let value = proc_field(text, key)?;
    value.split_whitespace().next()?.parse().ok()
}

/// True when the package has a bench target of that name: an auto-discovered file
/// (`benches/<name>.rs` or `benches/<name>/main.rs`) or a `[[bench]]` with that name in Cargo.toml.
fn bench_exists(package_dir: &Path, name: &str) -> bool {
    let benches = package_dir.join("benches");
    if benches.join(format!("{name}.rs")).is_file() || benches.join(name).join("main.rs").is_file()
    {
        return true;
    }
    let manifest = fs::read_to_string(package_dir.join("Cargo.toml")).unwrap_or_default();
    declares_bench(&manifest, name)
}

fn declares_bench(manifest: &str, name: &str) -> bool {
    let mut in_bench = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bench = line == "[[bench]]";
        } else if in_bench {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "name" && value.trim().trim_matches('"') == name {
                    return true;
                }
            }
        }
    }
    false
}

/// Builds the release binaries (the host's and the static musl one that ships), starts a master
/// and an agent from each, and prints their idle RSS.
fn idle_rss() -> Result<(), XtaskError> {
    eprintln!("\n==> bench: idle RSS");
    let host = build_release_host()?;
    measure_idle("host", &host)?;
    measure_idle("static", &build_release_static()?)
}

/// The target of the binary that ships.
const MUSL: &str = "x86_64-unknown-linux-musl";

fn measure_idle(label: &str, binary: &std::path::Path) -> Result<(), XtaskError> {
    let scratch = Scratch::create()?;
    let master_dir = scratch.subdir("master")?;
    let agent_dir = scratch.subdir("agent")?;
    let (master_port, agent_port) = free_ports()?;
    let master_addr = format!("127.0.0.1:{master_port}");
    let agent_addr = format!("127.0.0.1:{agent_port}");

    let mut master_cmd = Command::new(binary);
    master_cmd
        .arg("master")
        .args(["--listen", &master_addr])
        .arg("--work-dir")
        .arg(&master_dir);
    let mut master = Running::start("master", &mut master_cmd, &scratch.log("master"))?;

    let mut agent_cmd = Command::new(binary);
    agent_cmd
        .arg("agent")
        .args(["--master", &master_addr])
        .args(["--listen", &agent_addr])
        .arg("--work-dir")
        .arg(&agent_dir)
        .args(["--resources", AGENT_RESOURCES]);
    let mut agent = Running::start("agent", &mut agent_cmd, &scratch.log("agent"))?;

    thread::sleep(SETTLE);
    let master_mem = master.memory()?;
    let agent_mem = agent.memory()?;
    // Stop in reverse order of start, and before printing, so a slow stop cannot hide the result.
    drop(agent);
    drop(master);

    println!(
        "idle_rss binary={label} master_kib={} agent_kib={}",
        master_mem.rss_kib, agent_mem.rss_kib
    );
    println!(
        "  master: VmRSS {} KiB, VmHWM {} KiB, target < {MASTER_TARGET_KIB} KiB: {}",
        master_mem.rss_kib,
        master_mem.hwm_kib,
        verdict(master_mem.rss_kib < MASTER_TARGET_KIB)
    );
    println!(
        "  agent:  VmRSS {} KiB, VmHWM {} KiB, target < {AGENT_TARGET_KIB} KiB: {}",
        agent_mem.rss_kib,
        agent_mem.hwm_kib,
        verdict(agent_mem.rss_kib < AGENT_TARGET_KIB)
    );
    Ok(())
}

fn verdict(holds: bool) -> &'static str {
    if holds {
        "holds"
    } else {
        "MISSED"
    }
}

/// Two distinct free loopback ports: both are bound to port 0 at once, read, then released.
fn free_ports() -> Result<(u16, u16), XtaskError> {
    let bind = || {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        Ok::<_, std::io::Error>((listener, port))
    };
    let io_error = |source| XtaskError::Io {
        what: "cannot bind a free loopback port".to_string(),
        source,
    };
    let (first, a) = bind().map_err(io_error)?;
    let (second, b) = bind().map_err(io_error)?;
    drop((first, second));
    Ok((a, b))
}

/// Resident memory of a process, from /proc/<pid>/status.
struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
}

/// A started master or agent; dropping it stops the process (SIGTERM, SIGKILL after the grace period).
struct Running {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(name: &'static str, command: &mut Command, log: &Path) -> Result<Running, XtaskError> {
        let io_error = |source| XtaskError::Io {
            what: format!("cannot create log file {}", log.display()),
            source,
        };
        let out = fs::File::create(log).map_err(io_error)?;
        let err = out.try_clone().map_err(io_error)?;
        eprintln!("$ {} >{} 2>&1 &", cmd::display(command), log.display());
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| XtaskError::Spawn {
                command: cmd::display(command),
                source,
            })?;
        Ok(Running {
            name,
            child,
            log: log.to_path_buf(),
        })
    }

    fn memory(&mut self) -> Result<Memory, XtaskError> {
        let pid = self.child.id();
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let (Some(rss_kib), Some(hwm_kib)) =
            (proc_kib(&status, "VmRSS"), proc_kib(&status, "VmHWM"))
        {
            return Ok(Memory { rss_kib, hwm_kib });
        }
        // An exited (zombie or reaped) process has no VmRSS line; report how it ended, with its log.
        let ended = match self.child.try_wait() {
            Ok(Some(exit)) => exit.to_string(),
            _ => "no memory figures in /proc".to_string(),
        };
        Err(XtaskError::Check(format!(
            "the {} (pid {pid}) exited before its memory could be read ({ended}); its output ({}):\n{}",
            self.name,
            self.log.display(),
            tail(&self.log)
        )))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        cmd::signal("TERM", &self.child.id().to_string());
        if !cmd::wait_up_to(&mut self.child, GRACE) {
            eprintln!(
                "xtask: the {} did not exit within {} s of SIGTERM; killing it",
                self.name,
                GRACE.as_secs()
            );
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(20);
    if lines.is_empty() {
        "(no output)".to_string()
    } else {
        lines[start..].join("\n")
    }
}

/// A temporary directory for work directories and logs, removed on drop.
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    fn create() -> Result<Scratch, XtaskError> {
        let root = std::env::temp_dir().join(format!("mesolite-bench-{}", std::process::id()));
        fs::create_dir_all(&root).map_err(|source| XtaskError::Io {
            what: format!("cannot create {}", root.display()),
            source,
        })?;
        Ok(Scratch { root })
    }

    fn subdir(&self, name: &str) -> Result<PathBuf, XtaskError> {
        let dir = self.root.join(name);
        fs::create_dir_all(&dir).map_err(|source| XtaskError::Io {
            what: format!("cannot create {}", dir.display()),
            source,
        })?;
        Ok(dir)
    }

    fn log(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.log"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_dir_all(&self.root) {
            eprintln!("xtask: could not remove {}: {err}", self.root.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_fields() {
        let status = "Name:\tmesolite\nVmHWM:\t    5120 kB\nVmRSS:\t    4096 kB\n";
        assert_eq!(proc_kib(status, "VmRSS"), Some(4096));
        assert_eq!(proc_kib(status, "VmHWM"), Some(5120));
        assert_eq!(proc_kib(status, "VmSwap"), None);
        let cpuinfo = "processor\t: 0\nmodel name\t: Example CPU @ 2.0GHz\n";
        assert_eq!(
            proc_field(cpuinfo, "model name").as_deref(),
            Some("Example CPU @ 2.0GHz")
        );
    }

    #[test]
    fn finds_declared_benches_only_in_bench_sections() {
        let manifest =
            "[package]\nname = \"allocator\"\n\n[[bench]]\nname = \"registry\"\nharness = false\n";
        assert!(declares_bench(manifest, "registry"));
        assert!(!declares_bench(manifest, "allocator"));
    }

    #[test]
    fn free_ports_are_distinct_and_bindable() {
        let (a, b) = free_ports().unwrap();
        assert_ne!(a, b);
        TcpListener::bind(("127.0.0.1", a)).unwrap();
    }

    #[test]
    fn reading_memory_of_an_exited_process_reports_its_output() {
        let dir = std::env::temp_dir().join(format!("xtask-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("sh.log");
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo bye"]);
        let mut running = Running::start("shell", &mut sh, &log).unwrap();
        assert!(cmd::wait_up_to(&mut running.child, Duration::from_secs(5)));
        let err = running.memory().err().unwrap().to_string();
        assert!(
            err.contains("exited before") && err.contains("bye"),
            "{err}"
        );
        drop(running);
        fs::remove_dir_all(&dir).unwrap();
    }
}
