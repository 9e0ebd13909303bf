//! Conversion between the JSON `Resource` list and core's `Resources`, including Mesos'
//! two reservation formats (`role` + `reservation` before refinement, `reservations` after).

use std::fmt;

use mesolite_core::ids::Role;
use mesolite_core::resources::{
    self as core_res, ArithError, DiskSourceKind, Fixed, Reservation, ReservationKind,
    ResourceError, ResourceMeta, Resources, Value,
};

use super::common::{
    AllocationInfo, DiskInfo, DiskRoot, DiskSource, DiskSourceType, Label, Labels, Persistence,
    Range, Ranges, ReservationInfo, ReservationType, Resource, ResourceProviderId, Scalar, Set,
    ValueType, Volume, VolumeMode,
};
use super::wire::Empty;

/// What is wrong with one JSON resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceProblem {
    /// The field matching `type` (`scalar`, `ranges` or `set`) is absent.
    MissingValue(&'static str),
    /// `type` is `TEXT`, which only attributes may use.
    TextType,
    /// A scalar is NaN, infinite, negative or too large (MESOS-9510).
    BadScalar,
    /// Name, ranges, set items or roles failed core validation.
    Invalid(ResourceError),
    /// `role` or `reservation` is set together with `reservations`.
    MixedReservationFormats,
    /// A `reservations` entry lacks `type` (or names an unknown one) or `role`.
    IncompleteReservation,
    /// A pre-refinement `reservation` (dynamic) on an unreserved (`*`) resource.
    DynamicReservationForStar,
    /// `disk.source.type` is `UNKNOWN`.
    UnknownDiskSource,
    /// The resources cannot be added up (duplicate indivisible disk, overflow, type clash).
    Arith(ArithError),
}

impl fmt::Display for ResourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceProblem::MissingValue(field) => write!(f, "'{field}' is missing for its type"),
            ResourceProblem::TextType => f.write_str("type TEXT is not allowed for a resource"),
            ResourceProblem::BadScalar => {
                f.write_str("scalar is NaN, infinite, negative or too large")
            }
            ResourceProblem::Invalid(e) => write!(f, "{e}"),
            ResourceProblem::MixedReservationFormats => {
                f.write_str("'role' or 'reservation' must not be set together with 'reservations'")
            }
            ResourceProblem::IncompleteReservation => {
                f.write_str("every entry of 'reservations' needs a known 'type' and a 'role'")
            }
            ResourceProblem::DynamicReservationForStar => {
                f.write_str("'reservation' is set but 'role' is '*' or absent")
            }
            ResourceProblem::UnknownDiskSource => f.write_str("disk source type is UNKNOWN"),
            ResourceProblem::Arith(e) => write!(f, "{e}"),
        }
    }
}

/// Why a JSON resource list cannot become core `Resources`: which entry, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcesFromV1Error {
    pub index: usize,
    pub problem: ResourceProblem,
}

impl fmt::Display for ResourcesFromV1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid resource #{}: {}", self.index, self.problem)
    }
}

impl std::error::Error for ResourcesFromV1Error {}

fn labels_to_v1(labels: &[(String, String)]) -> Option<Labels> {
    if labels.is_empty() {
        return None;
    }
    Some(Labels {
        labels: labels
            .iter()
            .map(|(k, v)| Label {
                key: k.clone(),
                value: Some(v.clone()),
            })
            .collect(),
    })
}

fn labels_from_v1(labels: &Option<Labels>) -> Vec<(String, String)> {
    labels.as_ref().map_or_else(Vec::new, |l| {
        l.labels
            .iter()
            .map(|label| (label.key.clone(), label.value.clone().unwrap_or_default()))
            .collect()
    })
}

fn reservation_to_v1(r: &Reservation) -> ReservationInfo {
    ReservationInfo {
        kind: Some(match r.kind {
            ReservationKind::Static => ReservationType::Static,
            ReservationKind::Dynamic => ReservationType::Dynamic,
        }),
        role: Some(r.role.as_str().to_string()),
        principal: r.principal.clone(),
        labels: labels_to_v1(&r.labels),
    }
}

fn disk_source_to_v1(s: &core_res::DiskSource) -> DiskSource {
    let root = || {
        Some(DiskRoot {
            root: s.root.clone(),
        })
    };
    DiskSource {
        kind: match s.kind {
            DiskSourceKind::Raw => DiskSourceType::Raw,
            DiskSourceKind::Path => DiskSourceType::Path,
            DiskSourceKind::Mount => DiskSourceType::Mount,
            DiskSourceKind::Block => DiskSourceType::Block,
        },
        path: if s.kind == DiskSourceKind::Path {
            root()
        } else {
            None
        },
        mount: if s.kind == DiskSourceKind::Mount {
            root()
        } else {
            None
        },
        id: s.id.clone(),
        metadata: labels_to_v1(&s.metadata),
        profile: s.profile.clone(),
    }
}

