//! `mesos.v1.quota` and the operator calls that carry it: `QuotaInfo` and `QuotaRequest`
//! (Mesos 1.5 SET_QUOTA, GET_QUOTA, `/quota`), `QuotaConfig` (Mesos 1.9 UPDATE_QUOTA, whose
//! guarantees and limits are maps from a resource name to a `Value.Scalar`), `QuotaStatus`.

use super::common::{Resource, Scalar};
use super::wire::null_default;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `quota.QuotaInfo`: a role's guarantee as Mesos 1.5 shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub guarantee: Vec<Resource>,
}

/// `quota.QuotaRequest`: SET_QUOTA's and `POST /quota`'s body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub guarantee: Vec<Resource>,
}

/// `quota.QuotaConfig` (Mesos 1.9): guarantees and limits by resource name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaConfig {
    pub role: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub guarantees: BTreeMap<String, Scalar>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub limits: BTreeMap<String, Scalar>,
}

/// `quota.QuotaStatus`: GET_QUOTA's answer and `GET /quota`'s body; `infos` (Mesos 1.5) and
/// `configs` (Mesos 1.9) list the same quotas.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaStatus {
    #[serde(default, deserialize_with = "null_default")]
    pub infos: Vec<QuotaInfo>,
    #[serde(default, deserialize_with = "null_default")]
    pub configs: Vec<QuotaConfig>,
}

/// `master.Call.SetQuota`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetQuota {
    pub quota_request: QuotaRequest,
}

/// `master.Call.RemoveQuota`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RemoveQuota {
    pub role: String,
}

/// `master.Call.UpdateQuota` (Mesos 1.9).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateQuota {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    #[serde(default, deserialize_with = "null_default")]
    pub quota_configs: Vec<QuotaConfig>,
}

/// `master.Response.GetQuota`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetQuota {
    pub status: QuotaStatus,
}
