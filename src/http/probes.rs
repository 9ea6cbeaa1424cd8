//! What NSX clients probe when they connect (the README's "Connecting clients"):
//! terraform-provider-nsxt reads `node_version` from `/api/v1/node/version`; OpenStack's
//! `vmware-nsxlib` reads it from `/api/v1/node`, and like nsx-operator checks
//! `/api/v1/reverse-proxy/node/health` before anything else; nsx-operator checks its
//! license's features (`/api/v1/licenses/licensed-features`).

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

/// The machine's name, as `GET /api/v1/node` reports it.
fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}