fn disk_to_v1(d: &core_res::DiskInfo) -> DiskInfo {
    DiskInfo {
        persistence: d.persistence.as_ref().map(|p| Persistence {
            id: p.id.clone(),
            principal: p.principal.clone(),
        }),
        volume: d.container_path.as_ref().map(|path| Volume {
            mode: if d.read_only {
                VolumeMode::Ro
            } else {
                VolumeMode::Rw
            },
            container_path: path.clone(),
            host_path: None,
            image: None,
            source: None,
        }),
        source: d.source.as_ref().map(disk_source_to_v1),
    }
}

/// One core resource in the post-refinement JSON format (`reservations`, no `role`).
pub fn resource_to_v1(r: &core_res::Resource) -> Resource {
    let mut out = Resource::scalar(r.name.as_str(), 0.0);
    match &r.value {
        Value::Scalar(f) => out.scalar = Some(Scalar { value: f.as_f64() }),
        Value::Ranges(set) => {
            out.kind = ValueType::Ranges;
            out.scalar = None;
            out.ranges = Some(Ranges {
                range: set
                    .as_slice()
                    .iter()
                    .map(|r| Range {
                        begin: r.begin,
                        end: r.end,
                    })
                    .collect(),
            });
        }
        Value::Set(items) => {
            out.kind = ValueType::Set;
            out.scalar = None;
            out.set = Some(Set {
                item: items
                    .as_slice()
                    .iter()
                    .map(|i| i.as_str().to_string())
                    .collect(),
            });
        }
    }
    if let Some(meta) = r.meta() {
        out.reservations = meta.reservations.iter().map(reservation_to_v1).collect();
        out.allocation_info = meta.allocation_role.as_ref().map(|role| AllocationInfo {
            role: Some(role.as_str().to_string()),
        });
        out.disk = meta.disk.as_ref().map(disk_to_v1);
        out.provider_id = meta.provider_id.as_ref().map(ResourceProviderId::new);
        out.shared = meta.shared.then_some(Empty {});
        out.revocable = meta.revocable.then_some(Empty {});
    }
    out
}

/// Core resources as the JSON list, in the post-refinement format.
pub fn resources_to_v1(resources: &Resources) -> Vec<Resource> {
    resources.iter().map(resource_to_v1).collect()
}

/// Rewrites a resource into the pre-refinement format for frameworks without
/// `RESERVATION_REFINEMENT` (Mesos `downgradeResource`): `role` (`"*"` when unreserved) plus a
/// `reservation` for a dynamic one. Returns `false`, leaving it unchanged, for a refined
/// reservation (more than one level), which such frameworks must not be offered.
pub fn downgrade_to_pre_refinement(r: &mut Resource) -> bool {
    if r.reservations.len() > 1 {
        return false;
    }
    match r.reservations.pop() {
        None => r.role = Some(String::from("*")),
        Some(top) => {
            r.role = top.role;
            if top.kind == Some(ReservationType::Dynamic) {
                r.reservation = Some(ReservationInfo {
                    kind: None,
                    role: None,
                    principal: top.principal,
                    labels: top.labels,
                });
            }
        }
    }
    true
}

fn reservations_from_v1(r: &Resource) -> Result<Vec<Reservation>, ResourceProblem> {
    if !r.reservations.is_empty() {
        if r.role.is_some() || r.reservation.is_some() {
            return Err(ResourceProblem::MixedReservationFormats);
        }
        return r
            .reservations
            .iter()
            .map(|info| {
                let kind = match info.kind {
                    Some(ReservationType::Static) => ReservationKind::Static,
                    Some(ReservationType::Dynamic) => ReservationKind::Dynamic,
                    Some(ReservationType::Unknown) | None => {
                        return Err(ResourceProblem::IncompleteReservation)
                    }
                };
                let role = info
                    .role
                    .as_deref()
                    .ok_or(ResourceProblem::IncompleteReservation)?;
                Ok(Reservation {
                    kind,
                    role: Role::new(role),
                    principal: info.principal.clone(),
                    labels: labels_from_v1(&info.labels),
                })
            })
            .collect();
    }
    // Pre-refinement format (Mesos `upgradeResource`).
    match (r.role.as_deref(), &r.reservation) {
        (None | Some("*"), None) => Ok(Vec::new()),
        (None | Some("*"), Some(_)) => Err(ResourceProblem::DynamicReservationForStar),
        (Some(role), reservation) => Ok(vec![Reservation {
            kind: if reservation.is_some() {
                ReservationKind::Dynamic
            } else {
                ReservationKind::Static
            },
            role: Role::new(role),
            principal: reservation.as_ref().and_then(|i| i.principal.clone()),
            labels: reservation
                .as_ref()
                .map(|i| labels_from_v1(&i.labels))
                .unwrap_or_default(),
        }]),
    }
}

