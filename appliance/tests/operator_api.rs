//! End-to-end tests of the operator surface on real processes: the master's and the agent's v1
//! operator API, `/version`, the legacy v0 endpoints with Mesos' prefixes and names, and the
//! 404 for v0 paths mesolite does not serve.

mod common;

use common::*;
use serde_json::Value;

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// `POST <path>` with an operator call on `port`; the response.
fn call_at(port: u16, path: &str, body: &str) -> HttpResponse {
    http(port, "POST", path, &[JSON], body.as_bytes())
        .unwrap_or_else(|e| panic!("POST {path} {body}: {e}"))
}

/// An operator call of `call_type` at `path` that must answer 200 with a JSON object.
fn query(port: u16, path: &str, call_type: &str) -> Value {
    let r = call_at(port, path, &format!("{{\"type\":\"{call_type}\"}}"));
    assert_eq!(r.status, 200, "{call_type} at {path}: {}", r.text());
    assert!(r.body.is_ascii(), "{call_type}: non-ASCII JSON");
    let v = r.json();
    assert_eq!(v["type"], call_type, "{v}");
    v
}

/// A GET that must answer 200 with JSON.
fn get_json(port: u16, path: &str) -> Value {
    let r = http(port, "GET", path, &[], b"").unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json"),
        "GET {path}"
    );
    r.json()
}

fn flag(v: &Value, field: &str, name: &str) -> Option<String> {
    v[field]["flags"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)
        .and_then(|f| f["value"].as_str())
        .map(str::to_string)
}

fn metric(v: &Value, field: &str, name: &str) -> Option<f64> {
    v[field]["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name)
        .and_then(|m| m["value"].as_f64())
}

fn assert_version_document(v: &Value) {
    let obj = v.as_object().expect("an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "build_date",
            "build_time",
            "build_user",
            "git_sha",
            "git_tag",
            "mesolite_version",
            "version"
        ],
        "{v}"
    );
    assert_eq!(v["version"], "1.5.0");
    for part in v["version"].as_str().unwrap().split('.') {
        part.parse::<u32>().expect("an integer version part");
    }
    let own = v["mesolite_version"].as_str().unwrap();
    assert!(v["git_tag"].as_str().unwrap().contains(own), "{v}");
}

fn assert_not_implemented(port: u16, path: &str) {
    let r = http(port, "GET", path, &[], b"").unwrap();
    assert_eq!(r.status, 404, "GET {path}: {}", r.text());
    assert!(
        r.text().contains("not implemented in mesolite"),
        "GET {path}: {}",
        r.text()
    );
    assert_eq!(r.text().trim_end().lines().count(), 1, "one line");
}

