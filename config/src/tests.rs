//! Tests of flag parsing: every flag form, the environment, defaults, and the one-line errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use mesolite_core::time::Duration;

use crate::{
    parse_duration, parse_with, Command, CtlQuery, FaultDomain, Outcome, ReconfigurationPolicy,
    RunCommand, Scalar,
};

/// Extra environment variables for one case.
type Vars<'a> = &'a [(&'a str, &'a str)];

/// A fresh directory under the system temp dir, removed on drop; it serves as `$HOME`.
struct TempHome(PathBuf);

impl TempHome {
    fn new() -> TempHome {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("mesolite-config-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp home");
        TempHome(std::fs::canonicalize(&path).expect("canonicalize temp home"))
    }
    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
    fn s(&self, p: &str) -> String {
        self.join(p).to_string_lossy().into_owned()
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Parses `args` as a non-root user whose `$HOME` is `home`, with the extra variables `vars`.
fn outcome(home: &TempHome, args: &[&str], vars: &[(&str, &str)]) -> Outcome {
    let mut env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("HOME".into(), home.0.to_string_lossy().into_owned());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    parse_with(&args, &|name: &str| env.get(name).cloned(), false)
}

fn ok(home: &TempHome, args: &[&str], vars: &[(&str, &str)]) -> Command {
    match outcome(home, args, vars) {
        Outcome::Command(c) => *c,
        other => panic!("{args:?}: expected a command, got {other:?}"),
    }
}

fn err(home: &TempHome, args: &[&str], vars: &[(&str, &str)]) -> String {
    match outcome(home, args, vars) {
        Outcome::Error(e) => {
            let text = e.to_string();
            assert!(!text.contains('\n'), "error is not one line: {text:?}");
            text
        }
        other => panic!("{args:?}: expected an error, got {other:?}"),
    }
}

fn master(c: Command) -> crate::MasterConfig {
    match c {
        Command::Master(m) => m,
        other => panic!("expected master, got {other:?}"),
    }
}

fn agent(c: Command) -> crate::AgentConfig {
    match c {
        Command::Agent(a) => a,
        other => panic!("expected agent, got {other:?}"),
    }
}

fn run(c: Command) -> crate::RunConfig {
    match c {
        Command::Run(r) => r,
        other => panic!("expected run, got {other:?}"),
    }
}

fn ctl(c: Command) -> crate::CtlConfig {
    match c {
        Command::Ctl(r) => r,
        other => panic!("expected ctl, got {other:?}"),
    }
}

#[test]
fn master_defaults() {
    let home = TempHome::new();
    let m = master(ok(&home, &["master"], &[]));
    assert_eq!(m.listen, "0.0.0.0:5050".parse().unwrap());
    assert_eq!(m.allocation_interval, Duration::from_secs(1));
    assert_eq!((m.max_agents, m.max_frameworks), (10_000, 1_000));
    assert_eq!((m.advertise_ip, m.hostname), (None, None));
    assert_eq!(m.work_dir.path(), home.join(".local/state/mesolite/master"));
    assert!(
        m.work_dir.path().is_dir(),
        "the default work dir is created"
    );
}

#[test]
fn work_dir_flag_forms() {
    let home = TempHome::new();
    let want = home.join("a/b/c");
    let forms: [(&[&str], Vars); 5] = [
        (&["master", "--work-dir", &home.s("a/b/c")], &[]),
        (&["master", &format!("--work-dir={}", home.s("a/b/c"))], &[]),
        (&["master", "--work_dir", &home.s("a/b/c")], &[]),
        (&["master", &format!("--work_dir={}", home.s("a/b/c"))], &[]),
        (&["master"], &[("MESOLITE_WORK_DIR", &home.s("a/b/c"))]),
    ];
    for (args, vars) in forms {
        assert_eq!(
            master(ok(&home, args, vars)).work_dir.path(),
            want,
            "{args:?} {vars:?}"
        );
    }
    // A flag beats its variable.
    let m = master(ok(
        &home,
        &["master", "--work-dir", &home.s("flag")],
        &[("MESOLITE_WORK_DIR", &home.s("env"))],
    ));
    assert_eq!(m.work_dir.path(), home.join("flag"));
    assert!(!home.join("env").exists());
    // An empty variable counts as unset.
    let m = master(ok(&home, &["master"], &[("MESOLITE_WORK_DIR", "")]));
    assert_eq!(m.work_dir.path(), home.join(".local/state/mesolite/master"));
}

#[test]
fn underscores_are_rewritten_only_in_flag_names() {
    let home = TempHome::new();
    let a = agent(ok(
        &home,
        &[
            "agent",
            "--master=m_1.example:5050",
            "--advertise_ip",
            "10.0.0.7",
            "--executor_shutdown_grace_period=3s",
        ],
        &[],
    ));
    assert_eq!(a.master.host(), "m_1.example");
    assert_eq!(a.advertise_ip, Some("10.0.0.7".parse().unwrap()));
    assert_eq!(a.executor_shutdown_grace_period, Duration::from_secs(3));

    let r = run(ok(
        &home,
        &["run", "--shell=echo --a_b=c_d", "--cpus=0.5"],
        &[],
    ));
    assert_eq!(r.command, RunCommand::Shell("echo --a_b=c_d".into()));
    let r = run(ok(
        &home,
        &["run", "--mem", "64", "--", "prog", "--x_y=z_w", "--", "a_b"],
        &[],
    ));
    assert_eq!(
        r.command,
        RunCommand::Argv(vec![
            "prog".into(),
            "--x_y=z_w".into(),
            "--".into(),
            "a_b".into()
        ])
    );
    assert_eq!(r.mem_mb, Scalar::from_thousandths(64_000));
    // Without `--`, the first positional argument starts the command and takes the rest verbatim.
    let r = run(ok(
        &home,
        &["run", "--name=t", "sleep", "--cpus_x", "1"],
        &[],
    ));
    assert_eq!(
        r.command,
        RunCommand::Argv(vec!["sleep".into(), "--cpus_x".into(), "1".into()])
    );
    assert_eq!(r.name, "t");
    // A flag's value that looks like a flag is still a value.
    let r = run(ok(
        &home,
        &["run", "--name", "--not_a_flag", "--", "true"],
        &[],
    ));
    assert_eq!(r.name, "--not_a_flag");
}

#[test]
fn every_master_flag() {
    let home = TempHome::new();
    let m = master(ok(
        &home,
        &[
            "master",
            "--listen=[::1]:6060",
            "--work-dir",
            &home.s("m"),
            "--allocation-interval",
            "250ms",
            "--max-agents=7",
            "--max_frameworks",
            "9",
            "--advertise-ip=fd00::1",
            "--hostname",
            "edge-1.local",
        ],
        &[],
    ));
    assert_eq!(m.listen, "[::1]:6060".parse().unwrap());
    assert_eq!(m.allocation_interval, Duration::from_millis(250));
    assert_eq!((m.max_agents, m.max_frameworks), (7, 9));
    assert_eq!(m.advertise_ip, Some("fd00::1".parse().unwrap()));
    assert_eq!(m.hostname.unwrap().as_str(), "edge-1.local");
}

#[test]
fn every_flag_from_the_environment() {
    let home = TempHome::new();
    let vars = [
        ("MESOLITE_LISTEN", "127.0.0.2:7070"),
        ("MESOLITE_ALLOCATION_INTERVAL", "2"),
        ("MESOLITE_MAX_AGENTS", "11"),
        ("MESOLITE_MAX_FRAMEWORKS", "12"),
        ("MESOLITE_ADVERTISE_IP", "10.1.2.3"),
        ("MESOLITE_HOSTNAME", "h1"),
        ("MESOLITE_MASTER", "10.0.0.1:5050"),
        ("MESOLITE_RESOURCES", "cpus:2;mem:1024"),
        ("MESOLITE_ATTRIBUTES", "rack:a;zone:b"),
        ("MESOLITE_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "1min"),
    ];
    let m = master(ok(&home, &["master"], &vars));
    assert_eq!(m.listen, "127.0.0.2:7070".parse().unwrap());
    assert_eq!(m.allocation_interval, Duration::from_secs(2));
    assert_eq!((m.max_agents, m.max_frameworks), (11, 12));
    assert_eq!(m.advertise_ip, Some("10.1.2.3".parse().unwrap()));
    assert_eq!(m.hostname.unwrap().as_str(), "h1");

    let a = agent(ok(&home, &["agent"], &vars));
    assert_eq!(a.master.to_string(), "10.0.0.1:5050");
    assert_eq!(a.resources.unwrap().text(), "cpus:2;mem:1024");
    assert_eq!(a.attributes.as_slice().len(), 2);
    assert_eq!(a.executor_shutdown_grace_period, Duration::from_secs(60));
    assert_eq!(a.work_dir.path(), home.join(".local/state/mesolite/agent"));

    // The command line beats every variable.
    let a = agent(ok(
        &home,
        &["agent", "--master", "m:1", "--listen", "127.0.0.3:1"],
        &vars,
    ));
    assert_eq!((a.master.host(), a.master.port()), ("m", 1));
    assert_eq!(a.listen, "127.0.0.3:1".parse().unwrap());
}

#[test]
fn agent_gc_flags() {
    let home = TempHome::new();
    let a = agent(ok(
        &home,
        &[
            "agent",
            "--master",
            "h:1",
            "--gc-delay",
            "2secs",
            "--gc_disk_headroom=0.25",
            "--disk-watch-interval",
            "5s",
        ],
        &[],
    ));
    assert_eq!(a.gc_delay, Duration::from_secs(2));
    assert_eq!(a.gc_disk_headroom_permille, 250);
    assert_eq!(a.disk_watch_interval, Duration::from_secs(5));
    let a = agent(ok(
        &home,
        &["agent", "--master", "h:1"],
        &[
            ("MESOLITE_GC_DELAY", "2weeks"),
            ("MESOLITE_GC_DISK_HEADROOM", "1"),
        ],
    ));
    assert_eq!(a.gc_delay, Duration::from_secs(14 * 86_400));
    assert_eq!(a.gc_disk_headroom_permille, 1000);
    let a = agent(ok(
        &home,
        &["agent", "--master", "h:1", "--gc-disk-headroom", "0"],
        &[],
    ));
    assert_eq!(a.gc_disk_headroom_permille, 0);
}

#[test]
fn agent_defaults_and_attributes() {
    let home = TempHome::new();
    let a = agent(ok(
        &home,
        &[
            "agent",
            "--master",
            "[fd00::2]:5050",
            "--attributes",
            "rack:2;zone:a;p:[1-2,5-9]",
        ],
        &[],
    ));
    assert_eq!(a.listen, "0.0.0.0:5051".parse().unwrap());
    assert_eq!(a.master.ip(), Some("fd00::2".parse().unwrap()));
    assert_eq!(a.master.to_string(), "[fd00::2]:5050");
    assert_eq!(a.executor_shutdown_grace_period, Duration::from_secs(5));
    assert_eq!(a.gc_delay, Duration::from_secs(7 * 86_400));
    assert_eq!(a.gc_disk_headroom_permille, 100);
    assert_eq!(a.disk_watch_interval, Duration::from_secs(60));
    assert_eq!(a.resources, None);
    use crate::AttributeValue::*;
    let values: Vec<_> = a
        .attributes
        .as_slice()
        .iter()
        .map(|x| (x.name.as_str(), x.value.clone()))
        .collect();
    let ranges = mesolite_core::resources::RangeSet::from_ranges(&[
        mesolite_core::resources::Range::new(5, 9),
        mesolite_core::resources::Range::new(1, 2),
    ])
    .unwrap();
    assert_eq!(
        values,
        vec![
            ("rack", Scalar(crate::AttributeScalar::from_milli(2000))),
            ("zone", Text("a".into())),
            ("p", Ranges(ranges))
        ]
    );
    assert_eq!(a.attributes.to_vec(), a.attributes.as_slice());
    assert_eq!(a.reconfiguration_policy, ReconfigurationPolicy::Equal);
    assert_eq!(a.domain, None);
}

#[test]
fn reconfiguration_policy_and_domain() {
    let home = TempHome::new();
    let json = r#"{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"eu-1"}}}"#;
    let a = agent(ok(
        &home,
        &[
            "agent",
            "--master",
            "m:1",
            "--reconfiguration_policy=additive",
            "--domain",
            json,
        ],
        &[],
    ));
    assert_eq!(a.reconfiguration_policy, ReconfigurationPolicy::Additive);
    let eu = FaultDomain {
        region: "eu".into(),
        zone: "eu-1".into(),
    };
    assert_eq!(a.domain.as_ref(), Some(&eu));
    // The domain shows as the JSON it came from.
    assert_eq!(eu.to_string(), json);

    // From the environment, for the agent and for standalone; unknown keys are ignored.
    let spaced = r#" { "fault_domain" : { "zone": {"name": "z"}, "region": {"name": "r", "x": 1} }, "y": [] } "#;
    let vars = [
        ("MESOLITE_RECONFIGURATION_POLICY", "additive"),
        ("MESOLITE_DOMAIN", spaced),
    ];
    let rz = Some(FaultDomain {
        region: "r".into(),
        zone: "z".into(),
    });
    let a = agent(ok(&home, &["agent", "--master", "m:1"], &vars));
    assert_eq!(
        (a.reconfiguration_policy, &a.domain),
        (ReconfigurationPolicy::Additive, &rz)
    );
    let Command::Standalone(s) = ok(&home, &["standalone"], &vars) else {
        panic!("expected standalone")
    };
    assert_eq!(
        (s.reconfiguration_policy, &s.domain),
        (ReconfigurationPolicy::Additive, &rz)
    );
    let Command::Standalone(s) = ok(&home, &["standalone"], &[]) else {
        panic!("expected standalone")
    };
    assert_eq!(
        (s.reconfiguration_policy, s.domain),
        (ReconfigurationPolicy::Equal, None)
    );
    // The command line beats the variable.
    let a = agent(ok(
        &home,
        &[
            "agent",
            "--master",
            "m:1",
            "--reconfiguration-policy",
            "equal",
        ],
        &vars,
    ));
    assert_eq!(a.reconfiguration_policy, ReconfigurationPolicy::Equal);

    const SHAPE: &str = r#"{"fault_domain":{"region":{"name":"R"},"zone":{"name":"Z"}}}"#;
    let cases: &[(&[&str], Vars, String)] = &[
        (&["--reconfiguration-policy", "any"], &[], "--reconfiguration-policy: 'any' is not equal or additive".into()),
        (&["--reconfiguration-policy", "Equal"], &[], "--reconfiguration-policy: 'Equal' is not equal or additive".into()),
        (&[], &[("MESOLITE_RECONFIGURATION_POLICY", "x")], "--reconfiguration-policy (from MESOLITE_RECONFIGURATION_POLICY): 'x' is not equal or additive".into()),
        (&["--domain", "eu/eu-1"], &[], format!("--domain: 'eu/eu-1' is not JSON like {SHAPE}")),
        (&["--domain", "{}"], &[], format!("--domain: '{{}}' has no fault_domain; expected JSON like {SHAPE}")),
        (
            &["--domain", r#"{"fault_domain":{"region":{"name":"eu"}}}"#],
            &[],
            format!(r#"--domain: '{{"fault_domain":{{"region":{{"name":"eu"}}}}}}' has no non-empty fault_domain.zone.name; expected JSON like {SHAPE}"#),
        ),
        (
            &["--domain", r#"{"fault_domain":{"region":{"name":""},"zone":{"name":"z"}}}"#],
            &[],
            format!(r#"--domain: '{{"fault_domain":{{"region":{{"name":""}},"zone":{{"name":"z"}}}}}}' has no non-empty fault_domain.region.name; expected JSON like {SHAPE}"#),
        ),
        (
            &["--domain", r#"{"fault_domain":{"region":{"name":1},"zone":{"name":"z"}}}"#],
            &[],
            format!(r#"--domain: '{{"fault_domain":{{"region":{{"name":1}},"zone":{{"name":"z"}}}}}}' has no non-empty fault_domain.region.name; expected JSON like {SHAPE}"#),
        ),
    ];
    for (extra, vars, want) in cases {
        let mut args = vec!["agent", "--master", "m:1"];
        args.extend_from_slice(extra);
        assert_eq!(&err(&home, &args, vars), want, "{args:?}");
        let mut args = vec!["standalone"];
        args.extend_from_slice(extra);
        assert_eq!(&err(&home, &args, vars), want, "{args:?}");
    }
}

#[test]
fn standalone_run_ctl_defaults() {
    let home = TempHome::new();
    match ok(&home, &["standalone"], &[]) {
        Command::Standalone(s) => {
            assert_eq!(s.listen, "127.0.0.1:5050".parse().unwrap());
            assert_eq!(
                s.work_dir.path(),
                home.join(".local/state/mesolite/standalone")
            );
            assert_eq!(
                (s.max_agents, s.max_frameworks, s.resources),
                (10_000, 1_000, None)
            );
        }
        other => panic!("{other:?}"),
    }
    let r = run(ok(&home, &["run", "--shell", "echo hi"], &[]));
    assert_eq!(
        r.masters.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        ["127.0.0.1:5050"]
    );
    assert_eq!(
        (r.cpus, r.mem_mb, r.name.as_str()),
        (
            Scalar::from_thousandths(100),
            Scalar::from_thousandths(32_000),
            "mesolite-run"
        )
    );
    let r = run(ok(
        &home,
        &[
            "run", "--master", "a:1, b:2", "--cpus", "1.25", "--", "true",
        ],
        &[],
    ));
    assert_eq!(
        r.masters.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        ["a:1", "b:2"]
    );
    assert_eq!(r.cpus.to_string(), "1.25");

    let c = ctl(ok(&home, &["ctl", "agents"], &[]));
    assert_eq!(
        (c.master.to_string(), c.json, c.query),
        ("127.0.0.1:5050".into(), false, CtlQuery::Agents)
    );
    let c = ctl(ok(
        &home,
        &["ctl", "--json", "version", "--master=h:9"],
        &[],
    ));
    assert_eq!(
        (c.master.to_string(), c.json, c.query),
        ("h:9".into(), true, CtlQuery::Version)
    );
    assert!(ctl(ok(&home, &["ctl", "tasks"], &[("MESOLITE_JSON", "1")])).json);
    assert!(!ctl(ok(&home, &["ctl", "tasks"], &[("MESOLITE_JSON", "false")])).json);
    assert_eq!(ok(&home, &["executor"], &[]), Command::Executor);
    // Nothing but the named work dirs was created.
    let created: Vec<_> = std::fs::read_dir(home.join(".local/state/mesolite"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(created, ["standalone"]);
}

#[test]
fn bad_values_give_one_line_errors() {
    let home = TempHome::new();
    let cases: &[(&[&str], Vars, &str)] = &[
        (&["master", "--listen", "abc"], &[], "--listen: 'abc' is not an IP:PORT address"),
        (&["master"], &[("MESOLITE_LISTEN", "abc")], "--listen (from MESOLITE_LISTEN): 'abc' is not an IP:PORT address"),
        (&["master", "--listen=::1:5050"], &[], "--listen: '::1:5050' is not an IP:PORT address"),
        (
            &["master", "--allocation-interval", "5x"],
            &[],
            "--allocation-interval: '5x' is not a duration (like 5s, 500ms, 1min, 2hrs, 1days)",
        ),
        (&["master", "--allocation-interval=0s"], &[], "--allocation-interval: '0s' must be between 1ms and 1days"),
        (&["master", "--allocation_interval", "2days"], &[], "--allocation-interval: '2days' must be between 1ms and 1days"),
        (&["master", "--max-agents", "0"], &[], "--max-agents: '0' must be a whole number between 1 and 1000000"),
        (&["master", "--max-agents", "-1"], &[], "--max-agents: '-1' must be a whole number between 1 and 1000000"),
        (&["master", "--max-frameworks", "100001"], &[], "--max-frameworks: '100001' must be a whole number between 1 and 100000"),
        (&["master", "--max-request-body", "1024"], &[], "--max-request-body: '1024' must be a whole number between 65536 and 268435456"),
        (&["standalone", "--max_request_body=lots"], &[], "--max-request-body: 'lots' must be a whole number between 65536 and 268435456"),
        (&["master", "--advertise-ip", "0.0.0.0"], &[], "--advertise-ip: '0.0.0.0' is the unspecified address, which no peer can reach"),
        (&["master", "--advertise-ip", "host"], &[], "--advertise-ip: 'host' is not an IP address"),
        (&["master", "--hostname", "a b"], &[], "--hostname: 'a b' is not a host name (letters, digits, '-', '_' and '.')"),
        (&["master", "--hostname", "a\nb"], &[], "--hostname: 'a\\nb' is not a host name (letters, digits, '-', '_' and '.')"),
        (&["agent"], &[], "--master: required (or set MESOLITE_MASTER)"),
        (&["agent", "--master", "host"], &[], "--master: 'host' is not a HOST:PORT address"),
        (&["agent", "--master", "host:0"], &[], "--master: 'host:0' has port 0; a master's port is 1..=65535"),
        (&["agent", "--master", "host:65536"], &[], "--master: 'host:65536' is not a HOST:PORT address"),
        (&["agent", "--master", "::1:5050"], &[], "--master: '::1:5050' is not a HOST:PORT address"),
        (&["agent", "--master", "h:1", "--executor-shutdown-grace-period", "1.5.s"], &[], "--executor-shutdown-grace-period: '1.5.s' is not a duration (like 5s, 500ms, 1min, 2hrs, 1days)"),
        (&["agent", "--master", "h:1", "--gc-delay", "0s"], &[], "--gc-delay: '0s' must be between 1s and 3650days"),
        (&["agent", "--master", "h:1", "--gc-delay", "soon"], &[], "--gc-delay: 'soon' is not a duration (like 5s, 500ms, 1min, 2hrs, 1days)"),
        (&["agent", "--master", "h:1", "--gc-disk-headroom", "1.5"], &[], "--gc-disk-headroom: '1.5' is not a fraction between 0.0 and 1.0 (like 0.1)"),
        (&["agent", "--master", "h:1", "--gc-disk-headroom", "-0.1"], &[], "--gc-disk-headroom: '-0.1' is not a fraction between 0.0 and 1.0 (like 0.1)"),
        (&["agent", "--master", "h:1", "--gc-disk-headroom", "10%"], &[], "--gc-disk-headroom: '10%' is not a fraction between 0.0 and 1.0 (like 0.1)"),
        (&["agent", "--master", "h:1", "--gc-disk-headroom", "0.1234"], &[], "--gc-disk-headroom: '0.1234' has more than three decimals"),
        (&["agent", "--master", "h:1"], &[("MESOLITE_GC_DISK_HEADROOM", "x")], "--gc-disk-headroom (from MESOLITE_GC_DISK_HEADROOM): 'x' is not a fraction between 0.0 and 1.0 (like 0.1)"),
        (&["agent", "--master", "h:1", "--disk-watch-interval", "500ms"], &[], "--disk-watch-interval: '500ms' must be between 1s and 1days"),
        (&["agent", "--master", "h:1", "--attributes", "rack"], &[], "--attributes: 'rack' has 'rack', which is not a name:value attribute"),
        (&["agent", "--master", "h:1", "--attributes", "a:1;a:2"], &[], "--attributes: 'a:1;a:2' names attribute 'a' twice"),
        (&["agent", "--master", "h:1", "--attributes", "s:{x}"], &[], "--attributes: 's:{x}' has attribute 's' with a set value, which attributes do not support"),
        (&["run", "--master", "a:1,b", "--", "x"], &[], "--master: 'a:1,b' is not a comma-separated list of HOST:PORT addresses"),
        (&["run", "--cpus", "0", "--", "x"], &[], "--cpus: '0' must be a number between 0.001 and 1000000"),
        (&["run", "--mem", "lots", "--", "x"], &[], "--mem: 'lots' must be a number between 1 and 1000000000"),
        (&["run", "--name", "", "--", "x"], &[], "--name: '' is not a task name (1 to 200 characters, no control characters)"),
        (&["run"], &[], "run: give a command: --shell 'CMDLINE' or -- CMD ARGS.."),
        (&["run", "--shell", "x", "--", "y"], &[], "run: give either --shell 'CMDLINE' or -- CMD ARGS.., not both"),
        (&["run", "--shell", " "], &[], "--shell: ' ' is an empty command line"),
        (&["ctl", "nodes"], &[], "ctl: 'nodes' is not one of state, agents, frameworks, tasks, version"),
        (&["ctl", "--json=1", "state"], &[], "--json: takes no value"),
        (&["ctl", "state"], &[("MESOLITE_JSON", "maybe")], "--json (from MESOLITE_JSON): 'maybe' is not a boolean (1, true, yes, 0, false, no)"),
        (&["master", "--bogus", "1"], &[], "Unrecognized argument: --bogus"),
        (&["master", "--listen"], &[], "No value provided for option '--listen'."),
        (&["mastr"], &[], "Unrecognized argument: mastr"),
    ];
    for (args, vars, want) in cases {
        assert_eq!(err(&home, args, vars), *want, "{args:?} {vars:?}");
    }
    // A flag beats a bad variable.
    assert!(matches!(
        outcome(
            &home,
            &["master", "--listen", "127.0.0.1:1"],
            &[("MESOLITE_LISTEN", "abc")]
        ),
        Outcome::Command(_)
    ));
    // A command after `--` beats MESOLITE_SHELL; the flag with a command does not.
    let r = run(ok(
        &home,
        &["run", "--", "true"],
        &[("MESOLITE_SHELL", "false")],
    ));
    assert_eq!(r.command, RunCommand::Argv(vec!["true".into()]));
    assert_eq!(
        run(ok(&home, &["run"], &[("MESOLITE_SHELL", "false")])).command,
        RunCommand::Shell("false".into())
    );
}

#[test]
fn resources_are_validated_by_core() {
    let home = TempHome::new();
    let e = err(
        &home,
        &["agent", "--master", "h:1", "--resources", "cpus:x"],
        &[],
    );
    assert_eq!(e, "--resources: 'cpus:x' is not valid resources: resource 'cpus': 'x' is not a non-negative number");
    let a = agent(ok(
        &home,
        &[
            "agent",
            "--master",
            "h:1",
            "--resources=cpus:2;ports:[31000-32000]",
        ],
        &[],
    ));
    assert_eq!(a.resources.unwrap().text(), "cpus:2;ports:[31000-32000]");
    let e = err(&home, &["standalone", "--resources", "mem"], &[]);
    assert_eq!(e, "--resources: 'mem' is not valid resources: resource entry 'mem' has no ':' before its value");
}

#[test]
fn a_bad_flag_creates_no_work_dir() {
    let home = TempHome::new();
    err(
        &home,
        &["master", "--work-dir", &home.s("w"), "--listen", "x"],
        &[],
    );
    err(
        &home,
        &[
            "agent",
            "--work-dir",
            &home.s("w"),
            "--master",
            "h:1",
            "--hostname",
            "!",
        ],
        &[],
    );
    assert!(!home.join("w").exists());
}

#[test]
fn work_dir_that_is_a_file_or_under_a_file() {
    let home = TempHome::new();
    std::fs::write(home.join("f"), b"x").unwrap();
    let e = err(&home, &["master", "--work-dir", &home.s("f")], &[]);
    assert_eq!(
        e,
        format!("--work-dir {}: exists and is not a directory", home.s("f"))
    );
    let e = err(&home, &["master", "--work-dir", &home.s("f/sub")], &[]);
    assert!(
        e.starts_with(&format!("--work-dir {}: cannot create: ", home.s("f/sub"))),
        "{e}"
    );
}

#[test]
fn default_work_dirs() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let d = crate::default_work_dir("agent", true, &env(&[("HOME", "/home/u")])).unwrap();
    assert_eq!(d, Path::new("/var/lib/mesolite/agent"));
    let d = crate::default_work_dir("agent", false, &env(&[("HOME", "/home/u")])).unwrap();
    assert_eq!(d, Path::new("/home/u/.local/state/mesolite/agent"));
    let d = crate::default_work_dir(
        "master",
        false,
        &env(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/s")]),
    )
    .unwrap();
    assert_eq!(d, Path::new("/s/mesolite/master"));
    let d = crate::default_work_dir(
        "master",
        false,
        &env(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "rel")]),
    )
    .unwrap();
    assert_eq!(d, Path::new("/home/u/.local/state/mesolite/master"));
    let e = crate::default_work_dir("master", false, &env(&[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--work-dir: no default without $HOME; pass --work-dir or set MESOLITE_WORK_DIR"
    );
    // Through the parser, with no $HOME at all.
    let args = vec!["master".to_string()];
    match parse_with(&args, &|_: &str| None, false) {
        Outcome::Error(e) => assert!(e.to_string().starts_with("--work-dir: no default")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_goes_to_the_user_with_exit_0() {
    let home = TempHome::new();
    for args in [
        &["--help"][..],
        &["help"],
        &["-h"],
        &["master", "--help"],
        &["agent", "help"],
        &["run", "-h"],
    ] {
        let o = outcome(&home, args, &[]);
        assert_eq!(o.exit_code(), Some(0), "{args:?}");
        let Outcome::Help(text) = o else {
            panic!("{args:?}")
        };
        assert!(text.starts_with("Usage: mesolite"), "{text}");
    }
    let Outcome::Help(top) = outcome(&home, &["--help"], &[]) else {
        panic!()
    };
    for sub in [
        "master",
        "agent",
        "standalone",
        "run",
        "ctl",
        "executor",
        "MESOLITE_WORK_DIR",
    ] {
        assert!(top.contains(sub), "top-level help lacks {sub}: {top}");
    }
    assert!(top.contains("internal: the command executor started by agents"));
    let Outcome::Help(agent_help) = outcome(&home, &["agent", "--help"], &[]) else {
        panic!()
    };
    for flag in [
        "--master",
        "--listen",
        "--work-dir",
        "--resources",
        "--attributes",
        "--executor-shutdown-grace-period",
        "--gc-delay",
        "--gc-disk-headroom",
        "--disk-watch-interval",
        "--reconfiguration-policy",
        "--domain",
    ] {
        assert!(agent_help.contains(flag), "agent help lacks {flag}");
    }
    // Help never creates a work dir.
    assert!(!home.join(".local").exists());
    assert_eq!(
        outcome(&home, &["master", "--listen", "x"], &[]).exit_code(),
        Some(2)
    );
}

#[test]
fn durations_in_mesos_units() {
    let cases = [
        ("5s", 5_000),
        ("500ms", 500),
        ("1min", 60_000),
        ("2mins", 120_000),
        ("2hrs", 7_200_000),
        ("1h", 3_600_000),
        ("1days", 86_400_000),
        ("1weeks", 604_800_000),
        ("3", 3_000),
        ("1.5s", 1_500),
        ("0.5", 500),
        ("10secs", 10_000),
        ("1500us", 1),
        ("999999ns", 0),
    ];
    for (text, ms) in cases {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_millis(ms)),
            "{text}"
        );
    }
    for bad in [
        "",
        "s",
        "-1s",
        "1.s",
        ".",
        "1 parsec",
        "1e3s",
        "5S",
        "99999999999999999999999days",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn scalars_round_to_thousandths() {
    let (min, max) = (
        Scalar::from_thousandths(0),
        Scalar::from_thousandths(u64::MAX),
    );
    assert_eq!(
        Scalar::parse("0.1", min, max),
        Ok(Scalar::from_thousandths(100))
    );
    assert_eq!(
        Scalar::parse("0.0005", min, max),
        Ok(Scalar::from_thousandths(1))
    );
    assert_eq!(
        Scalar::parse("0.0004", min, max),
        Ok(Scalar::from_thousandths(0))
    );
    assert_eq!(
        Scalar::parse("32", min, max).map(|s| s.to_string()),
        Ok("32".into())
    );
    assert!(Scalar::parse("-1", min, max).is_err());
    assert!(Scalar::parse("nan", min, max).is_err());
}

#[test]
fn partition_flags_default_to_mesos_and_accept_mesos_spellings() {
    let home = TempHome::new();
    let m = master(ok(&home, &["master"], &[]));
    assert_eq!(m.partition, crate::PartitionConfig::default());
    assert_eq!(m.partition.agent_ping_timeout, Duration::from_secs(15));
    assert_eq!(m.partition.max_agent_ping_timeouts, 5);
    assert_eq!(
        m.partition.agent_reregister_timeout,
        Duration::from_secs(600)
    );
    assert_eq!(m.partition.recovery_agent_removal_limit, 10_000);
    assert_eq!(m.partition.registry_gc_interval, Duration::from_secs(900));
    assert_eq!(
        m.partition.registry_max_agent_age,
        Duration::from_secs(14 * 86_400)
    );
    assert_eq!(m.partition.registry_max_agent_count, 102_400);
    let m = master(ok(
        &home,
        &[
            "master",
            "--agent_ping_timeout=1secs",
            "--max-agent-ping-timeouts",
            "2",
            "--agent-reregister-timeout",
            "30secs",
            "--recovery_agent_removal_limit",
            "12.5%",
            "--registry-gc-interval=1mins",
            "--registry_max_agent_age=3days",
            "--registry-max-agent-count=10",
        ],
        &[],
    ));
    assert_eq!(m.partition.agent_ping_timeout, Duration::from_secs(1));
    assert_eq!(m.partition.max_agent_ping_timeouts, 2);
    assert_eq!(
        m.partition.agent_reregister_timeout,
        Duration::from_secs(30)
    );
    assert_eq!(m.partition.recovery_agent_removal_limit, 1_250);
    assert_eq!(m.partition.registry_gc_interval, Duration::from_secs(60));
    assert_eq!(
        m.partition.registry_max_agent_age,
        Duration::from_secs(3 * 86_400)
    );
    assert_eq!(m.partition.registry_max_agent_count, 10);
    let s = match ok(
        &home,
        &["standalone", "--agent-ping-timeout", "2secs"],
        &[("MESOLITE_RECOVERY_AGENT_REMOVAL_LIMIT", "50%")],
    ) {
        Command::Standalone(s) => s,
        other => panic!("expected standalone, got {other:?}"),
    };
    assert_eq!(s.partition.agent_ping_timeout, Duration::from_secs(2));
    assert_eq!(s.partition.recovery_agent_removal_limit, 5_000);
}

#[test]
fn partition_flags_refuse_bad_values_with_one_line() {
    let home = TempHome::new();
    let e = err(&home, &["master", "--agent-ping-timeout", "500ms"], &[]);
    assert!(
        e.contains("--agent-ping-timeout") && e.contains("between 1s"),
        "{e}"
    );
    let e = err(&home, &["master", "--max-agent-ping-timeouts", "0"], &[]);
    assert!(e.contains("--max-agent-ping-timeouts"), "{e}");
    for bad in ["50", "101%", "-1%", "1.255%", "%"] {
        let e = err(
            &home,
            &["master", "--recovery-agent-removal-limit", bad],
            &[],
        );
        assert!(e.contains("--recovery-agent-removal-limit"), "{bad}: {e}");
    }
    let e = err(
        &home,
        &["standalone", "--registry-max-agent-count", "0"],
        &[],
    );
    assert!(e.contains("--registry-max-agent-count"), "{e}");
}