fn disk_from_v1(d: &DiskInfo) -> Result<core_res::DiskInfo, ResourceProblem> {
    let source = match &d.source {
        None => None,
        Some(s) => {
            let (kind, root) = match s.kind {
                DiskSourceType::Unknown => return Err(ResourceProblem::UnknownDiskSource),
                DiskSourceType::Raw => (DiskSourceKind::Raw, None),
                DiskSourceType::Block => (DiskSourceKind::Block, None),
                DiskSourceType::Path => (DiskSourceKind::Path, s.path.as_ref()),
                DiskSourceType::Mount => (DiskSourceKind::Mount, s.mount.as_ref()),
            };
            Some(core_res::DiskSource {
                kind,
                id: s.id.clone(),
                profile: s.profile.clone(),
                metadata: labels_from_v1(&s.metadata),
                root: root.and_then(|r| r.root.clone()),
            })
        }
    };
    Ok(core_res::DiskInfo {
        persistence: d.persistence.as_ref().map(|p| core_res::Persistence {
            id: p.id.clone(),
            principal: p.principal.clone(),
        }),
        container_path: d.volume.as_ref().map(|v| v.container_path.clone()),
        read_only: d.volume.as_ref().is_some_and(|v| v.mode == VolumeMode::Ro),
        source,
    })
}

/// One JSON resource as a validated core resource (either reservation format accepted).
pub fn resource_from_v1(r: &Resource) -> Result<core_res::Resource, ResourceProblem> {
    let name = r.name.as_str();
    let resource = match r.kind {
        ValueType::Scalar => {
            let scalar = r.scalar.ok_or(ResourceProblem::MissingValue("scalar"))?;
            let amount = Fixed::from_f64(scalar.value).ok_or(ResourceProblem::BadScalar)?;
            core_res::Resource::scalar(name, amount)
        }
        ValueType::Ranges => {
            let ranges = r
                .ranges
                .as_ref()
                .ok_or(ResourceProblem::MissingValue("ranges"))?;
            let ranges: Vec<core_res::Range> = ranges
                .range
                .iter()
                .map(|x| core_res::Range::new(x.begin, x.end))
                .collect();
            core_res::Resource::ranges(name, &ranges)
        }
        ValueType::Set => {
            let set = r.set.as_ref().ok_or(ResourceProblem::MissingValue("set"))?;
            let items: Vec<&str> = set.item.iter().map(String::as_str).collect();
            core_res::Resource::set(name, &items)
        }
        ValueType::Text => return Err(ResourceProblem::TextType),
    }
    .map_err(ResourceProblem::Invalid)?;
    let meta = ResourceMeta {
        reservations: reservations_from_v1(r)?,
        allocation_role: r
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.as_deref())
            .map(Role::new),
        disk: r.disk.as_ref().map(disk_from_v1).transpose()?,
        provider_id: r.provider_id.as_ref().map(|p| p.value.clone()),
        shared: r.shared.is_some(),
        revocable: r.revocable.is_some(),
    };
    resource.with_meta(meta).map_err(ResourceProblem::Invalid)
}

