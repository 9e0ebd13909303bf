//! The flags a master or agent reports (GET_FLAGS and `/flags`), under Mesos' flag names with
//! mesolite's values as strings. Values come from the state machine's configuration where it
//! holds them, and from the process's own flags (work dir, master address) otherwise.

use super::mesos_duration;
use crate::v1::{self, operator::Flag};
use mesolite_core::agent::AgentConfig;
use mesolite_core::master::MasterConfig;
use std::collections::BTreeMap;
use std::path::Path;

/// Flag names and values, sorted by name (as Mesos lists them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagSet(BTreeMap<String, String>);

impl FlagSet {
    pub fn new() -> Self {
        FlagSet::default()
    }

    /// Sets one flag, replacing an earlier value.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_string(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The flags of this process that no state machine holds: the work dir, and for an agent
    /// its master's address.
    pub fn process(work_dir: &Path, master: Option<&str>) -> Self {
        let mut f = FlagSet::new();
        f.set("work_dir", work_dir.display().to_string());
        if let Some(m) = master {
            f.set("master", m);
        }
        f
    }

    /// This set with `other`'s flags added (`other` wins).
    pub fn merged(&self, other: &FlagSet) -> FlagSet {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            out.0.insert(k.clone(), v.clone());
        }
        out
    }

    /// `Response.GetFlags.flags`.
    pub fn to_v1(&self) -> v1::operator::GetFlags {
        v1::operator::GetFlags {
            flags: self
                .0
                .iter()
                .map(|(name, value)| Flag {
                    name: name.clone(),
                    value: Some(value.clone()),
                })
                .collect(),
        }
    }

    /// The legacy `/flags` answer: `{"flags":{"name":"value",..}}`.
    pub fn to_legacy_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::json!({ "flags": map })
    }
}

/// A master's flags: what its configuration holds, under Mesos' names, plus `process`.
pub fn master(cfg: &MasterConfig, process: &FlagSet) -> FlagSet {
    let mut f = FlagSet::new();
    f.set(
        "allocation_interval",
        mesos_duration(cfg.allocation_interval),
    );
    f.set("agent_ping_timeout", mesos_duration(cfg.ping_interval));
    f.set("max_agent_ping_timeouts", cfg.max_missed_pings.to_string());
    f.set(
        "agent_reregister_timeout",
        mesos_duration(cfg.agent_reregister_timeout),
    );
    let limit = cfg.recovery_agent_removal_limit;
    f.set(
        "recovery_agent_removal_limit",
        if limit.is_multiple_of(100) {
            format!("{}%", limit / 100)
        } else {
            format!("{}.{:02}%", limit / 100, limit % 100)
        },
    );
    f.set(
        "registry_gc_interval",
        mesos_duration(cfg.registry_gc_interval),
    );
    f.set(
        "registry_max_agent_age",
        mesos_duration(cfg.registry_max_agent_age),
    );
    f.set(
        "registry_max_agent_count",
        cfg.registry_max_agent_count.to_string(),
    );
    f.set(
        "max_unreachable_tasks_per_framework",
        cfg.max_unreachable_tasks_per_framework.to_string(),
    );
    f.set(
        "max_completed_tasks_per_framework",
        cfg.max_completed_tasks_per_framework.to_string(),
    );
    f.set(
        "max_completed_frameworks",
        cfg.max_completed_frameworks.to_string(),
    );
    f.set("hostname", cfg.hostname.clone());
    f.set("ip", cfg.ip.clone());
    f.set("port", cfg.port.to_string());
    // What mesolite always does, stated with Mesos' flag names.
    f.set("allocator", "HierarchicalDRF");
    f.set("framework_sorter", "drf");
    f.set("role_sorter", "drf");
    f.set("authenticate_agents", "false");
    f.set("authenticate_frameworks", "false");
    f.set("authenticate_http_frameworks", "false");
    f.set("authenticate_http_readonly", "false");
    f.set("authenticate_http_readwrite", "false");
    f.set("registry_strict", "false");
    f.set("logging_level", "INFO");
    // mesolite's own bounds (no Mesos equivalent).
    f.set("max_agents", cfg.max_agents.to_string());
    f.set("max_frameworks", cfg.max_frameworks.to_string());
    f.merged(process)
}

