//! Quota on the master's operator APIs: GET_QUOTA, SET_QUOTA, REMOVE_QUOTA and Mesos 1.9's
//! UPDATE_QUOTA on `/api/v1`, and the legacy `/quota` endpoint (`GET` the status, `POST` a
//! `QuotaRequest`, `DELETE /quota/<role>`). The checks and the registry write are core's.

use super::master::durable_answer;
use crate::convert::{self, resources_to_v1};
use crate::http::{self, Body};
use crate::master_driver::MasterDriver;
use crate::v1::quota::{
    QuotaConfig, QuotaInfo, QuotaRequest, QuotaStatus, RemoveQuota, SetQuota, UpdateQuota,
};
use crate::v1::{from_json, to_ascii_json, Scalar};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use mesolite_core::ids::Role;
use mesolite_core::master::{Master, OperatorCall};
use mesolite_core::registry::QuotaRecord;
use mesolite_core::resources::{Fixed, Resource, Resources};
use std::collections::BTreeMap;

/// GET_QUOTA's status: every quota as Mesos 1.5's `infos` (its guarantee) and as Mesos 1.9's
/// `configs` (guarantees and limits).
pub fn status(m: &Master) -> QuotaStatus {
    let mut status = QuotaStatus::default();
    for q in m.quotas() {
        status.infos.push(QuotaInfo {
            role: Some(q.role.to_string()),
            principal: None,
            guarantee: resources_to_v1(&q.guarantees, None),
        });
        status.configs.push(QuotaConfig {
            role: q.role.to_string(),
            guarantees: scalar_map(&q.guarantees),
            limits: scalar_map(&q.limits),
        });
    }
    status
}

fn scalar_map(r: &Resources) -> BTreeMap<String, Scalar> {
    r.iter()
        .filter_map(|r| {
            let value = r.scalar_value()?.as_f64();
            Some((r.name.to_string(), Scalar { value }))
        })
        .collect()
}

/// Plain scalars from a `QuotaConfig` map; a bad name or amount is a one-line reason.
fn scalars_from_map(map: &BTreeMap<String, Scalar>, what: &str) -> Result<Resources, String> {
    let mut out = Resources::new();
    for (name, scalar) in map {
        let amount = Fixed::from_f64(scalar.value)
            .filter(|_| scalar.value >= 0.0)
            .ok_or_else(|| format!("Invalid QuotaConfig: {what} '{name}' is not a valid amount"))?;
        let r = Resource::scalar(name, amount)
            .map_err(|e| format!("Invalid QuotaConfig: {what}: {e}"))?;
        out.add(&r)
            .map_err(|e| format!("Invalid QuotaConfig: {what}: {e}"))?;
    }
    Ok(out)
}

/// The SET_QUOTA call for a `QuotaRequest` (v1 call or `POST /quota` body).
fn set_call(req: QuotaRequest) -> Result<OperatorCall, String> {
    let role = req
        .role
        .filter(|r| !r.is_empty())
        .ok_or("Failed to validate set quota request: QuotaInfo must specify a role")?;
    let guarantee = convert::resources_from_v1(&req.guarantee).map_err(|e| {
        format!("Failed to validate set quota request: QuotaInfo with invalid resource: {e}")
    })?;
    Ok(OperatorCall::SetQuota {
        role: Role::new(role),
        guarantee,
        force: req.force.unwrap_or(false),
    })
}

/// SET_QUOTA on `/api/v1`.
pub async fn set_quota(d: &MasterDriver, body: Option<SetQuota>) -> Response<Body> {
    let Some(body) = body else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Expecting 'set_quota' to be present",
        );
    };
    match set_call(body.quota_request) {
        Ok(call) => durable_answer(d.operator_call(call).await),
        Err(why) => http::error(StatusCode::BAD_REQUEST, why),
    }
}

/// REMOVE_QUOTA on `/api/v1`.
pub async fn remove_quota(d: &MasterDriver, body: Option<RemoveQuota>) -> Response<Body> {
    let Some(body) = body else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Expecting 'remove_quota' to be present",
        );
    };
    durable_answer(
        d.operator_call(OperatorCall::RemoveQuota(Role::new(body.role)))
            .await,
    )
}

