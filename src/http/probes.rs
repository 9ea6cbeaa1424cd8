//! What NSX clients probe when they connect (the README's "Connecting clients"):
//! terraform-provider-nsxt reads `node_version` from `/api/v1/node/version`; OpenStack's
//! `vmware-nsxlib` reads it from `/api/v1/node`, and like nsx-operator checks
//! `/api/v1/reverse-proxy/node/health` before anything else; nsx-operator checks its
//! license's features (`/api/v1/licenses/licensed-features`), whether the manager was
//! restored (`/api/v1/cluster/restore/status`) and its MAC pools (`/api/v1/pools/mac-pools`);
//! terraform-provider-nsxt reads the licenses (`/api/v1/licenses`) when it is given keys.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::auth::Reader;
use super::responses::json_response;

/// What the node says about itself: `nsx.version`, and the machine's host name.
#[derive(Debug, Clone, Serialize)]
pub struct NodeInfo {
    pub node_version: String,
    pub product_version: String,
    pub hostname: String,
}

impl NodeInfo {
    pub fn new(version: &str) -> Self {
        Self {
            node_version: version.to_owned(),
            product_version: version.to_owned(),
            hostname: host_name(),
        }
    }
}

/// `GET /api/v1/node/version`.
pub async fn version(_: Reader, node: web::Data<NodeInfo>) -> HttpResponse {
    #[derive(Serialize)]
    struct Version<'a> {
        node_version: &'a str,
        product_version: &'a str,
    }
    json_response(&Version {
        node_version: &node.node_version,
        product_version: &node.product_version,
    })
}

/// `GET /api/v1/node`.
pub async fn node(_: Reader, node: web::Data<NodeInfo>) -> HttpResponse {
    json_response(node.get_ref())
}

/// `GET /api/v1/reverse-proxy/node/health`: the store answers, so it is healthy.
pub async fn health(_: Reader) -> HttpResponse {
    json_response(&serde_json::json!({"healthy": true}))
}

/// The features a store's license grants: those clients check before they start
/// (nsx-operator's `FetchLicense` exits without `CONTAINER_NETWORKING`, or `CONTAINER` on
/// older NSX; it asks `DFW`, and `VPC_SECURITY` in VPC mode). Every one is granted.
const LICENSED_FEATURES: [&str; 4] = ["CONTAINER_NETWORKING", "CONTAINER", "DFW", "VPC_SECURITY"];

/// `GET /api/v1/licenses/licensed-features`.
pub async fn licensed_features(_: Reader) -> HttpResponse {
    let results: Vec<_> = LICENSED_FEATURES
        .iter()
        .map(|name| serde_json::json!({"feature_name": name, "is_licensed": true}))
        .collect();
    json_response(&serde_json::json!({"result_count": results.len(), "results": results}))
}

/// `GET /api/v1/licenses`: the license the store runs under, one that grants every feature
/// and never expires (terraform-provider-nsxt reads `license_key` and `description`).
pub async fn licenses(_: Reader) -> HttpResponse {
    let license = serde_json::json!({
        "license_key": "NSXPS-STORE-00000-00000-00000",
        "description": "NSX Enterprise Plus (nsx-policy-store)",
        "product_name": "VMware NSX",
        "features": LICENSED_FEATURES.join(";"),
        "is_eval": false,
        "is_expired": false,
        "expiry": 0,
        "capacity_type": "CPU",
        "quantity": 0,
    });
    json_response(&serde_json::json!({"result_count": 1, "results": [license]}))
}

/// `GET /api/v1/cluster/restore/status`: a manager never restored from a backup, `INITIAL`
/// (nsx-operator reads `status.value` in VPC mode, and exits on any other but `SUCCESS`).
pub async fn restore_status(_: Reader) -> HttpResponse {
    json_response(&serde_json::json!({
        "status": {"value": "INITIAL", "description": ""},
        "restore_start_time": 0,
        "restore_end_time": 0,
        "backup_timestamp": 0,
        "total_steps": 0,
        "step": {},
        "endpoints": [],
        "instructions": [],
    }))
}

/// `GET /api/v1/pools/mac-pools`: the MAC pool NSX ships, `DefaultMacPool` (Terraform's
/// tests' default name; nsx-operator looks for `DefaultContainersMacPool` and goes on
/// without it, but fails on an error).
pub async fn mac_pools(_: Reader) -> HttpResponse {
    let pool = serde_json::json!({
        "resource_type": "MacPool",
        "id": "1ca6c7ae-5b04-4ab3-9e2e-7b6d4c0c7e01",
        "display_name": "DefaultMacPool",
        "description": "Default MAC pool",
        "ranges": [{"start": "00:50:56:80:00:00", "end": "00:50:56:bf:ff:ff"}],
        "_system_owned": true,
        "_create_user": "system",
        "_revision": 0,
    });
    json_response(&serde_json::json!({"result_count": 1, "results": [pool]}))
}

/// The machine's name, as `GET /api/v1/node` reports it.
fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}
