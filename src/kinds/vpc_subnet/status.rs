//! A VPC subnet's status and its ports' state on the enforcement point, which NSX serves
//! beside their CRUD: `<subnet>/status` (`VpcSubnetStatusListResult`), which nsx-operator
//! reads before it reports a subnet ready (it requeues while there is no result with both a
//! `network_address` and a `gateway_address`, each with its prefix length), and
//! `<subnet>/ports/{id}/state`, as a segment port's ([`ports`]). Both are read from the same
//! realization as their realized entities (the README's "Realized state").

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use crate::domain::cidr::Cidr;
use crate::domain::realization::{Realization, RealizedState};
use crate::domain::PolicyObject;
use crate::http::auth::Reader;
use crate::http::openapi::schemas::Schemas;
use crate::http::operation::{Operation, Table};
use crate::http::operations::CORE;
use crate::http::realization::sub_resource_answer;
use crate::http::ApiError;
use crate::kinds::segment::ports;

use super::networks;

/// The VPC subnet's own operations (`operations.toml`, in the core's table's format).
static OPERATIONS: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

static SCHEMAS: Schemas = Schemas::new(include_str!("schemas.json"));

/// The VPC subnet's own operations: its status ([`status`]) and its ports' state.
pub fn operations() -> Vec<Operation> {
    OPERATIONS.operations(|id| match id {
        "ListVpcSubnetStatus" => Some(web::route().to(status)),
        "ReadVpcSubnetPortState" => Some(web::route().to(ports::state)),
        _ => None,
    })
}

/// The schema of a VPC subnet's answer named `name`; `None` for another name.
pub fn schema(name: &str) -> Option<Value> {
    SCHEMAS.get(name)
}

/// `GET <subnet>/status`: the subnet's `VpcSubnetStatusListResult`.
pub async fn status(
    _: Reader,
    store: web::Data<dyn crate::storage::Store>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    sub_resource_answer(&store, &req, subnet_status).await
}

/// The `VpcSubnetStatusListResult` of `subnet`, realized as `realization` says: once it is
/// realized, one result for each network of its `ip_addresses` (or the one carved for it),
/// its gateway the network's first address and its DHCP server's the second, each with the
/// prefix length; none while it is not.
fn subnet_status(subnet: &PolicyObject, realization: &Realization) -> Value {
    let members = subnet.config.members();
    let results: Vec<Value> = match realization.state {
        RealizedState::Realized => networks(subnet)
            .into_iter()
            .map(|network| network_status(subnet, members, network))
            .collect(),
        _ => Vec::new(),
    };
    json!({
        "result_count": results.len(),
        "results": results,
        "status": realization.state.consolidated(),
    })
}

/// One network's `VpcSubnetStatus`.
fn network_status(subnet: &PolicyObject, members: &Map<String, Value>, network: Cidr) -> Value {
    let dhcp_server = members
        .get("subnet_dhcp_config")
        .and_then(|dhcp| dhcp.get("mode"))
        .and_then(Value::as_str)
        == Some("DHCP_SERVER");
    let mut status = json!({
        "network_address": network.to_string(),
        "gateway_address": network.host(1).map(|gateway| gateway.to_string()),
        "ip_address_type": if network.is_ipv4() { "IPV4" } else { "IPV6" },
    });
    if network.is_ipv4() {
        status["static_ip_pool_path"] =
            json!(format!("{}/ip-pools/static-ipv4-default", subnet.path));
    }
    if dhcp_server {
        status["dhcp_server_address"] = json!(network.host(2).map(|server| server.to_string()));
    }
    status
}
