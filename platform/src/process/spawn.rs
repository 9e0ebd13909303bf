//! Starting a program in a new session with `posix_spawn(3)`, which creates the child with
//! `clone(CLONE_VM | CLONE_VFORK)` on glibc and musl instead of `fork`.
//!
//! `std::process::Command` can only make the child a session leader with a `pre_exec` hook,
//! which forces a real `fork`: the kernel copies the parent's page tables, write-protects every
//! private page and flushes the TLB of every CPU running one of the parent's threads, and the
//! parent then takes a copy-on-write fault on each page it writes. For an agent starting
//! hundreds of executors per second that was most of its CPU time. `POSIX_SPAWN_SETSID` gives
//! the same session without any of it.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::ptr;

/// A program to start: its path, arguments, extra environment, working directory and the files
/// its standard output and error go to (standard input is `/dev/null`).
pub(super) struct SpawnRequest<'a> {
    pub program: &'a Path,
    pub args: &'a [String],
    /// Set on top of this process's environment (a variable given twice takes the later value).
    pub env: &'a [(String, String)],
    pub cwd: &'a Path,
    pub stdout: &'a File,
    pub stderr: &'a File,
}

/// A C string from `bytes`; an interior NUL byte is an invalid-input error naming `what`.
fn c_string(bytes: &[u8], what: &str) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the {what} contains a NUL byte"),
        )
    })
}

/// `posix_spawn*` functions return the error number instead of setting `errno`.
fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(ret))
    }
}

/// The environment for the child: ours, with `extra` set on top, as `KEY=VALUE` strings.
fn environment(extra: &[(String, String)]) -> io::Result<Vec<CString>> {
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (key, value) in extra {
        let key = OsStr::new(key);
        if key.is_empty() || key.as_bytes().contains(&b'=') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid environment variable name {key:?}"),
            ));
        }
        match vars.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.into(),
            None => vars.push((key.to_os_string(), value.into())),
        }
    }
    vars.into_iter()
        .map(|(k, v)| {
            let mut entry = k.into_vec();
            entry.push(b'=');
            entry.extend_from_slice(v.as_bytes());
            c_string(&entry, "environment")
        })
        .collect()
}

/// A null-terminated array of pointers into `strings`, as `argv` and `envp` take it.
fn pointers(strings: &[CString]) -> Vec<*mut libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr().cast_mut())
        .chain(std::iter::once(ptr::null_mut()))
        .collect()
}

/// Initialized file actions, destroyed on drop.
struct FileActions<'a>(&'a mut libc::posix_spawn_file_actions_t);

impl Drop for FileActions<'_> {
    fn drop(&mut self) {
        // SAFETY: the actions were initialized by `posix_spawn_file_actions_init` and are
        // destroyed exactly once.
        unsafe {
            libc::posix_spawn_file_actions_destroy(self.0);
        }
    }
}

/// Initialized spawn attributes, destroyed on drop.
struct Attributes<'a>(&'a mut libc::posix_spawnattr_t);

impl Drop for Attributes<'_> {
    fn drop(&mut self) {
        // SAFETY: the attributes were initialized by `posix_spawnattr_init` and are destroyed
        // exactly once.
        unsafe {
            libc::posix_spawnattr_destroy(self.0);
        }
    }
}

/// Starts `req.program` as the leader of a new session and process group and returns its pid.
///
/// The child gets an empty signal mask and `SIGPIPE` at its default action (Rust ignores it in
/// this process), as `std::process::Command` does. A program name without a `/` is looked up in
/// `PATH`. Failures of the child to change directory or to execute the program are reported
/// here, as errors of the call.
pub(super) fn spawn_session_leader(req: &SpawnRequest<'_>) -> io::Result<libc::pid_t> {
    let program = c_string(req.program.as_os_str().as_bytes(), "program path")?;
    let mut argv = vec![program.clone()];
    for arg in req.args {
        argv.push(c_string(arg.as_bytes(), "argument")?);
    }
    let envp = environment(req.env)?;
    let cwd = c_string(req.cwd.as_os_str().as_bytes(), "working directory")?;
    let dev_null = c"/dev/null";
    let argv_ptrs = pointers(&argv);
    let envp_ptrs = pointers(&envp);

    let mut actions_storage = MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
    let mut attrs_storage = MaybeUninit::<libc::posix_spawnattr_t>::uninit();
    // SAFETY: every pointer handed to libc points to live, initialized data: the storage is
    // initialized by the `*_init` calls before any other use (and destroyed by the guards only
    // after a successful init), the C strings and the pointer arrays outlive the
    // `posix_spawn` call, the file descriptors belong to open `File`s borrowed for the whole
    // call, and `pid` is a valid out-pointer. `posix_spawn` runs nothing of ours in the child.
    unsafe {
        check(libc::posix_spawn_file_actions_init(
            actions_storage.as_mut_ptr(),
        ))?;
        let actions = FileActions(actions_storage.assume_init_mut());
        check(libc::posix_spawn_file_actions_addchdir_np(
            actions.0,
            cwd.as_ptr(),
        ))?;
        check(libc::posix_spawn_file_actions_addopen(
            actions.0,
            0,
            dev_null.as_ptr(),
            libc::O_RDONLY,
            0,
        ))?;
        check(libc::posix_spawn_file_actions_adddup2(
            actions.0,
            req.stdout.as_raw_fd(),
            1,
        ))?;
        check(libc::posix_spawn_file_actions_adddup2(
            actions.0,
            req.stderr.as_raw_fd(),
            2,
        ))?;

        check(libc::posix_spawnattr_init(attrs_storage.as_mut_ptr()))?;
        let attrs = Attributes(attrs_storage.assume_init_mut());
        let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(empty.as_mut_ptr());
        let empty = empty.assume_init();
        let mut pipe = empty;
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        check(libc::posix_spawnattr_setsigmask(attrs.0, &empty))?;
        check(libc::posix_spawnattr_setsigdefault(attrs.0, &pipe))?;
        // The flag constants have different integer types in libc; all fit in a `c_short`.
        let flags = libc::POSIX_SPAWN_SETSID as libc::c_int
            | libc::POSIX_SPAWN_SETSIGMASK as libc::c_int
            | libc::POSIX_SPAWN_SETSIGDEF as libc::c_int;
        check(libc::posix_spawnattr_setflags(
            attrs.0,
            flags as libc::c_short,
        ))?;

        let mut pid: libc::pid_t = 0;
        let spawn = if req.program.as_os_str().as_bytes().contains(&b'/') {
            libc::posix_spawn
        } else {
            libc::posix_spawnp
        };
        check(spawn(
            &mut pid,
            program.as_ptr(),
            actions.0,
            attrs.0,
            argv_ptrs.as_ptr(),
            envp_ptrs.as_ptr(),
        ))?;
        Ok(pid)
    }
}
