//! Maintenance on the master's APIs: UPDATE_MAINTENANCE_SCHEDULE, GET_MAINTENANCE_SCHEDULE,
//! GET_MAINTENANCE_STATUS, START_MAINTENANCE and STOP_MAINTENANCE on `/api/v1`, the legacy
//! `/maintenance/schedule`, `/maintenance/status`, `/machine/down` and `/machine/up`, and the
//! JSON of inverse offers. The checks, the registry writes and the inverse offers are core's.

use super::master::durable_answer;
use crate::http::{self, Body};
use crate::master_driver::MasterDriver;
use crate::v1::maintenance::{
    ClusterStatus, DrainingMachine, GetMaintenanceSchedule, GetMaintenanceStatus, InverseOffer,
    InverseOfferStatus, InverseOfferStatusKind, MachineId, Schedule, Unavailability,
};
use crate::v1::operator::{Call, CallType, Response as V1Response};
use crate::v1::scheduler::{Event, EventType, InverseOffers, RescindInverseOffer};
use crate::v1::{self, from_json, to_ascii_json};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use mesolite_core::ids::OfferId;
use mesolite_core::master::{InverseOfferAnswer, InverseOfferRecord, Master, OperatorCall, Phase};
use mesolite_core::registry::{self, MachineMode};
use mesolite_core::wire::AgentInfo;

/// GET_MAINTENANCE_STATUS's `status` (and `GET /maintenance/status`).
pub fn status(m: &Master) -> ClusterStatus {
    let s = m.maintenance_status();
    ClusterStatus {
        draining_machines: s
            .draining
            .iter()
            .map(|(id, statuses)| DrainingMachine {
                id: MachineId::from(id),
                statuses: statuses
                    .iter()
                    .map(|st| InverseOfferStatus {
                        status: match st.status {
                            InverseOfferAnswer::Unknown => InverseOfferStatusKind::Unknown,
                            InverseOfferAnswer::Accept => InverseOfferStatusKind::Accept,
                            InverseOfferAnswer::Decline => InverseOfferStatusKind::Decline,
                        },
                        framework_id: v1::FrameworkId::new(st.framework_id.as_str()),
                        timestamp: v1::TimeInfo {
                            nanoseconds: i64::try_from(st.timestamp.unix_nanos).unwrap_or(i64::MAX),
                        },
                    })
                    .collect(),
            })
            .collect(),
        down_machines: s.down.iter().map(MachineId::from).collect(),
    }
}

/// The unavailability an offer from this agent carries: its machine's, while DRAINING.
pub fn unavailability(m: &Master, info: &AgentInfo) -> Option<Unavailability> {
    m.registry()
        .maintenance
        .iter()
        .find(|r| r.mode == MachineMode::Draining && r.id.is_agent(&info.hostname, &info.ip))
        .map(|r| r.unavailability.into())
}

/// The `INVERSE_OFFERS` event.
pub fn inverse_offers(m: &Master, offers: &[InverseOfferRecord]) -> Event {
    let inverse_offers = offers
        .iter()
        .map(|o| InverseOffer {
            id: v1::OfferId::new(o.id.as_str()),
            url: m.agent_info(&o.agent_id).map(|i| v1::Url {
                scheme: "http".into(),
                address: v1::Address {
                    hostname: Some(i.hostname.clone()),
                    ip: Some(i.ip.clone()),
                    port: i32::from(i.port),
                },
                path: Some("/slave(1)".into()),
                query: Vec::new(),
                fragment: None,
            }),
            framework_id: v1::FrameworkId::new(o.framework_id.as_str()),
            agent_id: Some(v1::AgentId::new(o.agent_id.as_str())),
            unavailability: o.unavailability.into(),
            resources: Vec::new(),
        })
        .collect();
    Event {
        kind: Some(EventType::InverseOffers),
        inverse_offers: Some(InverseOffers { inverse_offers }),
        ..Event::default()
    }
}

/// The `RESCIND_INVERSE_OFFER` event.
pub fn rescind_inverse_offer(id: &OfferId) -> Event {
    Event {
        kind: Some(EventType::RescindInverseOffer),
        rescind_inverse_offer: Some(RescindInverseOffer {
            inverse_offer_id: v1::OfferId::new(id.as_str()),
        }),
        ..Event::default()
    }
}

fn machines(list: &[MachineId]) -> Vec<registry::MachineId> {
    list.iter().map(registry::MachineId::from).collect()
}

fn not_ready() -> Response<Body> {
    http::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Master has not finished recovery",
    )
}

