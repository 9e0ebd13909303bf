//! The agent's file and usage endpoints: `/files/read` and `/files/browse` over its work dir
//! (sandboxes), and `/monitor/statistics` with per-executor CPU times and memory read from
//! `/proc/<pid>` of each executor process (the executor itself, not its children).

use crate::agent_driver::AgentDriver;
use crate::http::{self, Body};
use crate::v1::{self, to_ascii_json};
use hyper::{Response, StatusCode};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Most bytes one `/files/read` answers with.
const MAX_READ: u64 = 1024 * 1024;

/// Most entries one `/files/browse` lists.
const MAX_BROWSE: usize = 10_000;

/// Linux reports `/proc/<pid>/stat` times in USER_HZ, which is 100 on every architecture.
const USER_HZ: f64 = 100.0;

/// `GET /files/read?path=P&offset=N&length=L`, Mesos' answer shape `{"data":"..","offset":N}`.
/// `offset=-1` answers the file's size. Paths are relative to the agent's work dir (or absolute inside it).
pub fn read(d: &AgentDriver, uri: &hyper::Uri) -> Response<Body> {
    let Some(path) = http::query_param(uri, "path") else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Missing required query parameter 'path'",
        );
    };
    let offset: i64 = match http::query_param(uri, "offset").map(|o| o.parse::<i64>()) {
        None => 0,
        Some(Ok(o)) if o >= -1 => o,
        Some(_) => {
            return http::error(StatusCode::BAD_REQUEST, "'offset' must be an integer >= -1")
        }
    };
    let length: u64 = match http::query_param(uri, "length").map(|l| l.parse::<u64>()) {
        None => MAX_READ,
        Some(Ok(l)) => l.min(MAX_READ),
        Some(Err(_)) => {
            return http::error(
                StatusCode::BAD_REQUEST,
                "'length' must be a non-negative integer",
            )
        }
    };
    let file = match d.sandbox_file(&path) {
        Ok(f) => f,
        Err(e) => return http::error(StatusCode::NOT_FOUND, e),
    };
    let read = (|| -> std::io::Result<(Vec<u8>, u64)> {
        // Non-blocking open and a type check after it: a FIFO a task made must not block the
        // agent's event loop.
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&file)?;
        let meta = f.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        let size = meta.len();
        if offset == -1 {
            return Ok((Vec::new(), size));
        }
        let start = (offset as u64).min(size);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        f.take(length).read_to_end(&mut buf)?;
        Ok((buf, start))
    })();
    match read {
        Ok((data, offset)) => {
            let body =
                serde_json::json!({"data": String::from_utf8_lossy(&data), "offset": offset});
            http::json(StatusCode::OK, to_ascii_json(&body))
        }
        Err(e) => http::error(StatusCode::NOT_FOUND, format!("cannot read '{path}': {e}")),
    }
}

/// `ls -l` style mode text, as Mesos' `/files/browse` reports it (`drwxr-xr-x`).
pub fn mode_text(mode: u32) -> String {
    let kind = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o010000 => 'p',
        0o140000 => 's',
        0o020000 => 'c',
        0o060000 => 'b',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(kind);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// The name of `id` in a `name:x:id:...` database such as `/etc/passwd`, else the number.
fn id_name(db: &str, id: u32) -> String {
    db.lines()
        .filter_map(|l| {
            let mut it = l.split(':');
            let name = it.next()?;
            let num: u32 = it.nth(1)?.parse().ok()?;
            (num == id).then(|| name.to_string())
        })
        .next()
        .unwrap_or_else(|| id.to_string())
}

/// One `/files/browse` entry: `{"path","nlink","size","mtime","mode","uid","gid"}`.
fn browse_entry(
    path: &Path,
    meta: &std::fs::Metadata,
    passwd: &str,
    group: &str,
) -> serde_json::Value {
    serde_json::json!({
        "path": path.display().to_string(),
        "nlink": meta.nlink(),
        "size": meta.size(),
        "mtime": meta.mtime(),
        "mode": mode_text(meta.mode()),
        "uid": id_name(passwd, meta.uid()),
        "gid": id_name(group, meta.gid()),
    })
}

/// `GET /files/browse?path=P`: the entries of a directory under the work dir, sorted by path.
pub fn browse(d: &AgentDriver, uri: &hyper::Uri) -> Response<Body> {
    let Some(path) = http::query_param(uri, "path") else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Missing required query parameter 'path'",
        );
    };
    let dir = match d.sandbox_file(&path) {
        Ok(f) => f,
        Err(e) => return http::error(StatusCode::NOT_FOUND, e),
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => {
            return http::error(
                StatusCode::NOT_FOUND,
                format!("cannot browse '{path}': {e}"),
            )
        }
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let mut list: Vec<(std::path::PathBuf, serde_json::Value)> = entries
        .filter_map(Result::ok)
        .take(MAX_BROWSE)
        .filter_map(|e| {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).ok()?;
            let entry = browse_entry(&p, &meta, &passwd, &group);
            Some((p, entry))
        })
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    let body: Vec<serde_json::Value> = list.into_iter().map(|(_, v)| v).collect();
    http::json(StatusCode::OK, to_ascii_json(&body))
}

