//! Unit tests of the quota calls: Mesos' checks and messages, answered once durable, given to
//! the allocator then and again after a restart.

use super::*;
use crate::registry::QuotaRecord;

fn res(text: &str) -> Resources {
    Resources::parse(text).unwrap()
}

fn call(f: &mut Fixture, c: OperatorCall) -> Result<(), OperatorError> {
    let ticket = f.m.handle_operator_call(f.now, wall(), c)?;
    f.pump();
    match f.m.poll_operator_completion() {
        Some((t, result)) if t == ticket => result,
        other => panic!("expected the answer to {ticket:?}, got {other:?}"),
    }
}

fn set(role: &str, guarantee: &str, force: bool) -> OperatorCall {
    OperatorCall::SetQuota {
        role: Role::from(role),
        guarantee: res(guarantee),
        force,
    }
}

#[test]
fn set_quota_is_checked_as_mesos_does_and_applied_once_durable() {
    let mut f = Fixture::new();
    f.register(1, 5051); // cpus:2;mem:1024
    f.auto_persist = false;
    let ticket =
        f.m.handle_operator_call(f.now, wall(), set("web", "cpus:1.5", false))
            .unwrap();
    f.pump();
    assert_eq!(f.m.poll_operator_completion(), None, "not durable yet");
    assert!(f.m.allocator.quota(&Role::from("web")).is_none());
    f.persist();
    assert_eq!(f.m.poll_operator_completion(), Some((ticket, Ok(()))));
    let q = f.m.allocator.quota(&Role::from("web")).unwrap();
    assert_eq!(q.guarantee, &res("cpus:1.5"));
    assert_eq!(
        q.limit,
        &res("cpus:1.5"),
        "Mesos 1.5: the guarantee is the limit"
    );

    let invalid = |m: &str| Err(OperatorError::Invalid(m.to_string()));
    assert_eq!(
        call(&mut f, set("web", "cpus:0.1", false)),
        invalid("Failed to validate set quota request: Cannot set quota for role 'web' which already has quota")
    );
    assert_eq!(
        call(&mut f, set("eng/web", "cpus:0.1", false)),
        invalid("Setting quota on nested role 'eng/web' is not supported yet")
    );
    assert_eq!(
        call(&mut f, set("*", "cpus:0.1", false)),
        invalid(
            "Failed to validate set quota request: quota cannot be set for the default role '*'"
        )
    );
    let Err(OperatorError::Invalid(m)) = call(&mut f, set("db", "ports:[1-2]", false)) else {
        panic!("ranges are refused");
    };
    assert!(m.contains("is not a plain scalar"), "{m}");
    // 1.5 + 1 cpus guaranteed on a 2-cpu cluster: 409 unless forced.
    assert_eq!(
        call(&mut f, set("db", "cpus:1", false)),
        Err(OperatorError::Conflict(
            "Quota guarantees overcommit the cluster (use 'force' to bypass this check): \
             Total quota guarantees 'cpus:2.5' exceed cluster capacity 'cpus:2;mem:1024'"
                .to_string()
        ))
    );
    assert_eq!(call(&mut f, set("db", "cpus:1", true)), Ok(()));
    assert_eq!(f.m.quotas().len(), 2);

    assert_eq!(
        call(&mut f, OperatorCall::RemoveQuota(Role::from("nope"))),
        invalid("Failed to remove quota: Role 'nope' has no quota set")
    );
    assert_eq!(
        call(&mut f, OperatorCall::RemoveQuota(Role::from("db"))),
        Ok(())
    );
    assert!(f.m.allocator.quota(&Role::from("db")).is_none());
    assert_eq!(f.m.quotas().len(), 1);
}

#[test]
fn update_quota_sets_guarantee_and_limit_and_both_survive_a_restart() {
    let mut f = Fixture::new();
    f.register(1, 5051);
    let quota = |role: &str, g: &str, l: &str| QuotaRecord {
        role: Role::from(role),
        guarantees: res(g),
        limits: res(l),
    };
    let update = |quotas: Vec<QuotaRecord>| OperatorCall::UpdateQuota {
        quotas,
        force: false,
    };
    let Err(OperatorError::Invalid(m)) =
        call(&mut f, update(vec![quota("web", "cpus:2", "cpus:1")]))
    else {
        panic!("a guarantee above its limit is refused");
    };
    assert!(
        m.starts_with("Invalid QuotaConfig: role 'web' guarantee"),
        "{m}"
    );
    assert_eq!(
        call(&mut f, update(vec![quota("eng/web", "", "cpus:1")])),
        Err(OperatorError::Invalid(
            "Updating quota on nested role 'eng/web' is not supported yet".to_string()
        ))
    );
    let Err(OperatorError::Invalid(m)) = call(&mut f, update(vec![quota("web", "cpus:3", "")]))
    else {
        panic!("overcommit is refused");
    };
    assert!(
        m.ends_with("(use 'force' flag to bypass this check)"),
        "{m}"
    );
    // A limit below what a guarantee would need: what edge operators use to cap a role.
    assert_eq!(
        call(
            &mut f,
            update(vec![quota("web", "cpus:0.5", "cpus:1;mem:256")])
        ),
        Ok(())
    );
    let q = f.m.allocator.quota(&Role::from("web")).unwrap();
    assert_eq!(
        (q.guarantee, q.limit),
        (&res("cpus:0.5"), &res("cpus:1;mem:256"))
    );

    // A master restarted over the same registry gives the allocator the quota again.
    let registry = f.m.registry().clone();
    let cfg = f.m.config().clone();
    f.m = Master::new(cfg, registry, f.now, wall());
    assert!(f.m.allocator.quota(&Role::from("web")).is_none());
    f.m.handle_leadership(f.now, wall(), Leadership::BecameLeader);
    f.pump();
    let q = f.m.allocator.quota(&Role::from("web")).unwrap();
    assert_eq!(
        (q.guarantee, q.limit),
        (&res("cpus:0.5"), &res("cpus:1;mem:256"))
    );
    // The default quota removes it.
    assert_eq!(call(&mut f, update(vec![quota("web", "", "")])), Ok(()));
    assert!(f.m.quotas().is_empty());
    assert!(f.m.allocator.quota(&Role::from("web")).is_none());
}