/// The maintenance calls on `/api/v1`.
pub async fn call(d: &MasterDriver, kind: CallType, call: Call) -> Response<Body> {
    let missing = |field: &str| {
        http::error(
            StatusCode::BAD_REQUEST,
            format!("Expecting '{field}' to be present"),
        )
    };
    let op = match kind {
        CallType::UpdateMaintenanceSchedule => match call.update_maintenance_schedule {
            Some(u) => OperatorCall::UpdateMaintenanceSchedule(u.schedule.to_core()),
            None => return missing("update_maintenance_schedule"),
        },
        CallType::StartMaintenance => match call.start_maintenance {
            Some(s) => OperatorCall::StartMaintenance(machines(&s.machines)),
            None => return missing("start_maintenance"),
        },
        CallType::StopMaintenance => match call.stop_maintenance {
            Some(s) => OperatorCall::StopMaintenance(machines(&s.machines)),
            None => return missing("stop_maintenance"),
        },
        query => {
            let m = d.master.borrow();
            if m.phase() != Phase::Leading {
                return not_ready();
            }
            let resp = if query == CallType::GetMaintenanceStatus {
                V1Response {
                    kind: Some(query),
                    get_maintenance_status: Some(GetMaintenanceStatus { status: status(&m) }),
                    ..V1Response::default()
                }
            } else {
                V1Response {
                    kind: Some(query),
                    get_maintenance_schedule: Some(GetMaintenanceSchedule {
                        schedule: Schedule::from_core(&m.registry().maintenance_schedule()),
                    }),
                    ..V1Response::default()
                }
            };
            return http::json(StatusCode::OK, to_ascii_json(&resp));
        }
    };
    durable_answer(d.operator_call(op).await)
}

/// The legacy endpoints (path without the `/master` prefix): `GET`/`POST /maintenance/schedule`,
/// `GET /maintenance/status`, `POST /machine/down` and `POST /machine/up` with a JSON array of
/// machine ids.
pub async fn legacy(d: &MasterDriver, path: &str, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let bad = |e: String| http::error(StatusCode::BAD_REQUEST, e);
    let call = match (path, &parts.method) {
        ("/maintenance/schedule" | "/maintenance/status", &Method::GET) => {
            let m = d.master.borrow();
            if m.phase() != Phase::Leading {
                return not_ready();
            }
            let json = if path == "/maintenance/status" {
                to_ascii_json(&status(&m))
            } else {
                to_ascii_json(&Schedule::from_core(&m.registry().maintenance_schedule()))
            };
            return http::json(StatusCode::OK, json);
        }
        ("/maintenance/schedule", &Method::POST) => match from_json::<Schedule>(&body) {
            Ok(s) => OperatorCall::UpdateMaintenanceSchedule(s.to_core()),
            Err(e) => return bad(format!("Failed to parse the maintenance schedule: {e}")),
        },
        ("/machine/down" | "/machine/up", &Method::POST) => {
            // A bare JSON array, which `from_json` (objects only) does not take.
            let list: Vec<MachineId> = match serde_json::from_slice(&body) {
                Ok(l) => l,
                Err(e) => return bad(format!("Failed to parse the list of machines: {e}")),
            };
            if path == "/machine/down" {
                OperatorCall::StartMaintenance(machines(&list))
            } else {
                OperatorCall::StopMaintenance(machines(&list))
            }
        }
        ("/maintenance/status", _) => {
            return http::error(StatusCode::METHOD_NOT_ALLOWED, "Expecting 'GET'")
        }
        ("/maintenance/schedule", _) => {
            return http::error(StatusCode::METHOD_NOT_ALLOWED, "Expecting 'GET' or 'POST'")
        }
        _ => return http::error(StatusCode::METHOD_NOT_ALLOWED, "Expecting 'POST'"),
    };
    durable_answer(d.operator_call(call).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_messages_parse_and_print_as_mesos_writes_them() {
        // maintenance.proto: Schedule { repeated Window windows = 1; }, Window { repeated
        // MachineID machine_ids = 1; required Unavailability unavailability = 2; }
        let c: Call = from_json(
            br#"{"type":"UPDATE_MAINTENANCE_SCHEDULE","update_maintenance_schedule":{"schedule":
                {"windows":[{"machine_ids":[{"hostname":"a","ip":"10.0.0.1"},{"ip":"10.0.0.2"}],
                "unavailability":{"start":{"nanoseconds":5},"duration":{"nanoseconds":7}}}]}}}"#,
        )
        .unwrap();
        let core = c.update_maintenance_schedule.unwrap().schedule.to_core();
        assert_eq!(
            core[0].machines[1],
            registry::MachineId::new("", "10.0.0.2")
        );
        assert_eq!(core[0].unavailability.duration_nanos, Some(7));
        assert_eq!(
            to_ascii_json(&Schedule::from_core(&core)),
            r#"{"windows":[{"machine_ids":[{"hostname":"a","ip":"10.0.0.1"},{"ip":"10.0.0.2"}],"unavailability":{"start":{"nanoseconds":5},"duration":{"nanoseconds":7}}}]}"#
        );
        let c: Call = from_json(
            br#"{"type":"START_MAINTENANCE","start_maintenance":{"machines":[{"hostname":"a"}]}}"#,
        )
        .unwrap();
        assert_eq!(
            c.start_maintenance.unwrap().machines[0].hostname.as_deref(),
            Some("a")
        );
        let status = ClusterStatus {
            draining_machines: vec![DrainingMachine {
                id: MachineId::from(&registry::MachineId::new("a", "")),
                statuses: vec![InverseOfferStatus {
                    status: InverseOfferStatusKind::Decline,
                    framework_id: v1::FrameworkId::new("f"),
                    timestamp: v1::TimeInfo { nanoseconds: 1 },
                }],
            }],
            down_machines: Vec::new(),
        };
        assert_eq!(
            to_ascii_json(&status),
            r#"{"draining_machines":[{"id":{"hostname":"a"},"statuses":[{"status":"DECLINE","framework_id":{"value":"f"},"timestamp":{"nanoseconds":1}}]}]}"#
        );
    }
}