/// An agent's flags: what its configuration holds, under Mesos' names, plus `process`.
pub fn agent(cfg: &AgentConfig, process: &FlagSet) -> FlagSet {
    let info = &cfg.info;
    let mut f = FlagSet::new();
    f.set("hostname", info.hostname.clone());
    f.set("ip", info.ip.clone());
    f.set("port", info.port.to_string());
    f.set("resources", info.resources.to_string());
    let attributes: Vec<String> = info.attributes.iter().map(|a| a.to_string()).collect();
    if !attributes.is_empty() {
        f.set("attributes", attributes.join(";"));
    }
    f.set(
        "executor_shutdown_grace_period",
        mesos_duration(cfg.executor_shutdown_grace),
    );
    f.set(
        "executor_registration_timeout",
        mesos_duration(cfg.executor_registration_timeout),
    );
    f.set(
        "registration_backoff_factor",
        mesos_duration(cfg.backoff_factor),
    );
    f.set(
        "executor_reregistration_timeout",
        mesos_duration(cfg.executor_reregistration_timeout),
    );
    f.set("gc_delay", mesos_duration(cfg.gc_delay));
    f.set(
        "gc_disk_headroom",
        format!("{}", f64::from(cfg.gc_disk_headroom_permille) / 1000.0),
    );
    f.set(
        "disk_watch_interval",
        mesos_duration(cfg.disk_watch_interval),
    );
    if let Some(domain) = &info.domain {
        f.set("domain", domain.to_string());
    }
    // What mesolite always does, stated with Mesos' flag names.
    f.set("checkpoint", "true");
    f.set("strict", "true");
    f.set("recover", "reconnect");
    f.set("containerizers", "mesos");
    f.set("launcher", "posix");
    f.set("isolation", "posix/cpu,posix/mem");
    f.set("http_command_executor", "true");
    f.set("switch_user", "false");
    f.set("default_role", "*");
    f.set("authenticate_http_readonly", "false");
    f.set("authenticate_http_readwrite", "false");
    f.set("logging_level", "INFO");
    f.merged(process)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_flags_use_mesos_names_and_string_values() {
        let mut cfg = MasterConfig::new("h".into(), "10.0.0.1".into(), 5050, 1);
        cfg.allocation_interval = mesolite_core::time::Duration::from_millis(200);
        let f = master(
            &cfg,
            &FlagSet::process(Path::new("/var/lib/mesolite/master"), None),
        );
        assert_eq!(f.get("allocation_interval"), Some("200ms"));
        assert_eq!(f.get("agent_ping_timeout"), Some("15secs"));
        assert_eq!(f.get("max_agent_ping_timeouts"), Some("5"));
        assert_eq!(f.get("port"), Some("5050"));
        assert_eq!(f.get("ip"), Some("10.0.0.1"));
        assert_eq!(f.get("work_dir"), Some("/var/lib/mesolite/master"));
        // include/mesos/v1/master/master.proto: Response.GetFlags { repeated Flag flags = 1; }
        // include/mesos/v1/mesos.proto: Flag { required string name = 1; optional string value = 2; }
        let json = crate::v1::to_ascii_json(&crate::v1::operator::Response::flags(f.to_v1()));
        assert!(
            json.starts_with(r#"{"type":"GET_FLAGS","get_flags":{"flags":[{"name":"agent_ping_timeout","value":"15secs"},"#),
            "{json}"
        );
        assert!(json.contains(r#"{"name":"port","value":"5050"}"#), "{json}");
    }

    #[test]
    fn legacy_flags_are_an_object_of_strings() {
        let mut f = FlagSet::new();
        f.set("port", "5051");
        assert_eq!(
            crate::v1::to_ascii_json(&f.to_legacy_json()),
            r#"{"flags":{"port":"5051"}}"#
        );
    }
}