/// CPU times and memory of one process from `/proc`, or `None` when it is gone.
pub fn process_statistics(pid: u32, now_secs: f64) -> Option<v1::agent::ResourceStatistics> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ... utime(14) stime(15) ... num_threads(20) ... rss(24).
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let utime = field(14)?;
    let stime = field(15)?;
    let threads = field(20).map(|t| t as u32);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok());
    Some(v1::agent::ResourceStatistics {
        timestamp: now_secs,
        processes: Some(1),
        threads,
        cpus_user_time_secs: Some(utime as f64 / USER_HZ),
        cpus_system_time_secs: Some(stime as f64 / USER_HZ),
        cpus_limit: None,
        mem_rss_bytes: rss_kb.map(|k| k * 1024),
        mem_limit_bytes: None,
    })
}

/// Statistics of a container's executor process, with the limits from its tasks' resources.
pub fn container_statistics(
    d: &AgentDriver,
    container: &mesolite_core::ids::ContainerId,
    resources: &mesolite_core::resources::Resources,
) -> Option<v1::agent::ResourceStatistics> {
    let pid = d.container_pid(container)?;
    let mut s = process_statistics(
        pid.as_raw_nonzero().get() as u32,
        d.clock.wall().as_secs_f64(),
    )?;
    let scalar = |name: &str| {
        resources
            .iter()
            .filter(|r| r.name.as_str() == name)
            .find_map(|r| match &r.value {
                mesolite_core::resources::Value::Scalar(f) => Some(f.as_f64()),
                _ => None,
            })
    };
    s.cpus_limit = scalar("cpus");
    s.mem_limit_bytes = scalar("mem").map(|mb| (mb * 1024.0 * 1024.0) as u64);
    Some(s)
}

/// `GET /monitor/statistics`: one entry per running executor, as Mesos' monitor reports it.
pub fn monitor_statistics(d: &AgentDriver) -> Response<Body> {
    let agent = d.agent.borrow();
    let mut out: Vec<serde_json::Value> = Vec::new();
    for e in agent.executor_details() {
        let mut resources = mesolite_core::resources::Resources::new();
        for t in agent
            .agent_tasks()
            .filter(|t| t.executor_id == e.executor_id && t.framework_id == e.framework_id)
            .filter(|t| !t.state.is_terminal())
        {
            let _ = resources.add_all(&t.spec.resources);
        }
        let Some(stats) = container_statistics(d, e.container_id, &resources) else {
            continue;
        };
        out.push(serde_json::json!({
            "executor_id": e.executor_id.as_str(),
            "executor_name": e.spec.map(|s| s.name.as_str()).unwrap_or(""),
            "framework_id": e.framework_id.as_str(),
            "source": e.executor_id.as_str(),
            "statistics": stats,
        }));
    }
    http::json(StatusCode::OK, to_ascii_json(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_print_like_ls() {
        assert_eq!(mode_text(0o040755), "drwxr-xr-x");
        assert_eq!(mode_text(0o100644), "-rw-r--r--");
        assert_eq!(mode_text(0o120777), "lrwxrwxrwx");
    }

    #[test]
    fn ids_resolve_to_names_or_numbers() {
        let db = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(id_name(db, 0), "root");
        assert_eq!(id_name(db, 65534), "nobody");
        assert_eq!(id_name(db, 42), "42");
    }

    #[test]
    fn this_process_has_cpu_times_and_memory() {
        let s = process_statistics(std::process::id(), 1.0).expect("own /proc entry");
        assert!(s.cpus_user_time_secs.unwrap() >= 0.0);
        assert!(s.mem_rss_bytes.unwrap() > 0);
        assert!(s.threads.unwrap() >= 1);
        assert_eq!(s.timestamp, 1.0);
    }
}