#[test]
fn master_and_agent_answer_the_operator_api_and_legacy_endpoints() {
    let mut h = Harness::new("operator");
    let (mport, aport) = (free_port(), free_port());
    let (mdir, adir) = (h.path("master"), h.path("agent"));
    h.start_master(mport, &mdir);
    h.start_agent(mport, aport, &adir, AGENT_RESOURCES);
    let agent_id = wait_agents(mport, 1)[0].id.clone();

    // /version: the same document on both, with and without Mesos' prefixes.
    for (port, path) in [
        (mport, "/version"),
        (mport, "/master/version"),
        (aport, "/version"),
        (aport, "/slave(1)/version"),
    ] {
        assert_version_document(&get_json(port, path));
    }

    // Master GET_FLAGS: Mesos names, mesolite's values, strings.
    let flags = query(mport, "/api/v1", "GET_FLAGS");
    assert_eq!(
        flag(&flags, "get_flags", "allocation_interval").as_deref(),
        Some("200ms")
    );
    assert_eq!(
        flag(&flags, "get_flags", "work_dir").as_deref(),
        mdir.to_str()
    );
    assert_eq!(flag(&flags, "get_flags", "port"), Some(mport.to_string()));
    assert_eq!(
        flag(&flags, "get_flags", "max_agent_ping_timeouts").as_deref(),
        Some("5")
    );
    assert_eq!(
        flag(&flags, "get_flags", "agent_ping_timeout").as_deref(),
        Some("15secs")
    );
    assert_eq!(
        flag(&flags, "get_flags", "hostname").as_deref(),
        Some("localhost")
    );
    let legacy_flags = get_json(mport, "/master/flags");
    assert_eq!(legacy_flags["flags"]["port"], mport.to_string());

    // Master GET_METRICS and /metrics/snapshot agree and use Mesos' names.
    let metrics = query(mport, "/master/api/v1", "GET_METRICS");
    assert_eq!(
        metric(&metrics, "get_metrics", "master/slaves_active"),
        Some(1.0)
    );
    assert_eq!(metric(&metrics, "get_metrics", "master/elected"), Some(1.0));
    assert_eq!(
        metric(&metrics, "get_metrics", "master/cpus_total"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "get_metrics", "master/mem_total"),
        Some(512.0)
    );
    let snapshot = get_json(mport, "/metrics/snapshot");
    for name in [
        "master/tasks_running",
        "master/tasks_finished",
        "master/tasks_failed",
        "master/slaves_active",
        "master/slaves_connected",
        "master/frameworks_active",
        "master/cpus_total",
        "master/cpus_used",
        "master/mem_total",
        "master/mem_used",
        "master/disk_total",
        "master/uptime_secs",
        "master/elected",
        "registrar/queued_operations",
        "allocator/mesos/allocation_runs",
    ] {
        assert!(snapshot[name].is_number(), "{name} missing in {snapshot}");
    }
    assert_eq!(snapshot["master/slaves_active"], 1.0);
    assert!(
        snapshot["allocator/mesos/allocation_runs"]
            .as_f64()
            .unwrap()
            >= 1.0
    );

    let level = query(mport, "/api/v1/operator", "GET_LOGGING_LEVEL");
    assert_eq!(level["get_logging_level"]["level"], 0);
    let weights = query(mport, "/api/v1", "GET_WEIGHTS");
    assert!(weights["get_weights"].is_object(), "{weights}");
    let roles = query(mport, "/api/v1", "GET_ROLES");
    assert!(roles["get_roles"].is_object(), "{roles}");

    // The existing queries still answer.
    for t in [
        "GET_HEALTH",
        "GET_VERSION",
        "GET_STATE",
        "GET_AGENTS",
        "GET_FRAMEWORKS",
        "GET_EXECUTORS",
        "GET_TASKS",
        "GET_MASTER",
    ] {
        query(mport, "/api/v1", t);
    }

    // Legacy master documents.
    for path in [
        "/state",
        "/state.json",
        "/master/state",
        "/master/state.json",
    ] {
        let state = get_json(mport, path);
        assert_eq!(state["version"], "1.5.0");
        let slaves = state["slaves"].as_array().expect("slaves");
        assert_eq!(slaves.len(), 1, "{state}");
        assert_eq!(slaves[0]["id"], agent_id.as_str());
        assert_eq!(slaves[0]["hostname"], "localhost");
        assert_eq!(slaves[0]["active"], true);
        assert_eq!(slaves[0]["resources"]["cpus"], 1.0);
        assert_eq!(slaves[0]["resources"]["ports"], "[31000-31100]");
        assert!(slaves[0]["used_resources"].is_object());
        assert!(slaves[0]["pid"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{aport}")));
        assert!(state["frameworks"].is_array());
        assert_eq!(state["flags"]["port"], mport.to_string());
    }
    let slaves = get_json(mport, "/master/slaves");
    assert_eq!(slaves["slaves"][0]["id"], agent_id.as_str());
    let frameworks = get_json(mport, "/master/frameworks");
    assert!(frameworks["frameworks"].is_array(), "{frameworks}");
    for path in ["/redirect", "/master/redirect"] {
        let r = http(mport, "GET", path, &[], b"").unwrap();
        assert_eq!(r.status, 307, "{path}");
        assert_eq!(r.header("Location"), Some(&*format!("//localhost:{mport}")));
    }
    for path in ["/health", "/master/health"] {
        assert_eq!(http(mport, "GET", path, &[], b"").unwrap().status, 200);
    }

    // Agent operator API, bare and under /slave(1).
    for path in ["/api/v1", "/slave(1)/api/v1"] {
        let health = query(aport, path, "GET_HEALTH");
        assert_eq!(health["get_health"]["healthy"], true);
        let agent = query(aport, path, "GET_AGENT");
        assert_eq!(
            agent["get_agent"]["agent_info"]["id"]["value"],
            agent_id.as_str()
        );
        assert_eq!(agent["get_agent"]["agent_info"]["port"], aport);
        let flags = query(aport, path, "GET_FLAGS");
        assert_eq!(flag(&flags, "get_flags", "master"), Some(loopback(mport)));
        assert_eq!(
            flag(&flags, "get_flags", "work_dir").as_deref(),
            adir.to_str()
        );
        assert_eq!(
            flag(&flags, "get_flags", "executor_shutdown_grace_period").as_deref(),
            Some("1secs")
        );
        assert_eq!(
            flag(&flags, "get_flags", "reconfiguration_policy").as_deref(),
            Some("equal")
        );
        assert_eq!(
            flag(&flags, "get_flags", "recover").as_deref(),
            Some("reconnect")
        );
        let version = query(aport, path, "GET_VERSION");
        assert_eq!(version["get_version"]["version_info"]["version"], "1.5.0");
        let state = query(aport, path, "GET_STATE");
        assert!(state["get_state"]["get_tasks"].is_object(), "{state}");
        assert!(state["get_state"]["get_agents"].is_null(), "{state}");
        for t in [
            "GET_CONTAINERS",
            "GET_FRAMEWORKS",
            "GET_EXECUTORS",
            "GET_TASKS",
        ] {
            query(aport, path, t);
        }
        let metrics = query(aport, path, "GET_METRICS");
        assert_eq!(
            metric(&metrics, "get_metrics", "slave/registered"),
            Some(1.0)
        );
    }

    // Legacy agent documents.
    for path in ["/state", "/slave(1)/state", "/slave(1)/state.json"] {
        let state = get_json(aport, path);
        assert_eq!(state["id"], agent_id.as_str());
        assert_eq!(state["hostname"], "localhost");
        assert_eq!(state["resources"]["mem"], 512.0);
        assert!(state["frameworks"].is_array());
        assert_eq!(state["flags"]["master"], loopback(mport));
    }
    let snapshot = get_json(aport, "/metrics/snapshot");
    for name in [
        "slave/tasks_running",
        "slave/executors_running",
        "slave/registered",
        "slave/uptime_secs",
        "slave/cpus_total",
    ] {
        assert!(snapshot[name].is_number(), "{name} missing in {snapshot}");
    }
    assert_eq!(snapshot["slave/registered"], 1.0);
    assert_eq!(get_json(aport, "/monitor/statistics"), Value::Array(vec![]));
    assert_eq!(
        get_json(aport, "/slave(1)/flags")["flags"]["master"],
        loopback(mport)
    );

    // Other v0 paths: 404 naming mesolite.
    for (port, path) in [
        (mport, "/master/roles"),
        (mport, "/master/tasks"),
        (mport, "/metrics/nothing"),
        (aport, "/slave(1)/containers"),
        (aport, "/files/debug"),
    ] {
        assert_not_implemented(port, path);
    }

    // Bad input: one line of reason each, and both keep serving.
    for (port, path) in [(mport, "/api/v1"), (aport, "/api/v1")] {
        for body in [
            "{",
            "[]",
            "{\"type\":\"GET_NOTHING\"}",
            "{\"type\":7}",
            "{}",
        ] {
            let r = call_at(port, path, body);
            assert_eq!(r.status, 400, "{path} {body}: {}", r.text());
            assert_eq!(r.text().trim_end().lines().count(), 1, "{}", r.text());
        }
        let r = http(port, "GET", path, &[], b"").unwrap();
        assert_eq!(r.status, 405, "GET {path}");
    }
    let r = http(mport, "POST", "/state", &[JSON], b"{}").unwrap();
    assert_eq!(r.status, 405);
    let r = http(aport, "GET", "/files/read", &[], b"").unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    let r = http(aport, "GET", "/files/browse", &[], b"").unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    let r = http(aport, "GET", "/files/browse?path=/etc", &[], b"").unwrap();
    assert_eq!(r.status, 404, "outside the work dir: {}", r.text());
    query(mport, "/api/v1", "GET_HEALTH");
    query(aport, "/api/v1", "GET_HEALTH");
}

#[test]
fn a_running_task_shows_in_every_operator_view_of_standalone() {
    let mut h = Harness::new("operator-task");
    let port = free_port();
    let work = h.path("work");
    h.start_standalone(port, &work, &[]);
    let agent_id = wait_agents(port, 1)[0].id.clone();
    let master = loopback(port);
    let run = h.spawn_cli("run", &["run", "--master", &master, "--", "sleep", "30"]);
    let task_id = wait_for("the task to be TASK_RUNNING", WAIT, || {
        if let Some(status) = h.try_exit(run) {
            panic!("run exited early with {status}: {}", h.log(run));
        }
        let log = h.log(run);
        log.contains("TASK_RUNNING")
            .then(|| run_task_id(&log))
            .flatten()
    });

    // The master's views.
    let metrics = get_json(port, "/metrics/snapshot");
    assert_eq!(metrics["master/tasks_running"], 1.0, "{metrics}");
    assert_eq!(metrics["master/frameworks_active"], 1.0, "{metrics}");
    assert!(
        metrics["master/cpus_used"].as_f64().unwrap() > 0.0,
        "{metrics}"
    );
    // One process serving a master and an agent reports both sets, as Mesos' libprocess does.
    assert_eq!(metrics["slave/tasks_running"], 1.0, "{metrics}");
    assert_eq!(metrics["slave/executors_running"], 1.0, "{metrics}");
    let state = get_json(port, "/master/state");
    let fw = &state["frameworks"][0];
    let framework_id = fw["id"].as_str().expect("a framework").to_string();
    assert_eq!(fw["tasks"][0]["id"], task_id.as_str(), "{state}");
    assert_eq!(fw["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(fw["tasks"][0]["slave_id"], agent_id.as_str());
    assert!(fw["used_resources"]["cpus"].as_f64().unwrap() > 0.0, "{fw}");
    assert!(
        state["slaves"][0]["used_resources"]["cpus"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let roles = query(port, "/api/v1", "GET_ROLES");
    let role = &roles["get_roles"]["roles"][0];
    assert_eq!(role["weight"], 1.0, "{roles}");
    assert_eq!(
        role["frameworks"][0]["value"],
        framework_id.as_str(),
        "{roles}"
    );
    assert!(
        role["resources"].as_array().is_some_and(|r| !r.is_empty()),
        "{roles}"
    );

    // The agent's views, under /slave(1) on the one port.
    let tasks = query(port, "/slave(1)/api/v1", "GET_TASKS");
    assert_eq!(
        tasks["get_tasks"]["launched_tasks"][0]["task_id"]["value"],
        task_id.as_str(),
        "{tasks}"
    );
    assert_eq!(
        tasks["get_tasks"]["launched_tasks"][0]["state"],
        "TASK_RUNNING"
    );
    let fws = query(port, "/slave(1)/api/v1", "GET_FRAMEWORKS");
    assert_eq!(
        fws["get_frameworks"]["frameworks"][0]["framework_info"]["id"]["value"],
        framework_id.as_str()
    );
    let execs = query(port, "/slave(1)/api/v1", "GET_EXECUTORS");
    assert_eq!(
        execs["get_executors"]["executors"][0]["executor_info"]["executor_id"]["value"],
        task_id.as_str(),
        "{execs}"
    );
    let containers = wait_for("container statistics", WAIT, || {
        let c = query(port, "/slave(1)/api/v1", "GET_CONTAINERS");
        let first = c["get_containers"]["containers"][0].clone();
        first["resource_statistics"].is_object().then_some(first)
    });
    assert_eq!(containers["executor_id"]["value"], task_id.as_str());
    let pid = containers["container_status"]["executor_pid"]
        .as_u64()
        .expect("an executor pid");
    assert!(is_alive(pid as u32), "executor {pid} is alive");
    assert!(
        containers["resource_statistics"]["mem_rss_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    let stats = get_json(port, "/monitor/statistics");
    assert_eq!(stats[0]["executor_id"], task_id.as_str(), "{stats}");
    assert_eq!(stats[0]["framework_id"], framework_id.as_str());
    assert!(
        stats[0]["statistics"]["cpus_user_time_secs"].is_number(),
        "{stats}"
    );

    // The agent's legacy state names the sandbox, and /files/browse lists it as Mesos does.
    let astate = get_json(port, "/slave(1)/state");
    let executor = &astate["frameworks"][0]["executors"][0];
    assert_eq!(executor["tasks"][0]["id"], task_id.as_str(), "{astate}");
    let directory = executor["directory"]
        .as_str()
        .expect("a directory")
        .to_string();
    let expected = sandbox(&work.join("agent"), &agent_id, &framework_id, &task_id);
    assert_eq!(
        std::fs::canonicalize(&directory).unwrap(),
        std::fs::canonicalize(&expected).unwrap()
    );
    let listing = get_json(port, &format!("/files/browse?path={directory}"));
    let entries = listing.as_array().expect("a list");
    let stdout = entries
        .iter()
        .find(|e| e["path"].as_str().is_some_and(|p| p.ends_with("/stdout")))
        .unwrap_or_else(|| panic!("no stdout in {listing}"));
    for key in ["path", "nlink", "size", "mtime", "mode", "uid", "gid"] {
        assert!(!stdout[key].is_null(), "{key} missing in {stdout}");
    }
    assert!(
        stdout["mode"].as_str().unwrap().starts_with("-rw"),
        "{stdout}"
    );
    let r = http(
        port,
        "GET",
        &format!("/slave(1)/files/read?path={directory}/stdout&offset=-1"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Operator SUBSCRIBE (include/mesos/v1/master/master.proto: Event): SUBSCRIBED with the full
/// state first, then TASK_ADDED and TASK_UPDATED as a task runs, on a chunked RecordIO stream.
#[test]
fn operator_subscribe_streams_state_then_task_events() {
    use std::io::{Read, Write};
    let mut h = Harness::new("operator-subscribe");
    let port = free_port();
    let work = h.path("work");
    h.start_standalone(port, &work, &[]);
    wait_agents(port, 1);
    let mut stream = std::net::TcpStream::connect(loopback(port)).unwrap();
    let body = r#"{"type":"SUBSCRIBE"}"#;
    write!(
        stream,
        "POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let mut seen = Vec::new();
    let mut read_until = |needle: &str, seen: &mut Vec<u8>| {
        wait_for(needle, WAIT, || {
            let mut buf = [0u8; 65536];
            if let Ok(n) = stream.read(&mut buf) {
                seen.extend_from_slice(&buf[..n]);
            }
            find(seen, needle.as_bytes()).map(|_| ())
        })
    };
    read_until("\"type\":\"SUBSCRIBED\"", &mut seen);
    let head = String::from_utf8_lossy(&seen).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    assert!(head.contains("\"get_state\""), "{head}");
    let master = loopback(port);
    let out = h.cli(&["run", "--master", &master, "--", "true"], WAIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    read_until("\"type\":\"TASK_ADDED\"", &mut seen);
    read_until("\"state\":\"TASK_FINISHED\"", &mut seen);
    read_until("\"type\":\"FRAMEWORK_REMOVED\"", &mut seen);
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("\"type\":\"FRAMEWORK_ADDED\""), "{text}");
    assert!(
        text.contains("\"task_updated\":{\"framework_id\""),
        "{text}"
    );
}

#[test]
fn a_torn_down_framework_is_listed_among_the_completed_frameworks() {
    let mut h = Harness::new("operator-completed");
    let port = free_port();
    let work = h.path("work");
    h.start_standalone(port, &work, &[]);
    wait_agents(port, 1);
    let master = loopback(port);
    let out = h.cli(
        &[
            "run", "--master", &master, "--name", "done-job", "--", "true",
        ],
        WAIT,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    // `run` tears its framework down after the task ends.
    let frameworks = wait_for("the framework among completed_frameworks", WAIT, || {
        let v = try_operator(port, "GET_FRAMEWORKS")?;
        let done = v["get_frameworks"]["completed_frameworks"]
            .as_array()?
            .clone();
        (!done.is_empty()).then_some(v)
    });
    let listed = &frameworks["get_frameworks"];
    assert!(
        listed["frameworks"].as_array().is_none_or(Vec::is_empty),
        "{listed}"
    );
    let done = &listed["completed_frameworks"][0];
    let name = done["framework_info"]["name"].as_str().unwrap_or_default();
    assert!(name.contains("done-job"), "{done}");
    assert_eq!(done["active"], false);
    assert_eq!(done["connected"], false);
    assert!(
        done["unregistered_time"]["nanoseconds"]
            .as_i64()
            .unwrap_or(0)
            > 0,
        "{done}"
    );
    // GET_STATE shows the same list.
    let state = operator(port, "GET_STATE");
    assert_eq!(
        state["get_state"]["get_frameworks"]["completed_frameworks"][0]["framework_info"]["id"],
        done["framework_info"]["id"]
    );
}
