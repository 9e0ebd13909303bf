//! Unit tests of offer operations: every validation and application error with its exact
//! reason, refined reservations, and an agent's checkpointed resources.

extern crate std;

use super::*;
use crate::ids::{FrameworkId, Role};
use crate::resources::meta::{DiskInfo, DiskSource, DiskSourceKind, Persistence};
use crate::resources::{Fixed, Value};
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

// ---- Builders -------------------------------------------------------------------------

fn res(text: &str) -> Resources {
    Resources::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The only entry of `text`.
fn one(text: &str) -> Resource {
    let r = res(text);
    assert_eq!(r.len(), 1, "{text}");
    r.as_slice()[0].clone()
}

/// Builds a collection without validating (to reach checks that valid builders prevent).
fn set(rs: &[Resource]) -> Resources {
    let mut out = Resources::new();
    for r in rs {
        out.add(r).unwrap();
    }
    out
}

/// A collection of one resource.
fn set1(r: &Resource) -> Resources {
    set(core::slice::from_ref(r))
}

/// Replaces `r`'s meta without validation.
fn edit(r: &Resource, f: impl FnOnce(&mut ResourceMeta)) -> Resource {
    let mut meta = r.meta().cloned().unwrap_or_default();
    f(&mut meta);
    super::with_meta(r, meta)
}

fn level(kind: ReservationKind, role: &str, principal: Option<&str>) -> Reservation {
    Reservation {
        kind,
        role: Role::from(role),
        principal: principal.map(String::from),
        labels: vec![],
    }
}

/// `r` with a dynamic reservation for `role` by `principal` pushed on top.
fn dynamic(r: &Resource, role: &str, principal: Option<&str>) -> Resource {
    push_reservation(r, level(ReservationKind::Dynamic, role, principal)).unwrap()
}

fn allocated(r: &Resource, role: &str) -> Resource {
    edit(r, |m| m.allocation_role = Some(Role::from(role)))
}

/// A persistent volume `id` at `path` on disk `r`.
fn volume(r: &Resource, id: &str, path: &str, principal: Option<&str>) -> Resource {
    edit(r, |m| {
        let d = m.disk.get_or_insert_with(DiskInfo::default);
        d.persistence = Some(Persistence {
            id: id.into(),
            principal: principal.map(String::from),
        });
        d.container_path = Some(path.into());
    })
}

fn mount(r: &Resource, root: &str) -> Resource {
    edit(r, |m| {
        m.disk = Some(DiskInfo {
            source: Some(DiskSource {
                kind: DiskSourceKind::Mount,
                id: None,
                profile: None,
                metadata: vec![],
                root: Some(root.into()),
            }),
            ..DiskInfo::default()
        })
    })
}

fn shared(r: &Resource) -> Resource {
    edit(r, |m| m.shared = true)
}

/// `disk(dyn eng by ops):64`, the usual volume base.
fn eng_disk() -> Resource {
    dynamic(&one("disk:64"), "eng", Some("ops"))
}

// ---- Validation -----------------------------------------------------------------------

struct Who {
    principal: Option<&'static str>,
    /// `None` for the operator.
    roles: Option<Vec<Role>>,
    caps: FrameworkCapabilities,
    checkpointed: Resources,
    used: Vec<Resources>,
}

fn operator() -> Who {
    Who {
        principal: None,
        roles: None,
        caps: FrameworkCapabilities::default(),
        checkpointed: Resources::new(),
        used: vec![],
    }
}

fn framework(roles: &[&str]) -> Who {
    Who {
        roles: Some(roles.iter().map(|r| Role::from(*r)).collect()),
        ..operator()
    }
}

impl Who {
    fn principal(mut self, p: &'static str) -> Who {
        self.principal = Some(p);
        self
    }
    fn caps(mut self, refinement: bool, shared: bool) -> Who {
        self.caps = FrameworkCapabilities {
            reservation_refinement: refinement,
            shared_resources: shared,
        };
        self
    }
    fn checkpointed(mut self, r: Resources) -> Who {
        self.checkpointed = r;
        self
    }
    fn used(mut self, r: Resources) -> Who {
        self.used.push(r);
        self
    }

    fn validate(&self, op: &ResourceOperation) -> Result<(), OperationError> {
        let id = FrameworkId::new("fw-1");
        let framework = self.roles.as_ref().map(|roles| FrameworkRequest {
            id: &id,
            roles,
            capabilities: self.caps,
        });
        op.validate(&ValidationContext {
            principal: self.principal,
            framework,
            checkpointed: &self.checkpointed,
            used: &self.used,
        })
    }
}

/// The one check helper of validation: `op` by `who` is refused with exactly `reason`.
#[track_caller]
fn refused(who: &Who, op: ResourceOperation, reason: &str) {
    match who.validate(&op) {
        Ok(()) => panic!("accepted, expected: {reason}"),
        Err(e) => assert_eq!(e.to_string(), reason),
    }
}

#[track_caller]
fn accepted(who: &Who, op: ResourceOperation) {
    if let Err(e) = who.validate(&op) {
        panic!("refused: {e}");
    }
}

use ResourceOperation::{Create, Destroy, Reserve, Unreserve};

#[test]
fn valid_operations_pass() {
    let fw = framework(&["eng", "dev"]).principal("ops");
    let cpus = allocated(&dynamic(&one("cpus:1"), "eng", Some("ops")), "eng");
    accepted(&fw, Reserve(set1(&cpus)));
    accepted(&fw, Unreserve(set(&[cpus])));
    accepted(
        &operator().principal("ops"),
        Reserve(set(&[dynamic(&one("mem:64"), "eng", Some("ops"))])),
    );
    let vol = volume(&eng_disk(), "v1", "data", Some("ops"));
    accepted(&fw, Create(set(&[allocated(&vol, "eng")])));
    let op = operator().checkpointed(set1(&vol));
    accepted(&op, Destroy(set(&[allocated(&vol, "eng")])));
}

#[test]
fn empty_operations_are_refused() {
    for op in [
        Reserve(Resources::new()),
        Unreserve(Resources::new()),
        Create(Resources::new()),
        Destroy(Resources::new()),
    ] {
        refused(
            &operator(),
            op,
            "Invalid resources: Resource cannot be empty",
        );
    }
}

#[test]
fn resources_invalid_in_themselves_are_refused() {
    let op = operator();
    let star = edit(&one("cpus:1"), |m| {
        m.reservations = vec![level(ReservationKind::Dynamic, "*", None)];
    });
    refused(
        &op,
        Reserve(set(&[star])),
        "Invalid resources: Invalid resources: Resource 'cpus(reservations: [(DYNAMIC,*)]):1' is invalid: \
         Invalid reservation: role \"*\" cannot be reserved",
    );
    let bad_role = edit(&one("cpus:1"), |m| {
        m.reservations = vec![level(ReservationKind::Dynamic, "a//b", None)];
    });
    refused(
        &op,
        Reserve(set(&[bad_role])),
        "Invalid resources: Invalid resources: Resource 'cpus(reservations: [(DYNAMIC,a//b)]):1' is invalid: \
         resource 'cpus': a role contains '//'",
    );
    let negative = Resource {
        value: Value::Scalar(Fixed::from_milli(-1000)),
        ..dynamic(&one("cpus:1"), "eng", None)
    };
    refused(
        &op,
        Reserve(set(&[negative])),
        "Invalid resources: Invalid resources: Resource 'cpus(reservations: [(DYNAMIC,eng)]):-1' is invalid: \
         resource 'cpus': the amount is negative",
    );
    let static_on_top = edit(&one("cpus:1"), |m| {
        m.reservations = vec![
            level(ReservationKind::Dynamic, "eng", None),
            level(ReservationKind::Static, "eng/web", None),
        ];
    });
    refused(
        &op,
        Reserve(set(&[static_on_top])),
        "Invalid resources: Invalid resources: Resource 'cpus(reservations: [(DYNAMIC,eng),(STATIC,eng/web)]):1' \
         is invalid: Invalid refined reservation: A refined reservation cannot be STATIC",
    );
    let sideways = dynamic(&dynamic(&one("cpus:1"), "eng", None), "engine", None);
    refused(
        &op,
        Reserve(set(&[sideways])),
        "Invalid resources: Invalid resources: Resource 'cpus(reservations: [(DYNAMIC,eng),(DYNAMIC,engine)]):1' \
         is invalid: Invalid refined reservation: role 'engine' is not a refinement of 'eng'",
    );
    let disk_on_cpus = mount(&dynamic(&one("cpus:1"), "eng", None), "/m");
    refused(
        &op,
        Reserve(set(&[disk_on_cpus])),
        "Invalid resources: Invalid resources: Resource 'cpus(reservations: [(DYNAMIC,eng)])[MOUNT(/m)]:1' \
         is invalid: DiskInfo should not be set for cpus resource",
    );
    refused(
        &op,
        Reserve(set(&[shared(&dynamic(&one("cpus:1"), "eng", None))])),
        "Invalid resources: Invalid resources: Resource 'cpus(reservations: [(DYNAMIC,eng)])<SHARED>:1' \
         is invalid: Resource cpus cannot be shared",
    );
    refused(
        &op,
        Reserve(set(&[shared(&eng_disk())])),
        "Invalid resources: Invalid resources: Resource 'disk(reservations: [(DYNAMIC,eng,ops)])<SHARED>:64' \
         is invalid: Only persistent volumes can be shared",
    );
    refused(
        &op,
        Reserve(set(&[dynamic(&one("gpus:1.5"), "eng", None)])),
        "Invalid resources: Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer",
    );
    refused(
        &op,
        Reserve(set(&[edit(&dynamic(&one("cpus:1"), "eng", None), |m| {
            m.revocable = true
        })])),
        "Invalid resources: Invalid ReservationInfo: Dynamically reserved resource \
         cpus(reservations: [(DYNAMIC,eng)]){REV}:1 cannot be created from revocable resources",
    );
}

#[test]
fn disk_info_problems_are_refused() {
    let op = operator();
    let check = |r: Resource, reason: &str| {
        refused(
            &op,
            Create(set(&[r])),
            &["Invalid resources: Invalid DiskInfo: ", reason].concat(),
        );
    };
    let vol = volume(&eng_disk(), "v1", "data", None);
    check(
        edit(&vol, |m| m.revocable = true),
        "Persistent volumes cannot be created from revocable resources",
    );
    check(
        volume(&one("disk:64"), "v1", "data", None),
        "Persistent volumes cannot be created from unreserved resources",
    );
    check(
        edit(&vol, |m| m.disk.as_mut().unwrap().container_path = None),
        "Expecting 'volume' to be set for persistent volume",
    );
    check(
        volume(&eng_disk(), "a/b", "data", None),
        "Invalid persistence ID for persistent volume: persistence ID contains '/', NUL or is '.'/'..'",
    );
    check(
        volume(&eng_disk(), "", "data", None),
        "Invalid persistence ID for persistent volume: persistence ID is empty",
    );
    for path in ["/abs", "a/../../etc", "..", ""] {
        check(
            volume(&eng_disk(), "v1", path, None),
            &std::format!(
                "Container path '{path}' of persistent volume must be a non-empty relative path without '..'"
            ),
        );
    }
    check(
        edit(&eng_disk(), |m| {
            m.disk = Some(DiskInfo {
                container_path: Some("data".into()),
                ..DiskInfo::default()
            })
        }),
        "Non-persistent volume not supported",
    );
    check(
        edit(&eng_disk(), |m| m.disk = Some(DiskInfo::default())),
        "DiskInfo is set but empty",
    );
}

#[test]
fn resources_from_several_providers_are_refused() {
    let a = edit(&eng_disk(), |m| m.provider_id = Some("rp-a".into()));
    let b = edit(&dynamic(&one("mem:1"), "eng", Some("ops")), |m| {
        m.provider_id = Some("rp-b".into())
    });
    let plain = dynamic(&one("cpus:1"), "eng", Some("ops"));
    refused(
        &operator(),
        Reserve(set(&[a.clone(), plain.clone()])),
        "Invalid resources: Some resources have a resource provider and some do not",
    );
    refused(
        &operator(),
        Unreserve(set(&[plain, a.clone()])),
        "Invalid resources: Some resources have a resource provider and some do not",
    );
    refused(
        &operator(),
        Reserve(set(&[a, b])),
        "Invalid resources: The resources have multiple resource providers: rp-a, rp-b",
    );
}

#[test]
fn reserve_and_unreserve_need_dynamic_reservations() {
    refused(
        &operator(),
        Reserve(res("cpus(eng):1")),
        "Resource cpus(eng):1 is not dynamically reserved",
    );
    refused(
        &operator(),
        Unreserve(res("cpus:1")),
        "Resource cpus:1 is not dynamically reserved",
    );
    let vol = volume(&eng_disk(), "v1", "data", None);
    refused(
        &operator(),
        Unreserve(set(&[vol])),
        "A dynamically reserved persistent volume disk(reservations: [(DYNAMIC,eng,ops)])[v1:data]:64 \
         cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource",
    );
}

#[test]
fn reserve_principals_must_match() {
    let op = operator().principal("ops");
    refused(
        &op,
        Reserve(set(&[dynamic(&one("cpus:1"), "eng", None)])),
        "A reserve operation was attempted by principal 'ops', but there is a reserved resource \
         in the request with no principal set",
    );
    refused(
        &op,
        Reserve(set(&[dynamic(&one("cpus:1"), "eng", Some("dev"))])),
        "A reserve operation was attempted by authenticated principal 'ops', which does not match \
         a reserved resource in the request with principal 'dev'",
    );
    // Without authentication any principal may be named.
    accepted(
        &operator(),
        Reserve(set(&[dynamic(&one("cpus:1"), "eng", Some("dev"))])),
    );
}

#[test]
fn frameworks_reserve_only_for_their_roles() {
    let fw = framework(&["eng", "dev"]);
    let cpus = dynamic(&one("cpus:1"), "eng", None);
    refused(
        &fw,
        Reserve(set1(&cpus)),
        "A reserve operation was attempted on unallocated resource cpus(reservations: [(DYNAMIC,eng)]):1, \
         but frameworks can only perform reservations on allocated resources",
    );
    refused(
        &fw,
        Reserve(set(&[allocated(&cpus, "dev")])),
        "A reserve operation was attempted for a resource with role 'eng', but the resource was \
         allocated to role 'dev'",
    );
    refused(
        &fw,
        Reserve(set(&[allocated(&dynamic(&one("cpus:1"), "ops", None), "ops")])),
        "A reserve operation was attempted for a resource allocated to role 'ops', but the framework \
         only has roles '{ eng, dev }'",
    );
    refused(
        &operator(),
        Reserve(set(&[allocated(&cpus, "eng")])),
        "A reserve operation was attempted with an allocated resource, but the operator API only \
         allows reservations to be made to unallocated resources",
    );
    let mem = allocated(&dynamic(&one("mem:1"), "dev", None), "dev");
    refused(
        &fw,
        Reserve(set(&[allocated(&cpus, "eng"), mem])),
        "Invalid reservation resources: The resources have multiple allocation roles ('dev' and 'eng') \
         but only one allocation role is allowed",
    );
}

#[test]
fn refinement_needs_the_capability() {
    // `eng` resources offered to `eng/web` and reserved further for it.
    let base = allocated(&one("cpus(eng):2"), "eng/web");
    let refined = dynamic(&base, "eng/web", None);
    assert!(has_refined_reservations(&refined));
    let fw = framework(&["eng/web"]);
    refused(
        &fw,
        Reserve(set1(&refined)),
        "Resource cpus(allocated: eng/web)(reservations: [(STATIC,eng),(DYNAMIC,eng/web)]):2 with \
         reservation refinement cannot be reserved by a framework without RESERVATION_REFINEMENT capability",
    );
    accepted(
        &framework(&["eng/web"]).caps(true, false),
        Reserve(set(&[refined])),
    );
    let vol = allocated(
        &volume(&dynamic(&eng_disk(), "eng/web", None), "v1", "data", None),
        "eng/web",
    );
    refused(
        &fw,
        Create(set1(&vol)),
        "Volume disk(allocated: eng/web)(reservations: [(DYNAMIC,eng,ops),(DYNAMIC,eng/web)])[v1:data]:64 \
         with reservation refinement cannot be created by a framework without RESERVATION_REFINEMENT capability",
    );
    accepted(
        &framework(&["eng/web"]).caps(true, false),
        Create(set(&[vol])),
    );
}

#[test]
fn create_needs_persistent_volumes() {
    let op = operator();
    refused(
        &op,
        Create(set(&[eng_disk()])),
        "Not a persistent volume: Resource disk(reservations: [(DYNAMIC,eng,ops)]):64 does not have DiskInfo",
    );
    refused(
        &op,
        Create(set(&[mount(&eng_disk(), "/m")])),
        "Not a persistent volume: 'persistence' is not set in DiskInfo",
    );
    let ro = edit(&volume(&eng_disk(), "v1", "data", None), |m| {
        m.disk.as_mut().unwrap().read_only = true
    });
    refused(
        &op,
        Create(set(&[ro])),
        "Not a persistent volume: Read-only persistent volume not supported",
    );
    refused(
        &op,
        Destroy(set(&[eng_disk()])),
        "Not a persistent volume: Resource disk(reservations: [(DYNAMIC,eng,ops)]):64 does not have DiskInfo",
    );
}

#[test]
fn persistence_ids_are_unique_per_role_on_the_agent() {
    let v1 = volume(&eng_disk(), "v1", "data", None);
    let existing = operator().checkpointed(set1(&v1));
    refused(
        &existing,
        Create(set1(&v1)),
        "Persistence ID 'v1' is not unique",
    );
    let again = volume(&eng_disk(), "v1", "other", None);
    refused(
        &operator(),
        Create(set(&[v1.clone(), again])),
        "Persistence ID 'v1' is not unique",
    );
    // The same id for another role is fine.
    let dev = volume(&dynamic(&one("disk:64"), "dev", None), "v1", "data", None);
    accepted(&existing, Create(set(&[dev])));
}

#[test]
fn create_checks_sharing_principals_and_roles() {
    let vol = allocated(&volume(&eng_disk(), "v1", "data", Some("ops")), "eng");
    refused(
        &framework(&["eng"]),
        Create(set(&[shared(&vol)])),
        "Create volume operation for 'disk(allocated: eng)(reservations: [(DYNAMIC,eng,ops)])[v1:data]<SHARED>:64' \
         has been attempted by framework 'fw-1' with no SHARED_RESOURCES capability",
    );
    accepted(
        &framework(&["eng"]).caps(false, true),
        Create(set(&[shared(&vol)])),
    );
    accepted(&operator(), Create(set(&[shared(&unallocated(&vol))])));
    refused(
        &operator().principal("ops"),
        Create(set(&[volume(&eng_disk(), "v1", "data", None)])),
        "Create volume operation attempted by principal 'ops', but there is a volume in the operation \
         with no principal set in 'disk.persistence'",
    );
    refused(
        &operator().principal("dev"),
        Create(set(&[unallocated(&vol)])),
        "Create volume operation attempted by authenticated principal 'dev', which does not match a \
         volume in the operation with principal 'ops' set in 'disk.persistence'",
    );
    refused(
        &framework(&["eng"]),
        Create(set(&[unallocated(&vol)])),
        "Invalid volume resources: The resources are not allocated to a role",
    );
    let dev = allocated(
        &volume(&dynamic(&one("disk:8"), "dev", None), "v2", "d", None),
        "dev",
    );
    refused(
        &framework(&["eng", "dev"]),
        Create(set(&[vol, dev])),
        "Invalid volume resources: The resources have multiple allocation roles ('dev' and 'eng') \
         but only one allocation role is allowed",
    );
}

#[test]
fn destroy_needs_existing_unused_volumes() {
    let vol = volume(&eng_disk(), "v1", "data", None);
    let offered = allocated(&vol, "eng");
    refused(
        &operator(),
        Destroy(set1(&offered)),
        "Persistent volumes not found",
    );
    let agent = operator().checkpointed(set1(&vol));
    accepted(&agent, Destroy(set1(&offered)));
    let busy = operator()
        .checkpointed(set1(&vol))
        .used(res("cpus:1"))
        .used(set(&[allocated(&vol, "eng")]));
    refused(&busy, Destroy(set(&[offered])), "Persistent volumes in use");
    // A shared volume is in use while any framework's task uses it.
    let sv = shared(&vol);
    let busy = operator()
        .checkpointed(set1(&sv))
        .used(set(&[allocated(&sv, "eng")]))
        .used(set(&[allocated(&sv, "dev")]));
    refused(&busy, Destroy(set1(&sv)), "Persistent volumes in use");
    accepted(&operator().checkpointed(set1(&sv)), Destroy(set(&[sv])));
}

// ---- Application ----------------------------------------------------------------------

/// The one check helper of application: `op` on `before` fails with exactly `reason`.
#[track_caller]
fn apply_refused(before: &Resources, op: ResourceOperation, reason: &str) {
    match op.apply(before) {
        Ok(r) => panic!("applied to {r}, expected: {reason}"),
        Err(e) => assert_eq!(e.to_string(), reason),
    }
}

#[test]
fn reserve_and_unreserve_convert_and_invert() {
    let total = res("cpus:4;mem:1024;ports:[31000-32000]");
    let reserved = set(&[
        dynamic(&one("cpus:1.5"), "eng", Some("ops")),
        dynamic(&one("ports:[31100-31199]"), "eng", Some("ops")),
    ]);
    let after = Reserve(reserved.clone()).apply(&total).unwrap();
    let want = set(&[
        one("cpus:2.5"),
        one("mem:1024"),
        one("ports:[31000-31099,31200-32000]"),
        dynamic(&one("cpus:1.5"), "eng", Some("ops")),
        dynamic(&one("ports:[31100-31199]"), "eng", Some("ops")),
    ]);
    assert_eq!(after, want);
    assert_eq!(Unreserve(reserved).apply(&after).unwrap(), total);
}

#[test]
fn refined_reservations_push_and_pop() {
    let eng = one("cpus(eng):4");
    let web = dynamic(&one("cpus(eng):1"), "eng/web", Some("p"));
    assert_eq!(web.reservation_role().map(Role::as_str), Some("eng/web"));
    assert!(is_dynamically_reserved(&web));
    assert!(!is_dynamically_reserved(&eng));
    assert_eq!(pop_reservation(&web), Some(one("cpus(eng):1")));
    assert_eq!(pop_reservation(&one("cpus:1")), None);
    let total = set1(&eng);
    let after = Reserve(set1(&web)).apply(&total).unwrap();
    assert_eq!(after, set(&[one("cpus(eng):3"), web.clone()]));
    // Refining further and popping back one level at a time.
    let deeper = dynamic(&web, "eng/web/api", None);
    let after2 = Reserve(set1(&deeper)).apply(&after).unwrap();
    assert_eq!(after2, set(&[one("cpus(eng):3"), deeper.clone()]));
    assert_eq!(pop_dynamic_reservations(&deeper), one("cpus(eng):1"));
    let back = Unreserve(set(&[deeper])).apply(&after2).unwrap();
    assert_eq!(back, after);
    assert_eq!(Unreserve(set(&[web])).apply(&back).unwrap(), total);
}

#[test]
fn create_and_destroy_convert_and_invert() {
    let disk = eng_disk();
    let total = set(&[one("cpus:1"), disk.clone()]);
    let vol = volume(
        &dynamic(&one("disk:16"), "eng", Some("ops")),
        "v1",
        "data",
        Some("ops"),
    );
    let after = Create(set1(&vol)).apply(&total).unwrap();
    assert_eq!(
        after,
        set(&[
            one("cpus:1"),
            dynamic(&one("disk:48"), "eng", Some("ops")),
            vol.clone()
        ])
    );
    assert_eq!(Destroy(set(&[vol])).apply(&after).unwrap(), total);
    // A volume on a whole MOUNT disk keeps the source when destroyed.
    let m = mount(&eng_disk(), "/mnt/a");
    let mv = volume(&m, "v2", "db", None);
    let total = set1(&m);
    let after = Create(set1(&mv)).apply(&total).unwrap();
    assert_eq!(after, set1(&mv));
    assert_eq!(strip_volume(&mv), m);
    assert_eq!(Destroy(set(&[mv])).apply(&after).unwrap(), total);
    // A shared volume comes from non-shared disk and goes back to it.
    let sv = shared(&volume(&eng_disk(), "v3", "s", None));
    let total = set(&[eng_disk()]);
    let after = Create(set1(&sv)).apply(&total).unwrap();
    assert_eq!(after, set1(&sv));
    assert_eq!(Destroy(set(&[sv])).apply(&after).unwrap(), total);
}

#[test]
fn application_errors_have_mesos_reasons() {
    let total = res("cpus:1;cpus(eng):1");
    apply_refused(
        &total,
        Reserve(res("cpus:1")),
        "Invalid RESERVE Operation: Resource must be reserved",
    );
    apply_refused(
        &total,
        Unreserve(res("cpus:1")),
        "Invalid UNRESERVE Operation: Resource is not reserved",
    );
    apply_refused(
        &total,
        Reserve(res("cpus(eng):1")),
        "Invalid RESERVE Operation: Resource must be dynamically reserved",
    );
    apply_refused(
        &total,
        Unreserve(res("cpus(eng):1")),
        "Invalid UNRESERVE Operation: Resource is not dynamically reserved",
    );
    apply_refused(
        &total,
        Reserve(set(&[dynamic(&one("cpus:2"), "eng", Some("p"))])),
        "Invalid RESERVE Operation: cpus:1;cpus(eng):1 does not contain cpus:2",
    );
    apply_refused(
        &total,
        Unreserve(set(&[dynamic(&one("cpus:1"), "eng", Some("p"))])),
        "Invalid UNRESERVE Operation: cpus:1;cpus(eng):1 does not contain \
         cpus(reservations: [(DYNAMIC,eng,p)]):1",
    );
    apply_refused(
        &total,
        Create(res("cpus:1")),
        "Invalid CREATE Operation: Missing 'disk'",
    );
    apply_refused(
        &total,
        Destroy(res("cpus:1")),
        "Invalid DESTROY Operation: Missing 'disk'",
    );
    let m = mount(&eng_disk(), "/m");
    apply_refused(
        &total,
        Create(set1(&m)),
        "Invalid CREATE Operation: Missing 'persistence'",
    );
    apply_refused(
        &total,
        Destroy(set(&[m])),
        "Invalid DESTROY Operation: Missing 'persistence'",
    );
    let vol = volume(&eng_disk(), "v1", "data", None);
    apply_refused(
        &total,
        Create(set1(&vol)),
        "Invalid CREATE Operation: Insufficient disk resources for persistent volume \
         disk(reservations: [(DYNAMIC,eng,ops)])[v1:data]:64",
    );
    apply_refused(
        &total,
        Destroy(set(&[vol])),
        "Invalid DESTROY Operation: Persistent volume disk(reservations: [(DYNAMIC,eng,ops)])[v1:data]:64 \
         does not exist",
    );
    // Creating a shared volume that is already there would need a second copy.
    let sv = shared(&volume(&eng_disk(), "v3", "s", None));
    let with_copy = set(&[eng_disk(), sv.clone()]);
    apply_refused(
        &with_copy,
        Create(set(&[sv])),
        "Invalid CREATE Operation: an indivisible resource is already present",
    );
}

#[test]
fn application_is_all_or_nothing() {
    let total = res("cpus:2;mem:10");
    let op = Reserve(set(&[
        dynamic(&one("cpus:1"), "eng", None),
        dynamic(&one("mem:11"), "eng", None),
    ]));
    apply_refused(
        &total,
        op,
        "Invalid RESERVE Operation: cpus:1;mem:10;cpus(reservations: [(DYNAMIC,eng)]):1 does not contain mem:11",
    );
    assert_eq!(total, res("cpus:2;mem:10"));
}

// ---- Checkpointed resources -----------------------------------------------------------

#[test]
fn checkpointed_resources_rebuild_the_total() {
    let agent = res("cpus:4;mem:1024;disk(eng):100;disk:50");
    let reserve = Reserve(set(&[
        dynamic(&one("cpus:1"), "eng", Some("ops")),
        dynamic(&one("disk:30"), "dev", Some("ops")),
        dynamic(&one("disk(eng):40"), "eng/web", Some("ops")),
    ]));
    let total = reserve.apply(&agent).unwrap();
    let vol = volume(
        &dynamic(&one("disk(eng):10"), "eng/web", Some("ops")),
        "v1",
        "d",
        None,
    );
    let static_vol = volume(&one("disk(eng):5"), "v2", "d", None);
    let total = Create(set(&[vol.clone(), static_vol.clone()]))
        .apply(&total)
        .unwrap();
    let ck = checkpointed_resources(&total);
    assert_eq!(
        ck,
        set(&[
            dynamic(&one("cpus:1"), "eng", Some("ops")),
            dynamic(&one("disk:30"), "dev", Some("ops")),
            dynamic(&one("disk(eng):30"), "eng/web", Some("ops")),
            vol,
            static_vol,
        ])
    );
    assert_eq!(apply_checkpointed_resources(&agent, &ck).unwrap(), total);
    assert_eq!(
        apply_checkpointed_resources(&agent, &Resources::new()).unwrap(),
        agent
    );
}

#[test]
fn checkpointed_resources_must_fit_the_agent() {
    let agent = res("cpus:1");
    let ck = set(&[dynamic(&one("cpus:2"), "eng", Some("ops"))]);
    assert_eq!(
        apply_checkpointed_resources(&agent, &ck).unwrap_err().to_string(),
        "Checkpointed resources cpus(reservations: [(DYNAMIC,eng,ops)]):2 are incompatible with agent \
         resources cpus:1: Incompatible agent resources: cpus:1 does not contain cpus:2"
    );
    let ck = res("cpus:1");
    assert_eq!(
        apply_checkpointed_resources(&agent, &ck)
            .unwrap_err()
            .to_string(),
        "Checkpointed resources cpus:1 are incompatible with agent resources cpus:1: \
         Unexpected checkpointed resources cpus:1"
    );
    // A volume on disk the agent no longer declares for that role.
    let ck = set(&[volume(&one("disk(eng):5"), "v", "d", None)]);
    assert_eq!(
        apply_checkpointed_resources(&res("disk:5"), &ck)
            .unwrap_err()
            .to_string(),
        "Checkpointed resources disk(eng)[v:d]:5 are incompatible with agent resources disk:5: \
         Incompatible agent resources: disk:5 does not contain disk(eng):5"
    );
}

#[test]
fn helpers_classify_resources() {
    let vol = volume(&eng_disk(), "v1", "data", None);
    assert!(is_persistent_volume(&vol));
    assert!(!is_persistent_volume(&mount(&eng_disk(), "/m")));
    assert!(needs_checkpointing(&vol) && needs_checkpointing(&eng_disk()));
    assert!(!needs_checkpointing(&one("cpus(eng):1")));
    assert!(!has_refined_reservations(&eng_disk()));
    assert_eq!(unallocated(&allocated(&vol, "eng")), vol);
    assert_eq!(strip_volume(&vol), eng_disk());
    assert!(push_reservation(&one("cpus:1"), level(ReservationKind::Dynamic, "*", None)).is_err());
    let names: Vec<&str> = [
        Reserve(res("")),
        Unreserve(res("")),
        Create(res("")),
        Destroy(res("")),
    ]
    .iter()
    .map(|o| o.kind().name())
    .collect();
    assert_eq!(names, ["RESERVE", "UNRESERVE", "CREATE", "DESTROY"]);
    assert_eq!(Reserve(res("cpus:1")).inverse(), Unreserve(res("cpus:1")));
    assert_eq!(
        Create(res("cpus:1")).inverse().inverse(),
        Create(res("cpus:1"))
    );
}
