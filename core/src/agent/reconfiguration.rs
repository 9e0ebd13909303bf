//! The agent reconfiguration policy (Mesos `--reconfiguration_policy`, `slave/compatibility.cpp`):
//! whether an agent that recovers with a changed [`AgentInfo`] may keep its checkpointed identity.
//!
//! Only the fields of Mesos' `SlaveInfo` count: hostname, port, domain, resources and attributes.
//! `ip` and `version` may change freely. The agent runs [`check`] on recovery with the
//! checkpointed info as `old` and the info built from its flags as `new`; this module only
//! decides, the caller reports the [`Refusal`] and exits.

use crate::attributes::AttributeValue;
use crate::resources::{Resource, Resources};
use crate::wire::{AgentInfo, FaultDomain};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// How much an agent's info may change across a restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReconfigurationPolicy {
    /// Nothing may change (the Mesos default).
    #[default]
    Equal,
    /// Things may be added or grow, but nothing may shrink, change or go away.
    Additive,
}

impl ReconfigurationPolicy {
    /// The flag value: `equal` or `additive`.
    pub fn name(self) -> &'static str {
        match self {
            ReconfigurationPolicy::Equal => "equal",
            ReconfigurationPolicy::Additive => "additive",
        }
    }

    /// The policy a flag value names.
    pub fn from_name(name: &str) -> Option<ReconfigurationPolicy> {
        match name {
            "equal" => Some(ReconfigurationPolicy::Equal),
            "additive" => Some(ReconfigurationPolicy::Additive),
            _ => None,
        }
    }
}

/// One difference between the old and the new agent info, borrowed from both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoChange<'a> {
    Hostname {
        old: &'a str,
        new: &'a str,
    },
    Port {
        old: u16,
        new: u16,
    },
    Domain {
        old: Option<&'a FaultDomain>,
        new: Option<&'a FaultDomain>,
    },
    /// A resource of one identity (name, type, reservations, disk and the rest of its meta)
    /// that was added (`old` is `None`), removed (`new` is `None`) or changed its value.
    Resource {
        old: Option<&'a Resource>,
        new: Option<&'a Resource>,
    },
    /// An attribute that was added, removed, or changed its value or type.
    Attribute {
        name: &'a str,
        old: Option<&'a AttributeValue>,
        new: Option<&'a AttributeValue>,
    },
}

impl InfoChange<'_> {
    /// Whether [`ReconfigurationPolicy::Additive`] accepts this change (Mesos
    /// `compatibility::additive`): a domain where there was none; a new resource or one whose
    /// value grew (scalar `>=`, ranges and sets superset); a new attribute, or a RANGES
    /// attribute that grew. TEXT and SCALAR attributes must stay equal, as in Mesos' code (its
    /// header comment says scalars may grow; the code does not allow it).
    pub fn is_additive(&self) -> bool {
        match *self {
            InfoChange::Hostname { .. } | InfoChange::Port { .. } => false,
            InfoChange::Domain { old, .. } => old.is_none(),
            InfoChange::Resource { old: None, .. } => true,
            InfoChange::Resource { new: None, .. } => false,
            InfoChange::Resource {
                old: Some(o),
                new: Some(n),
            } => n.same_identity(o) && n.value.contains(&o.value),
            InfoChange::Attribute { old: None, .. } => true,
            InfoChange::Attribute {
                old: Some(AttributeValue::Ranges(o)),
                new: Some(AttributeValue::Ranges(n)),
                ..
            } => n.contains(o),
            InfoChange::Attribute { .. } => false,
        }
    }
}

/// Writes an optional value, or `none`.
fn write_opt(f: &mut fmt::Formatter<'_>, v: Option<&dyn fmt::Display>) -> fmt::Result {
    match v {
        Some(v) => write!(f, "{v}"),
        None => f.write_str("none"),
    }
}

/// A resource's identity in Mesos' text form without the value: `cpus(web)` for `cpus(web):2`.
fn resource_identity(r: &Resource) -> String {
    let whole = r.to_string();
    let value = alloc::format!(":{}", r.value);
    match whole.strip_suffix(value.as_str()) {
        Some(identity) => identity.to_string(),
        None => whole,
    }
}

