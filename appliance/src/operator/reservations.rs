//! The operator's reservations and volumes on `/api/v1`: RESERVE_RESOURCES,
//! UNRESERVE_RESOURCES, CREATE_VOLUMES and DESTROY_VOLUMES, answered `202 Accepted` once the
//! master applied the operation (and told the agent), as Mesos does; the checks are core's.

use super::master::durable_answer;
use crate::convert::operation_resources;
use crate::http::{self, Body};
use crate::master_driver::MasterDriver;
use crate::v1::operator::{AgentResources, AgentVolumes, CallType};
use hyper::{Response, StatusCode};
use mesolite_core::ids::AgentId;
use mesolite_core::resources::operations::ResourceOperation;
use mesolite_core::resources::Resources;

/// One of the four calls: its agent and resources from the body, then the master's verdict.
pub fn call(
    d: &MasterDriver,
    kind: CallType,
    resources: Option<&AgentResources>,
    volumes: Option<&AgentVolumes>,
) -> Response<Body> {
    let parsed = match (kind, resources, volumes) {
        (CallType::ReserveResources | CallType::UnreserveResources, Some(r), _) => {
            operation_resources(&r.resources).map(|res| (&r.agent_id, res))
        }
        (CallType::CreateVolumes | CallType::DestroyVolumes, _, Some(v)) => {
            operation_resources(&v.volumes).map(|res| (&v.agent_id, res))
        }
        _ => {
            let field = match kind {
                CallType::ReserveResources => "reserve_resources",
                CallType::UnreserveResources => "unreserve_resources",
                CallType::CreateVolumes => "create_volumes",
                _ => "destroy_volumes",
            };
            return http::error(
                StatusCode::BAD_REQUEST,
                format!("Expecting '{field}' to be present"),
            );
        }
    };
    let (agent_id, resources) = match parsed {
        Ok(x) => x,
        Err(why) => return http::error(StatusCode::BAD_REQUEST, why),
    };
    if let Err(e) = mesolite_core::ids::validate_id("agent_id", &agent_id.value) {
        return http::error(StatusCode::BAD_REQUEST, e.to_string());
    }
    let op = operation(kind, resources);
    let result = d.master.borrow_mut().handle_resource_operation(
        &AgentId::new(agent_id.value.clone()),
        None,
        op,
    );
    d.drain();
    match result {
        Ok(()) => http::empty(StatusCode::ACCEPTED),
        Err(e) => durable_answer(Err(e)),
    }
}

fn operation(kind: CallType, resources: Resources) -> ResourceOperation {
    match kind {
        CallType::ReserveResources => ResourceOperation::Reserve(resources),
        CallType::UnreserveResources => ResourceOperation::Unreserve(resources),
        CallType::CreateVolumes => ResourceOperation::Create(resources),
        _ => ResourceOperation::Destroy(resources),
    }
}