/// UPDATE_QUOTA (Mesos 1.9) on `/api/v1`.
pub async fn update_quota(d: &MasterDriver, body: Option<UpdateQuota>) -> Response<Body> {
    let Some(body) = body else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "Expecting 'update_quota' to be present",
        );
    };
    let mut quotas = Vec::with_capacity(body.quota_configs.len());
    for c in &body.quota_configs {
        let record = scalars_from_map(&c.guarantees, "guarantees").and_then(|guarantees| {
            Ok(QuotaRecord {
                role: Role::new(c.role.clone()),
                guarantees,
                limits: scalars_from_map(&c.limits, "limits")?,
            })
        });
        match record {
            Ok(r) => quotas.push(r),
            Err(why) => return http::error(StatusCode::BAD_REQUEST, why),
        }
    }
    let call = OperatorCall::UpdateQuota {
        quotas,
        force: body.force.unwrap_or(false),
    };
    durable_answer(d.operator_call(call).await)
}

/// The legacy `/quota` endpoint (path without the `/master` prefix): `GET /quota`,
/// `POST /quota` with a `QuotaRequest`, `DELETE /quota/<role>`.
pub async fn legacy(d: &MasterDriver, path: &str, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = match http::read_body(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let role = path.strip_prefix("/quota/").filter(|r| !r.is_empty());
    match (&parts.method, role) {
        (&Method::GET, None) => {
            let m = d.master.borrow();
            if m.phase() != mesolite_core::master::Phase::Leading {
                return http::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Master has not finished recovery",
                );
            }
            http::json(StatusCode::OK, to_ascii_json(&status(&m)))
        }
        (&Method::POST, None) => {
            let request: QuotaRequest = match from_json(&body) {
                Ok(r) => r,
                Err(e) => {
                    return http::error(
                        StatusCode::BAD_REQUEST,
                        format!("Failed to parse set quota request JSON: {e}"),
                    )
                }
            };
            match set_call(request) {
                Ok(call) => durable_answer(d.operator_call(call).await),
                Err(why) => http::error(StatusCode::BAD_REQUEST, why),
            }
        }
        (&Method::DELETE, Some(role)) => {
            durable_answer(
                d.operator_call(OperatorCall::RemoveQuota(Role::new(role)))
                    .await,
            )
        }
        (&Method::DELETE, None) => http::error(
            StatusCode::BAD_REQUEST,
            format!("Failed to parse remove quota request for path '/master{path}': expected 3 tokens, found 2 tokens"),
        ),
        _ => http::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Expecting 'GET', 'POST' or 'DELETE', got another method",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_calls_parse_as_mesos_writes_them() {
        // include/mesos/v1/master/master.proto: Call.SetQuota { required quota.QuotaRequest
        // quota_request = 1; }; quota.proto: QuotaRequest { optional bool force = 1;
        // optional string role = 2; repeated Resource guarantee = 3; }
        let c: crate::v1::operator::Call = from_json(
            br#"{"type":"SET_QUOTA","set_quota":{"quota_request":{"force":true,"role":"web",
                "guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]}}}"#,
        )
        .unwrap();
        let Ok(OperatorCall::SetQuota {
            role,
            guarantee,
            force,
        }) = set_call(c.set_quota.unwrap().quota_request)
        else {
            panic!("a SET_QUOTA call");
        };
        assert_eq!((role.as_str(), force), ("web", true));
        assert_eq!(guarantee, Resources::parse("cpus:2").unwrap());
        // Call.UpdateQuota { optional bool force = 1; repeated quota.QuotaConfig quota_configs = 2; }
        // QuotaConfig { required string role = 1; map<string, Value.Scalar> guarantees = 2;
        // map<string, Value.Scalar> limits = 3; }
        let c: crate::v1::operator::Call = from_json(
            br#"{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"web",
                "guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":4},"mem":{"value":512}}}]}}"#,
        )
        .unwrap();
        let u = c.update_quota.unwrap();
        let limits = scalars_from_map(&u.quota_configs[0].limits, "limits").unwrap();
        assert_eq!(limits, Resources::parse("cpus:4;mem:512").unwrap());
        let bad = BTreeMap::from([("cpus".to_string(), Scalar { value: -1.0 })]);
        assert!(scalars_from_map(&bad, "limits").is_err());
        let c: crate::v1::operator::Call =
            from_json(br#"{"type":"REMOVE_QUOTA","remove_quota":{"role":"web"}}"#).unwrap();
        assert_eq!(c.remove_quota.unwrap().role, "web");
    }
}
