//! Scheduler calls from v1 JSON into core's calls: SUBSCRIBE's FrameworkInfo validated, and
//! every other call with its operations (LAUNCH, LAUNCH_GROUP, RESERVE, UNRESERVE, CREATE,
//! DESTROY), filters and roles.

use super::*;

fn refuse_from(filters: &Option<v1::Filters>) -> Option<Duration> {
    // Negative or invalid values mean the default (Mesos); the allocator clamps huge ones.
    filters
        .as_ref()
        .map(|f| Duration::try_from_secs_f64(f.refuse_seconds).unwrap_or(Duration::from_secs(5)))
}

/// The `roles` of a REVIVE or SUPPRESS (absent: all of the framework's roles).
fn roles_from(r: &Option<v1::scheduler::Roles>) -> Vec<ids::Role> {
    r.as_ref()
        .map(|r| r.roles.iter().map(|n| ids::Role::new(n.clone())).collect())
        .unwrap_or_default()
}

fn offer_ids(ids_in: &[v1::OfferId]) -> Vec<ids::OfferId> {
    ids_in
        .iter()
        .map(|o| ids::OfferId::new(o.value.clone()))
        .collect()
}

/// FrameworkInfo of a SUBSCRIBE, validated.
pub fn framework_from_v1(f: &v1::FrameworkInfo) -> Result<FrameworkSpec, String> {
    use v1::FrameworkCapabilityType as C;
    let capabilities = FrameworkCapabilities {
        partition_aware: f.has_capability(C::PartitionAware),
        task_killing_state: f.has_capability(C::TaskKillingState),
        multi_role: f.has_capability(C::MultiRole),
        reservation_refinement: f.has_capability(C::ReservationRefinement),
        shared_resources: f.has_capability(C::SharedResources),
    };
    if capabilities.multi_role && f.role.is_some() {
        return Err(String::from(
            "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable",
        ));
    }
    if !capabilities.multi_role && !f.roles.is_empty() {
        return Err(String::from(
            "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable",
        ));
    }
    let max = mesolite_core::master::MAX_ROLES_PER_FRAMEWORK;
    if f.roles.len() > max {
        return Err(format!(
            "'FrameworkInfo.roles' names {} roles; mesolite allows at most {max} per framework",
            f.roles.len()
        ));
    }
    for (i, role) in f.roles.iter().enumerate() {
        mesolite_core::resources::validate_role(role)
            .map_err(|e| format!("framework_info.roles '{role}': {e}"))?;
        if f.roles[..i].contains(role) {
            return Err(format!(
                "'FrameworkInfo.roles' contains duplicate role '{role}'"
            ));
        }
    }
    let role = f
        .roles
        .first()
        .cloned()
        .or_else(|| f.role.clone())
        .unwrap_or_else(|| "*".into());
    mesolite_core::resources::validate_role(&role)
        .map_err(|e| format!("framework_info.role '{role}': {e}"))?;
    if let Some(id) = &f.id {
        validate_id("framework_info.id", &id.value).map_err(|e| e.to_string())?;
    }
    let failover_timeout = Duration::try_from_secs_f64(f.failover_timeout).ok_or_else(|| {
        format!(
            "framework_info.failover_timeout {} is not a non-negative number",
            f.failover_timeout
        )
    })?;
    Ok(FrameworkSpec {
        id: f
            .id
            .as_ref()
            .map(|i| ids::FrameworkId::new(i.value.clone())),
        name: f.name.clone(),
        user: f.user.clone(),
        role: ids::Role::new(role),
        failover_timeout,
        checkpoint: f.checkpoint,
        hostname: f.hostname.clone(),
        principal: f.principal.clone(),
        capabilities,
        roles: f.roles.iter().map(|r| ids::Role::new(r.clone())).collect(),
    })
}

/// The resources of a RESERVE, UNRESERVE, CREATE or DESTROY as sent, `allocation_info`
/// included (validation checks it names one of the framework's roles).
pub fn operation_resources(list: &[v1::Resource]) -> Result<Resources, String> {
    v1::resources_from_v1(list).map_err(|e| format!("Invalid resources in operation: {e}"))
}

/// Why a scheduler call could not be turned into core's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallInputError {
    /// Malformed or invalid (400).
    Invalid(String),
    /// A call type mesolite does not implement yet (501).
    Unsupported(&'static str),
}

impl std::fmt::Display for CallInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallInputError::Invalid(m) => f.write_str(m),
            CallInputError::Unsupported(call) => {
                write!(f, "call {call} is not supported by mesolite yet")
            }
        }
    }
}

impl From<String> for CallInputError {
    fn from(m: String) -> Self {
        CallInputError::Invalid(m)
    }
}

