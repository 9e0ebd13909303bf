//! Tests of `WorkDir::prepare` and `WorkDirLock` with real files, real `flock` and a real second process.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use mesolite_config::{WorkDir, WorkDirLock};

/// The variable that turns `child_holds_lock` into a lock holder for another test.
const CHILD_DIR_VAR: &str = "MESOLITE_CONFIG_TEST_LOCK_DIR";

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("mesolite-lock-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(std::fs::canonicalize(&path).expect("canonicalize"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn two_locks_in_one_process_conflict() {
    let tmp = TempDir::new();
    let dir = WorkDir::prepare(tmp.0.join("x/y")).expect("prepare");
    assert!(dir.path().is_dir());
    let first = dir.lock().expect("first lock");
    assert_eq!(first.dir(), dir.path());
    let pid = std::process::id();
    let lock_file = std::fs::read_to_string(dir.path().join("lock")).expect("read lock file");
    assert_eq!(lock_file, format!("{pid}\n"));

    let e = WorkDirLock::acquire(dir.path()).expect_err("second lock on a new open file must fail");
    assert_eq!(
        e.to_string(),
        format!(
            "--work-dir {}: already in use by another mesolite process (pid {pid})",
            dir.path().display()
        )
    );
    drop(first);
    let again = WorkDirLock::acquire(dir.path()).expect("lock after the first is dropped");
    drop(again);
}

#[test]
fn a_lock_held_by_another_process_is_refused_until_it_exits() {
    let tmp = TempDir::new();
    let dir = WorkDir::prepare(&tmp.0).expect("prepare");
    for how in ["closes stdin", "is killed"] {
        let mut child = Command::new(std::env::current_exe().expect("current exe"))
            .args([
                "--exact",
                "child_holds_lock",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_VAR, dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn child");
        let mut lines = BufReader::new(child.stdout.take().expect("child stdout")).lines();
        let locked = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("LOCKED"));
        assert!(locked, "the child did not report the lock");

        let e = WorkDirLock::acquire(dir.path()).expect_err("the child holds the lock");
        assert_eq!(
            e.to_string(),
            format!(
                "--work-dir {}: already in use by another mesolite process (pid {})",
                dir.path().display(),
                child.id()
            )
        );
        if how == "is killed" {
            child.kill().expect("kill child");
        } else {
            child
                .stdin
                .take()
                .expect("child stdin")
                .write_all(b"done\n")
                .expect("tell child");
        }
        let status = child.wait().expect("wait child");
        assert_eq!(status.success(), how == "closes stdin", "{how}: {status}");
        let lock = WorkDirLock::acquire(dir.path()).expect("lock after the child exits");
        drop(lock);
    }
}

/// Run only by `a_lock_held_by_another_process_is_refused_until_it_exits` in a child process: takes
/// the lock, says so, and holds it until stdin has a line or closes.
#[test]
#[ignore = "helper process for another test"]
fn child_holds_lock() {
    let dir = std::env::var_os(CHILD_DIR_VAR).expect("run only as a child of the lock test");
    let lock = WorkDirLock::acquire(std::path::Path::new(&dir)).expect("child lock");
    println!("LOCKED");
    std::io::stdout().flush().expect("flush");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(lock);
}

#[test]
fn prepare_rejects_files_and_unwritable_dirs() {
    let tmp = TempDir::new();
    let file = tmp.0.join("file");
    std::fs::write(&file, b"x").expect("write file");
    let e = WorkDir::prepare(&file).expect_err("a file is not a work dir");
    assert_eq!(
        e.to_string(),
        format!(
            "--work-dir {}: exists and is not a directory",
            file.display()
        )
    );

    let ro = tmp.0.join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, PermissionsExt::from_mode(0o555)).expect("chmod");
    let result = WorkDir::prepare(&ro);
    if mesolite_config::is_root() {
        // Root may write anywhere on a writable mount, and `access` says so.
        assert!(result.is_ok(), "{result:?}");
    } else {
        let e = result.expect_err("a read-only dir is not a work dir");
        assert!(
            e.to_string()
                .starts_with(&format!("--work-dir {}: not writable: ", ro.display())),
            "{e}"
        );
    }
    std::fs::set_permissions(&ro, PermissionsExt::from_mode(0o755)).expect("chmod back");
}

#[test]
fn prepare_canonicalizes_the_path() {
    let tmp = TempDir::new();
    let dir = WorkDir::prepare(tmp.0.join("a/../b/./c")).expect("prepare");
    assert_eq!(dir.path(), tmp.0.join("b/c"));
}