impl fmt::Display for InfoChange<'_> {
    /// `field: old -> new` with Mesos' text forms: `port: 5051 -> 5052`,
    /// `resources cpus(web): 2 -> none`, `attributes rack: a -> b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InfoChange::Hostname { old, new } => write!(f, "hostname: {old} -> {new}"),
            InfoChange::Port { old, new } => write!(f, "port: {old} -> {new}"),
            InfoChange::Domain { old, new } => {
                f.write_str("domain: ")?;
                write_opt(f, old.map(|d| d as &dyn fmt::Display))?;
                f.write_str(" -> ")?;
                write_opt(f, new.map(|d| d as &dyn fmt::Display))
            }
            InfoChange::Resource { old, new } => {
                let Some(any) = old.or(new) else {
                    return f.write_str("resources: none -> none");
                };
                write!(f, "resources {}: ", resource_identity(any))?;
                write_opt(f, old.map(|r| &r.value as &dyn fmt::Display))?;
                f.write_str(" -> ")?;
                write_opt(f, new.map(|r| &r.value as &dyn fmt::Display))
            }
            InfoChange::Attribute { name, old, new } => {
                write!(f, "attributes {name}: ")?;
                write_opt(f, old.map(|v| v as &dyn fmt::Display))?;
                f.write_str(" -> ")?;
                write_opt(f, new.map(|v| v as &dyn fmt::Display))
            }
        }
    }
}

/// Why the agent may not recover under its policy: the changes the policy refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal<'a> {
    pub policy: ReconfigurationPolicy,
    /// Every refused change: under `equal` every difference, under `additive` the ones that
    /// are not additive. Never empty.
    pub changes: Vec<InfoChange<'a>>,
    /// Whether `additive` would accept all of the differences.
    pub additive_would_accept: bool,
}

impl fmt::Display for Refusal<'_> {
    /// One line for the agent's exit message, ending with what the operator can do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the agent's configuration differs from its checkpointed agent info in ways \
             --reconfiguration-policy {} refuses: ",
            self.policy.name()
        )?;
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{c}")?;
        }
        match (self.policy, self.additive_would_accept) {
            (ReconfigurationPolicy::Equal, true) => f.write_str(
                ". Restart with --reconfiguration-policy additive to accept these changes and \
                 keep the agent's id and tasks",
            ),
            _ => f.write_str(
                ". Restore the old configuration, or start over as a new agent; \
                 --reconfiguration-policy additive accepts only a domain where there was none, \
                 new or grown resources, new attributes and grown RANGES attributes",
            ),
        }
    }
}

/// Every difference between `old` and `new` in the fields Mesos' `SlaveInfo` holds, in the
/// order hostname, port, domain, resources (old order, then new ones), attributes (likewise).
/// Resource and attribute order does not count, as in Mesos.
pub fn changes<'a>(old: &'a AgentInfo, new: &'a AgentInfo) -> Vec<InfoChange<'a>> {
    let mut out = Vec::new();
    if old.hostname != new.hostname {
        out.push(InfoChange::Hostname {
            old: &old.hostname,
            new: &new.hostname,
        });
    }
    if old.port != new.port {
        out.push(InfoChange::Port {
            old: old.port,
            new: new.port,
        });
    }
    if old.domain != new.domain {
        out.push(InfoChange::Domain {
            old: old.domain.as_ref(),
            new: new.domain.as_ref(),
        });
    }
    resource_changes(&old.resources, &new.resources, &mut out);
    attribute_changes(old, new, &mut out);
    out
}

/// Pairs old and new resources by identity. Resources of one identity are merged in a
/// `Resources`, except indivisible ones (MOUNT disks), which may repeat; so equal entries
/// pair first, then an old entry takes a new one that contains it, then any left.
fn resource_changes<'a>(old: &'a Resources, new: &'a Resources, out: &mut Vec<InfoChange<'a>>) {
    let mut old_used = alloc::vec![false; old.len()];
    let mut new_used = alloc::vec![false; new.len()];
    let mut pair = |accept: &dyn Fn(&Resource, &Resource) -> bool,
                    out: &mut Vec<InfoChange<'a>>,
                    report: bool| {
        for (i, o) in old.iter().enumerate() {
            if old_used[i] {
                continue;
            }
            let found = new
                .iter()
                .enumerate()
                .find(|&(j, n)| !new_used[j] && n.same_identity(o) && accept(o, n));
            if let Some((j, n)) = found {
                old_used[i] = true;
                new_used[j] = true;
                if report {
                    out.push(InfoChange::Resource {
                        old: Some(o),
                        new: Some(n),
                    });
                }
            }
        }
    };
    pair(&|o, n| o == n, out, false);
    pair(&|o, n| n.value.contains(&o.value), out, true);
    pair(&|_, _| true, out, true);
    for (o, _) in old.iter().zip(&old_used).filter(|(_, used)| !**used) {
        out.push(InfoChange::Resource {
            old: Some(o),
            new: None,
        });
    }
    for (n, _) in new.iter().zip(&new_used).filter(|(_, used)| !**used) {
        out.push(InfoChange::Resource {
            old: None,
            new: Some(n),
        });
    }
}

