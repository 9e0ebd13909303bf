//! What the end-to-end benches share: their error type, the machine line they print, the
//! binary they run, medians, and a real `mesolite master` process in a scratch directory.

#![allow(dead_code)] // Each bench uses a part.

use hyper::StatusCode;
use mesolite_appliance::client;
use std::fmt;
use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a bench could not measure.
#[derive(Debug)]
pub struct BenchError(pub String);

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn fail(msg: impl Into<String>) -> BenchError {
    BenchError(msg.into())
}

/// The processor count and model, printed with every result.
pub fn machine() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    format!("nproc={nproc} cpu=\"{model}\"")
}

/// The mesolite binary to run: `MESOLITE_BENCH_BIN` when set (`cargo xtask bench` points it at
/// the static musl binary that ships), else the one cargo built for the bench.
pub fn binary() -> PathBuf {
    std::env::var_os("MESOLITE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mesolite")))
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A free loopback port.
pub fn free_port() -> Result<u16, BenchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| fail(format!("cannot find a free port: {e}")))
}

/// Longest a master may take to answer `GET /health`.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A master process on a work dir that outlives its restarts; dropping it stops the master
/// (SIGTERM, then SIGKILL) and removes the directory.
pub struct Master {
    bin: PathBuf,
    /// The address as the HTTP client takes it, and as agents connect to it (an address, so
    /// ten thousand connects do not each resolve a name on the blocking thread pool).
    pub addr: String,
    pub socket: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
    log: PathBuf,
}

impl Master {
    /// Starts a master in a new scratch directory named after `bench` and waits for its health.
    pub fn start(bin: &Path, bench: &str) -> Result<Master, BenchError> {
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("mesolite-bench-{bench}-{}", std::process::id()));
        fs::create_dir_all(dir.join("master"))
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        let mut master = Master {
            bin: bin.to_path_buf(),
            addr: format!("127.0.0.1:{port}"),
            socket: SocketAddr::from(([127, 0, 0, 1], port)),
            log: dir.join("master.log"),
            dir,
            child: None,
        };
        master.spawn()?;
        master.wait_healthy()?;
        Ok(master)
    }

    /// Starts the master process (on the same work dir and port each time), logging to the
    /// end of the log file.
    pub fn spawn(&mut self) -> Result<(), BenchError> {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| fail(format!("log file: {e}")))?;
        let err = out
            .try_clone()
            .map_err(|e| fail(format!("log file: {e}")))?;
        let child = Command::new(&self.bin)
            .args(["master", "--listen", &self.addr, "--work-dir"])
            .arg(self.dir.join("master"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| fail(format!("cannot start {}: {e}", self.bin.display())))?;
        self.child = Some(child);
        Ok(())
    }

    fn wait_healthy(&mut self) -> Result<(), BenchError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(fail(format!(
                    "the master exited with {status}\n{}",
                    self.log_tail()
                )));
            }
            if smol::block_on(client::get(&self.addr, "/health"))
                .is_ok_and(|(s, _)| s == StatusCode::OK)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(fail(format!(
                    "the master never answered GET /health\n{}",
                    self.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILLs the master and reaps it: a crash, with no chance to say goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(15);
        format!(
            "----- master log (last lines) -----\n{}",
            lines[start..].join("\n")
        )
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                let deadline = Instant::now() + Duration::from_secs(5);
                while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        self.kill();
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("bench: could not remove {}: {e}", self.dir.display());
        }
    }
}