/// A JSON resource list as core `Resources`, merged by identity; the first bad entry is reported.
pub fn resources_from_v1(list: &[Resource]) -> Result<Resources, ResourcesFromV1Error> {
    let mut out = Resources::with_capacity(list.len());
    for (index, r) in list.iter().enumerate() {
        let resource =
            resource_from_v1(r).map_err(|problem| ResourcesFromV1Error { index, problem })?;
        out.add(&resource).map_err(|e| ResourcesFromV1Error {
            index,
            problem: ResourceProblem::Arith(e),
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::to_ascii_json;

    fn parse(json: &str) -> Vec<Resource> {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn round_trips_through_core() {
        let json = r#"[
          {"name":"cpus","type":"SCALAR","scalar":{"value":1.5},"allocation_info":{"role":"eng"},
           "reservations":[{"type":"STATIC","role":"eng"},
                           {"type":"DYNAMIC","role":"eng/web","principal":"ops","labels":{"labels":[{"key":"k","value":"v"}]}}]},
          {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}},
          {"name":"zones","type":"SET","set":{"item":["a","b"]}},
          {"name":"disk","type":"SCALAR","scalar":{"value":100},"shared":{},
           "reservations":[{"type":"DYNAMIC","role":"eng"}],
           "disk":{"persistence":{"id":"v1","principal":"ops"},"volume":{"mode":"RO","container_path":"data"},
                   "source":{"type":"MOUNT","mount":{"root":"/mnt/d0"},"id":"csi-1","profile":"fast",
                             "metadata":{"labels":[{"key":"a","value":"b"}]}}},
           "provider_id":{"value":"rp"}},
          {"name":"cpus","type":"SCALAR","scalar":{"value":0.25},"revocable":{}}]"#;
        let list = parse(json);
        let core = resources_from_v1(&list).unwrap();
        assert_eq!(core.len(), 5);
        let back = resources_to_v1(&core);
        assert_eq!(back, list);
        assert_eq!(resources_from_v1(&back).unwrap(), core);
    }

    #[test]
    fn scalars_merge_and_round_to_three_decimals() {
        let list = parse(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1234}},
                {"name":"cpus","type":"SCALAR","scalar":{"value":1.0006}}]"#,
        );
        let core = resources_from_v1(&list).unwrap();
        assert_eq!(
            to_ascii_json(&resources_to_v1(&core)),
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1.124}}]"#
        );
    }

    #[test]
    fn pre_refinement_format_is_upgraded_and_downgraded() {
        let list = parse(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*"},
                {"name":"mem","type":"SCALAR","scalar":{"value":64},"role":"eng"},
                {"name":"disk","type":"SCALAR","scalar":{"value":8},"role":"eng",
                 "reservation":{"principal":"ops"}}]"#,
        );
        let core = resources_from_v1(&list).unwrap();
        let mut out = resources_to_v1(&core);
        assert_eq!(out[0].reservations, vec![]);
        assert_eq!(out[1].reservations[0].kind, Some(ReservationType::Static));
        assert_eq!(out[2].reservations[0].kind, Some(ReservationType::Dynamic));
        assert_eq!(out[2].reservations[0].principal.as_deref(), Some("ops"));
        for r in &mut out {
            assert!(downgrade_to_pre_refinement(r));
        }
        assert_eq!(out, list);
    }

    #[test]
    fn refined_reservations_cannot_be_downgraded() {
        let mut r = parse(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
                 "reservations":[{"type":"STATIC","role":"a"},{"type":"DYNAMIC","role":"a/b"}]}]"#,
        )
        .remove(0);
        let before = r.clone();
        assert!(!downgrade_to_pre_refinement(&mut r));
        assert_eq!(r, before);
    }

    #[test]
    fn bad_resources_are_refused_with_their_index() {
        let cases = [
            (
                r#"{"name":"cpus","type":"SCALAR"}"#,
                ResourceProblem::MissingValue("scalar"),
            ),
            (
                r#"{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}"#,
                ResourceProblem::BadScalar,
            ),
            (
                r#"{"name":"cpus","type":"SCALAR","scalar":{"value":1e300}}"#,
                ResourceProblem::BadScalar,
            ),
            (r#"{"name":"os","type":"TEXT"}"#, ResourceProblem::TextType),
            (
                r#"{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"a","reservations":[{"type":"STATIC","role":"a"}]}"#,
                ResourceProblem::MixedReservationFormats,
            ),
            (
                r#"{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"role":"a"}]}"#,
                ResourceProblem::IncompleteReservation,
            ),
            (
                r#"{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*","reservation":{}}"#,
                ResourceProblem::DynamicReservationForStar,
            ),
            (
                r#"{"name":"d","type":"SCALAR","scalar":{"value":1},"disk":{"source":{"type":"UNKNOWN"}}}"#,
                ResourceProblem::UnknownDiskSource,
            ),
        ];
        for (json, problem) in cases {
            let list = parse(&format!(
                r#"[{{"name":"mem","type":"SCALAR","scalar":{{"value":1}}}},{json}]"#
            ));
            let err = resources_from_v1(&list).unwrap_err();
            assert_eq!(err, ResourcesFromV1Error { index: 1, problem }, "{json}");
        }
        let list = parse(r#"[{"name":"bad name","type":"SCALAR","scalar":{"value":1}}]"#);
        let err = resources_from_v1(&list).unwrap_err();
        assert!(matches!(err.problem, ResourceProblem::Invalid(_)));
        assert!(
            err.to_string().starts_with("Invalid resource #0: "),
            "{err}"
        );
        let list = parse(
            r#"[{"name":"ports","type":"SCALAR","scalar":{"value":1}},
                {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}]"#,
        );
        assert_eq!(
            resources_from_v1(&list).unwrap_err(),
            ResourcesFromV1Error {
                index: 1,
                problem: ResourceProblem::Arith(ArithError::TypeMismatch)
            }
        );
    }
}