/// Pairs old and new attributes by name (the first unpaired one of that name).
fn attribute_changes<'a>(old: &'a AgentInfo, new: &'a AgentInfo, out: &mut Vec<InfoChange<'a>>) {
    let mut new_used = alloc::vec![false; new.attributes.len()];
    for o in &old.attributes {
        let found = new
            .attributes
            .iter()
            .enumerate()
            .find(|&(j, n)| !new_used[j] && n.name == o.name);
        match found {
            Some((j, n)) => {
                new_used[j] = true;
                if n.value != o.value {
                    out.push(InfoChange::Attribute {
                        name: &o.name,
                        old: Some(&o.value),
                        new: Some(&n.value),
                    });
                }
            }
            None => out.push(InfoChange::Attribute {
                name: &o.name,
                old: Some(&o.value),
                new: None,
            }),
        }
    }
    for (n, _) in new.attributes.iter().zip(&new_used).filter(|(_, u)| !**u) {
        out.push(InfoChange::Attribute {
            name: &n.name,
            old: None,
            new: Some(&n.value),
        });
    }
}

/// Whether an agent whose checkpointed info is `old` may recover with `new` under `policy`.
pub fn check<'a>(
    policy: ReconfigurationPolicy,
    old: &'a AgentInfo,
    new: &'a AgentInfo,
) -> Result<(), Refusal<'a>> {
    let all = changes(old, new);
    let additive_would_accept = all.iter().all(InfoChange::is_additive);
    let refused: Vec<InfoChange<'a>> = match policy {
        ReconfigurationPolicy::Equal => all,
        ReconfigurationPolicy::Additive => all.into_iter().filter(|c| !c.is_additive()).collect(),
    };
    if refused.is_empty() {
        return Ok(());
    }
    Err(Refusal {
        policy,
        changes: refused,
        additive_would_accept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::parse_attributes;
    use alloc::format;
    use alloc::vec;
    use proptest::prelude::*;

    const EQUAL: ReconfigurationPolicy = ReconfigurationPolicy::Equal;
    const ADDITIVE: ReconfigurationPolicy = ReconfigurationPolicy::Additive;

    fn domain(region: &str, zone: &str) -> Option<FaultDomain> {
        Some(FaultDomain {
            region: region.into(),
            zone: zone.into(),
        })
    }

    fn info(resources: &str, attributes: &str) -> AgentInfo {
        AgentInfo {
            hostname: "edge-1".into(),
            ip: "10.0.0.1".into(),
            port: 5051,
            resources: Resources::parse(resources).unwrap(),
            attributes: parse_attributes(attributes).unwrap(),
            domain: None,
            version: "1.5.0".into(),
        }
    }

    /// What each policy says, as the refused changes joined by `; ` (empty when accepted).
    fn verdicts(old: &AgentInfo, new: &AgentInfo) -> (String, String) {
        let render = |policy| match check(policy, old, new) {
            Ok(()) => String::new(),
            Err(r) => {
                assert!(!r.changes.is_empty());
                let v: Vec<String> = r.changes.iter().map(ToString::to_string).collect();
                v.join("; ")
            }
        };
        (render(EQUAL), render(ADDITIVE))
    }

    /// One case: old and new `(resources, attributes)`, then the refused changes under
    /// `equal` and under `additive`.
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    #[test]
    fn resource_and_attribute_rules() {
        let cases: &[Case] = &[
            // Nothing changed, in another order and spelling: both accept.
            (
                "cpus:2;mem:1024",
                "rack:a;level:3",
                "mem:1024;cpus:1;cpus:1",
                "level:3.000;rack:a",
                "",
                "",
            ),
            // A scalar grows.
            ("cpus:2", "", "cpus:4", "", "resources cpus: 2 -> 4", ""),
            // A scalar shrinks.
            (
                "cpus:4",
                "",
                "cpus:2",
                "",
                "resources cpus: 4 -> 2",
                "resources cpus: 4 -> 2",
            ),
            // Ranges grow, shrink, move.
            (
                "ports:[31000-32000]",
                "",
                "ports:[31000-33000]",
                "",
                "resources ports: [31000-32000] -> [31000-33000]",
                "",
            ),
            (
                "ports:[31000-32000]",
                "",
                "ports:[31000-31500]",
                "",
                "resources ports: [31000-32000] -> [31000-31500]",
                "resources ports: [31000-32000] -> [31000-31500]",
            ),
            (
                "ports:[1-10]",
                "",
                "ports:[1-5,7-20]",
                "",
                "resources ports: [1-10] -> [1-5, 7-20]",
                "resources ports: [1-10] -> [1-5, 7-20]",
            ),
            // Sets grow and shrink.
            (
                "gpus_ids:{a,b}",
                "",
                "gpus_ids:{a,b,c}",
                "",
                "resources gpus_ids: {a, b} -> {a, b, c}",
                "",
            ),
            (
                "gpus_ids:{a,b}",
                "",
                "gpus_ids:{a,c}",
                "",
                "resources gpus_ids: {a, b} -> {a, c}",
                "resources gpus_ids: {a, b} -> {a, c}",
            ),
            // New resources may appear; old ones may not vanish.
            (
                "cpus:2",
                "",
                "cpus:2;disk:100",
                "",
                "resources disk: none -> 100",
                "",
            ),
            (
                "cpus:2;disk:100",
                "",
                "cpus:2",
                "",
                "resources disk: 100 -> none",
                "resources disk: 100 -> none",
            ),
            // A reservation is part of the identity: moving cpus to a role removes the unreserved ones.
            (
                "cpus(web):2",
                "",
                "cpus(web):3",
                "",
                "resources cpus(web): 2 -> 3",
                "",
            ),
            (
                "cpus:2",
                "",
                "cpus(web):2",
                "",
                "resources cpus: 2 -> none; resources cpus(web): none -> 2",
                "resources cpus: 2 -> none",
            ),
            (
                "cpus(web):2",
                "",
                "cpus(db):2",
                "",
                "resources cpus(web): 2 -> none; resources cpus(db): none -> 2",
                "resources cpus(web): 2 -> none",
            ),
            (
                "cpus(web):2;cpus:1",
                "",
                "cpus(web):2;cpus:3;cpus(db):1",
                "",
                "resources cpus: 1 -> 3; resources cpus(db): none -> 1",
                "",
            ),
            // A type change is a removal and an addition.
            (
                "x:2",
                "",
                "x:[1-2]",
                "",
                "resources x: 2 -> none; resources x: none -> [1-2]",
                "resources x: 2 -> none",
            ),
            // Attributes may be added but not removed.
            (
                "",
                "rack:a",
                "",
                "rack:a;zone:b",
                "attributes zone: none -> b",
                "",
            ),
            (
                "",
                "rack:a;zone:b",
                "",
                "rack:a",
                "attributes zone: b -> none",
                "attributes zone: b -> none",
            ),
            // TEXT and SCALAR attributes must stay equal (even a growing scalar).
            (
                "",
                "rack:a",
                "",
                "rack:b",
                "attributes rack: a -> b",
                "attributes rack: a -> b",
            ),
            (
                "",
                "level:3",
                "",
                "level:4",
                "attributes level: 3 -> 4",
                "attributes level: 3 -> 4",
            ),
            ("", "level:3", "", "level:3.0001", "", ""),
            // RANGES attributes may grow but not shrink.
            (
                "",
                "p:[1-10]",
                "",
                "p:[1-20]",
                "attributes p: [1-10] -> [1-20]",
                "",
            ),
            (
                "",
                "p:[1-10]",
                "",
                "p:[1-5]",
                "attributes p: [1-10] -> [1-5]",
                "attributes p: [1-10] -> [1-5]",
            ),
            // A type change of an attribute is refused.
            (
                "",
                "level:3",
                "",
                "level:[3-3]",
                "attributes level: 3 -> [3-3]",
                "attributes level: 3 -> [3-3]",
            ),
            (
                "",
                "level:3",
                "",
                "level:three",
                "attributes level: 3 -> three",
                "attributes level: 3 -> three",
            ),
        ];
        for &(old_r, old_a, new_r, new_a, equal, additive) in cases {
            let (old, new) = (info(old_r, old_a), info(new_r, new_a));
            let got = verdicts(&old, &new);
            assert_eq!(
                (got.0.as_str(), got.1.as_str()),
                (equal, additive),
                "{old_r} {old_a} -> {new_r} {new_a}"
            );
        }
    }

    #[test]
    fn hostname_and_port_must_not_change() {
        let old = info("cpus:2", "");
        let mut new = old.clone();
        new.hostname = "edge-2".into();
        new.port = 5052;
        let want = "hostname: edge-1 -> edge-2; port: 5051 -> 5052";
        assert_eq!(verdicts(&old, &new), (want.into(), want.into()));
    }

    #[test]
    fn ip_and_version_are_not_part_of_the_info() {
        let old = info("cpus:2", "");
        let mut new = old.clone();
        new.ip = "10.0.0.2".into();
        new.version = "1.5.1".into();
        assert_eq!(check(EQUAL, &old, &new), Ok(()));
    }

    #[test]
    fn a_domain_may_only_be_added() {
        let none = info("cpus:2", "");
        let mut a = none.clone();
        a.domain = domain("eu", "eu-1");
        let mut b = none.clone();
        b.domain = domain("eu", "eu-2");
        let json = |z: &str| {
            format!(r#"{{"fault_domain":{{"region":{{"name":"eu"}},"zone":{{"name":"{z}"}}}}}}"#)
        };
        let added = format!("domain: none -> {}", json("eu-1"));
        assert_eq!(verdicts(&none, &a), (added, String::new()));
        let changed = format!("domain: {} -> {}", json("eu-1"), json("eu-2"));
        assert_eq!(verdicts(&a, &b), (changed.clone(), changed));
        let removed = format!("domain: {} -> none", json("eu-1"));
        assert_eq!(verdicts(&a, &none), (removed.clone(), removed));
        assert_eq!(check(EQUAL, &a, &a.clone()), Ok(()));
    }

    #[test]
    fn indivisible_disks_pair_by_identity_and_value() {
        use crate::resources::{DiskInfo, DiskSource, DiskSourceKind, Fixed, ResourceMeta};
        let mount = |root: &str, mb: i64| {
            let meta = ResourceMeta {
                disk: Some(DiskInfo {
                    source: Some(DiskSource {
                        kind: DiskSourceKind::Mount,
                        id: None,
                        profile: None,
                        metadata: Vec::new(),
                        root: Some(root.into()),
                    }),
                    ..DiskInfo::default()
                }),
                ..ResourceMeta::default()
            };
            Resource::scalar("disk", Fixed::from_milli(mb * 1000))
                .unwrap()
                .with_meta(meta)
                .unwrap()
        };
        let with = |disks: &[Resource]| {
            let mut i = info("cpus:2", "");
            for d in disks {
                i.resources.add(d).unwrap();
            }
            i
        };
        // The disk source is part of a resource's identity (MESOS-8410).
        let old = with(&[mount("/mnt/a", 100)]);
        let moved = with(&[mount("/mnt/b", 100)]);
        let (equal, additive) = verdicts(&old, &moved);
        assert_eq!(
            equal,
            "resources disk[MOUNT(/mnt/a)]: 100 -> none; resources disk[MOUNT(/mnt/b)]: none -> 100"
        );
        assert_eq!(additive, "resources disk[MOUNT(/mnt/a)]: 100 -> none");
        // Adding a second disk is additive; the first keeps its pairing.
        let two = with(&[mount("/mnt/a", 100), mount("/mnt/b", 50)]);
        assert_eq!(verdicts(&old, &two).1, "");
        // Two disks of one identity (same root, different sizes), reordered: equal.
        let ab = with(&[mount("/mnt/a", 100), mount("/mnt/a", 200)]);
        let ba = with(&[mount("/mnt/a", 200), mount("/mnt/a", 100)]);
        assert_eq!(verdicts(&ab, &ba), (String::new(), String::new()));
    }

    #[test]
    fn exit_messages_name_the_changes_and_suggest_additive() {
        let old = info("cpus:2", "rack:a");
        let new = info("cpus:4", "rack:a;zone:b");
        let refusal = check(EQUAL, &old, &new).unwrap_err();
        assert!(refusal.additive_would_accept);
        assert_eq!(
            refusal.to_string(),
            "the agent's configuration differs from its checkpointed agent info in ways \
             --reconfiguration-policy equal refuses: resources cpus: 2 -> 4; attributes zone: none -> b. \
             Restart with --reconfiguration-policy additive to accept these changes and keep the \
             agent's id and tasks"
        );
        assert_eq!(check(ADDITIVE, &old, &new), Ok(()));

        let shrunk = info("cpus:1", "rack:a;zone:b");
        let refusal = check(EQUAL, &old, &shrunk).unwrap_err();
        assert!(!refusal.additive_would_accept);
        let text = refusal.to_string();
        assert!(
            text.contains("refuses: resources cpus: 2 -> 1; attributes zone: none -> b. Restore"),
            "{text}"
        );
        assert!(
            text.ends_with("new attributes and grown RANGES attributes"),
            "{text}"
        );
        let refusal = check(ADDITIVE, &old, &shrunk).unwrap_err();
        assert_eq!(refusal.changes.len(), 1);
        let text = refusal.to_string();
        assert!(
            text.contains(
                "--reconfiguration-policy additive refuses: resources cpus: 2 -> 1. Restore"
            ),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn policy_names_round_trip() {
        for p in [EQUAL, ADDITIVE] {
            assert_eq!(ReconfigurationPolicy::from_name(p.name()), Some(p));
        }
        assert_eq!(ReconfigurationPolicy::from_name("any"), None);
        assert_eq!(ReconfigurationPolicy::default(), EQUAL);
    }

    /// Resources and attributes built from small parts, so a property test can grow them.
    #[derive(Clone, Debug)]
    struct Parts {
        scalars: Vec<(usize, u32)>,
        ports: Vec<(u64, u64)>,
        ranges_attr: Vec<(u64, u64)>,
        text_attrs: Vec<usize>,
    }

    const NAMES: [&str; 4] = ["cpus", "mem", "disk(web)", "gpus(db)"];

    fn parts() -> impl Strategy<Value = Parts> {
        (
            proptest::collection::vec((0..NAMES.len(), 1u32..5000), 0..4),
            proptest::collection::vec((0u64..100, 0u64..5), 0..3),
            proptest::collection::vec((0u64..100, 0u64..5), 1..3),
            proptest::collection::vec(0usize..6, 0..4),
        )
            .prop_map(|(scalars, ports, ranges_attr, text_attrs)| Parts {
                scalars,
                ports,
                ranges_attr,
                text_attrs,
            })
    }

    fn build(p: &Parts) -> AgentInfo {
        let mut res: Vec<String> = p
            .scalars
            .iter()
            .map(|&(n, v)| format!("{}:{}.{:03}", NAMES[n], v / 1000, v % 1000))
            .collect();
        for &(b, len) in &p.ports {
            res.push(format!("ports:[{b}-{}]", b + len));
        }
        let ranges: Vec<String> = p
            .ranges_attr
            .iter()
            .map(|&(b, len)| format!("{b}-{}", b + len))
            .collect();
        let mut attrs = vec![format!("p:[{}]", ranges.join(","))];
        let mut seen = Vec::new();
        for &t in &p.text_attrs {
            if !seen.contains(&t) {
                seen.push(t);
                attrs.push(format!("t{t}:v{t}"));
            }
        }
        info(&res.join(";"), &attrs.join(";"))
    }

    proptest! {
        /// Adding things to an info (more of a scalar, more ranges, more attributes) is always
        /// accepted by `additive`, and by `equal` only when nothing really changed.
        #[test]
        fn additive_accepts_every_superset(old in parts(), extra in parts(), dom in any::<bool>()) {
            let mut grown = old.clone();
            grown.scalars.extend(&extra.scalars);
            grown.ports.extend(&extra.ports);
            grown.ranges_attr.extend(&extra.ranges_attr);
            grown.text_attrs.extend(&extra.text_attrs);
            let old = build(&old);
            let mut new = build(&grown);
            if dom {
                new.domain = domain("r", "z");
            }
            prop_assert_eq!(check(ADDITIVE, &old, &new), Ok(()));
            let same = old.resources == new.resources
                && old.domain == new.domain
                && changes(&old, &new).is_empty();
            prop_assert_eq!(check(EQUAL, &old, &new).is_ok(), same);
            // And the way back is refused by both whenever anything was added.
            prop_assert_eq!(check(ADDITIVE, &new, &old).is_ok(), same);
        }

        /// `equal` accepts exactly the infos with no change, whatever the order of entries.
        #[test]
        fn equal_accepts_reordered_infos(p in parts()) {
            let old = build(&p);
            let mut reversed = p.clone();
            reversed.scalars.reverse();
            reversed.ports.reverse();
            reversed.text_attrs.reverse();
            let new = build(&reversed);
            prop_assert_eq!(check(EQUAL, &old, &new), Ok(()));
        }
    }
}
