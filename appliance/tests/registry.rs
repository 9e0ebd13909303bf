//! End-to-end tests of the master's registry on disk: a damaged log or snapshot stops the master
//! with a message naming the file, and one work dir serves one master at a time.

mod common;

use common::*;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

/// Runs a master until it admitted one agent, then stops both; returns the master's work dir.
fn registry_with_one_agent(h: &mut Harness) -> PathBuf {
    let port = free_port();
    let dir = h.path("master");
    let master = h.start_master(port, &dir);
    let agent = h.start_agent(port, free_port(), &h.path("agent"), AGENT_RESOURCES);
    wait_agents(port, 1);
    h.signal(agent, "TERM");
    h.wait_exit(agent, WAIT);
    h.signal(master, "TERM");
    let status = h.wait_exit(master, WAIT);
    assert!(
        status.success(),
        "master stopped with {status}: {}",
        h.log(master)
    );
    dir
}

/// Starts a master on `dir` and expects it to refuse: returns its output.
fn master_refuses(h: &mut Harness, dir: &Path) -> String {
    let listen = loopback(free_port());
    let args = [
        "master",
        "--listen",
        &listen,
        "--work-dir",
        dir.to_str().expect("utf-8 path"),
    ];
    let id = h.spawn("master", &args);
    let status = h.wait_exit(id, WAIT);
    let log = h.log(id);
    assert!(!status.success(), "the master started anyway: {log}");
    assert_eq!(status.code(), Some(1), "{log}");
    log
}

#[test]
fn a_truncated_log_is_refused_naming_the_log_file() {
    let mut h = Harness::new("trunclog");
    let dir = registry_with_one_agent(&mut h);
    let log_path = dir.join("registry/log");
    let len = fs::metadata(&log_path).expect("registry/log exists").len();
    assert!(len > 3, "the admission was logged ({len} bytes)");
    let f = OpenOptions::new()
        .write(true)
        .open(&log_path)
        .expect("open the log");
    f.set_len(len - 3).expect("truncate the log");
    drop(f);

    let out = master_refuses(&mut h, &dir);
    assert!(
        out.contains(log_path.to_str().expect("utf-8 path")),
        "the message names {}: {out}",
        log_path.display()
    );
}

#[test]
fn a_flipped_byte_in_the_snapshot_is_refused_naming_the_snapshot_file() {
    let mut h = Harness::new("flipsnap");
    let dir = registry_with_one_agent(&mut h);
    let snap = dir.join("registry/snapshot");
    let mut bytes = fs::read(&snap).expect("registry/snapshot exists");
    assert!(bytes.len() > 20, "snapshot of {} bytes", bytes.len());
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    fs::write(&snap, &bytes).expect("rewrite the snapshot");

    let out = master_refuses(&mut h, &dir);
    assert!(
        out.contains(snap.to_str().expect("utf-8 path")),
        "the message names {}: {out}",
        snap.display()
    );
}

#[test]
fn an_untouched_registry_is_recovered() {
    let mut h = Harness::new("cleanreg");
    let dir = registry_with_one_agent(&mut h);
    // The control for the two tests above: the same steps without damage start a master that
    // recovers the admitted agent.
    let port = free_port();
    let master = h.start_master(port, &dir);
    wait_for("the master to recover its registry", WAIT, || {
        h.log(master).contains("1 admitted agents").then_some(())
    });
}

#[test]
fn a_second_master_on_a_work_dir_in_use_refuses() {
    let mut h = Harness::new("inuse");
    let dir = h.path("master");
    let port = free_port();
    let first = h.start_master(port, &dir);

    let out = master_refuses(&mut h, &dir);
    assert!(out.contains("already in use"), "{out}");
    assert!(out.contains(dir.to_str().expect("utf-8 path")), "{out}");

    // The first master is unharmed.
    assert!(h.try_exit(first).is_none(), "the first master exited");
    let r = http(port, "GET", "/health", &[], b"").expect("GET /health");
    assert_eq!(r.status, 200);
}