/// A non-SUBSCRIBE scheduler call as core's call. `Ok(None)` for calls that need no action.
pub fn scheduler_call_from_v1(
    c: &v1::scheduler::Call,
) -> Result<Option<SchedulerCall>, CallInputError> {
    use v1::scheduler::CallType as T;
    fn need<'a, X>(x: &'a Option<X>, name: &str) -> Result<&'a X, String> {
        x.as_ref()
            .ok_or_else(|| format!("Missing required fields: {name}"))
    }
    let kind = c
        .kind
        .ok_or_else(|| String::from("Missing required fields: type"))?;
    Ok(Some(match kind {
        T::Teardown => SchedulerCall::Teardown,
        T::Accept => {
            let a = need(&c.accept, "accept")?;
            let mut operations = Vec::new();
            for op in &a.operations {
                operations.push(match op.kind {
                    Some(v1::OperationType::Launch) => {
                        let l = need(&op.launch, "launch")?;
                        Operation::Launch(l.task_infos.iter().map(task_from_v1).collect())
                    }
                    Some(v1::OperationType::LaunchGroup) => Operation::LaunchGroup(group_from_v1(
                        need(&op.launch_group, "launch_group")?,
                    )),
                    Some(v1::OperationType::Reserve) => {
                        let r = operation_resources(&need(&op.reserve, "reserve")?.resources)?;
                        Operation::Resource(ResourceOperation::Reserve(r))
                    }
                    Some(v1::OperationType::Unreserve) => {
                        let r = operation_resources(&need(&op.unreserve, "unreserve")?.resources)?;
                        Operation::Resource(ResourceOperation::Unreserve(r))
                    }
                    Some(v1::OperationType::Create) => {
                        let r = operation_resources(&need(&op.create, "create")?.volumes)?;
                        Operation::Resource(ResourceOperation::Create(r))
                    }
                    Some(v1::OperationType::Destroy) => {
                        let r = operation_resources(&need(&op.destroy, "destroy")?.volumes)?;
                        Operation::Resource(ResourceOperation::Destroy(r))
                    }
                    Some(other) => Operation::Unsupported(v1::WireEnum::wire_name(other)),
                    None => {
                        return Err(String::from("Missing required fields: operations.type").into())
                    }
                });
            }
            SchedulerCall::Accept {
                offer_ids: offer_ids(&a.offer_ids),
                operations,
                refuse: refuse_from(&a.filters),
            }
        }
        T::AcceptInverseOffers => {
            let a = need(&c.accept_inverse_offers, "accept_inverse_offers")?;
            SchedulerCall::AcceptInverseOffers {
                inverse_offer_ids: offer_ids(&a.inverse_offer_ids),
                refuse: refuse_from(&a.filters),
            }
        }
        T::DeclineInverseOffers => {
            let d = need(&c.decline_inverse_offers, "decline_inverse_offers")?;
            SchedulerCall::DeclineInverseOffers {
                inverse_offer_ids: offer_ids(&d.inverse_offer_ids),
                refuse: refuse_from(&d.filters),
            }
        }
        T::Decline => {
            let d = need(&c.decline, "decline")?;
            SchedulerCall::Decline {
                offer_ids: offer_ids(&d.offer_ids),
                refuse: refuse_from(&d.filters),
            }
        }
        T::Revive => SchedulerCall::Revive {
            roles: roles_from(&c.revive),
        },
        T::Suppress => SchedulerCall::Suppress {
            roles: roles_from(&c.suppress),
        },
        T::Shutdown => {
            let s = need(&c.shutdown, "shutdown")?;
            SchedulerCall::Shutdown {
                executor_id: ids::ExecutorId::new(s.executor_id.value.clone()),
                agent_id: ids::AgentId::new(s.agent_id.value.clone()),
            }
        }
        T::Message => {
            let m = need(&c.message, "message")?;
            SchedulerCall::Message {
                agent_id: ids::AgentId::new(m.agent_id.value.clone()),
                executor_id: ids::ExecutorId::new(m.executor_id.value.clone()),
                data: m.data.0.clone(),
            }
        }
        T::Kill => {
            let k = need(&c.kill, "kill")?;
            SchedulerCall::Kill {
                task_id: ids::TaskId::new(k.task_id.value.clone()),
                agent_id: k
                    .agent_id
                    .as_ref()
                    .map(|a| ids::AgentId::new(a.value.clone())),
            }
        }
        T::Acknowledge => {
            let a = need(&c.acknowledge, "acknowledge")?;
            SchedulerCall::Acknowledge {
                agent_id: ids::AgentId::new(a.agent_id.value.clone()),
                task_id: ids::TaskId::new(a.task_id.value.clone()),
                uuid: uuid16(&a.uuid, "acknowledge.uuid")?,
            }
        }
        T::Reconcile => {
            let r = need(&c.reconcile, "reconcile")?;
            SchedulerCall::Reconcile {
                tasks: r
                    .tasks
                    .iter()
                    .map(|t| {
                        (
                            ids::TaskId::new(t.task_id.value.clone()),
                            t.agent_id
                                .as_ref()
                                .map(|a| ids::AgentId::new(a.value.clone())),
                        )
                    })
                    .collect(),
            }
        }
        // The built-in allocator ignores requests, as Mesos' does.
        T::Request => return Ok(None),
        other => return Err(CallInputError::Unsupported(v1::WireEnum::wire_name(other))),
    }))
}
