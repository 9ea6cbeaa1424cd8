//! VPC subnets: NSX serves a subnet's addresses on its enforcement point at
//! `<subnet>/status` (`VpcSubnetStatusListResult`), which nsx-operator reads before it
//! reports a subnet ready (it requeues while there is no result with both a
//! `network_address` and a `gateway_address`, each with its prefix length), and its ports'
//! state at `<subnet>/ports/{id}/state`, as a segment port's ([`ports`]). Both are read from
//! the same realization as their realized entities (the README's "Realized state").

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use uuid::Uuid;

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

/// The VPC subnet's own operations (`operations.toml`, in the core's table's format).
static OPERATIONS: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

static SCHEMAS: Schemas = Schemas::new(include_str!("schemas.json"));

/// Where a subnet that names no addresses gets them: an RFC 1918 block, as NSX carves a
/// subnet out of its VPC's private blocks.
const CARVED_FROM: &str = "172.16.0.0/12";

/// How many addresses such a subnet has where it does not say (NSX's `ipv4_subnet_size`
/// default).
const DEFAULT_SIZE: u64 = 64;

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

/// The networks of `subnet`: those of its `ip_addresses`, or one of its
/// `ipv4_subnet_size` carved for it out of [`CARVED_FROM`] (the same every time).
fn networks(subnet: &PolicyObject) -> Vec<Cidr> {
    let members = subnet.config.members();
    let given: Vec<Cidr> = members
        .get("ip_addresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|address| Cidr::parse(address.as_str()?))
        .map(Cidr::network)
        .collect();
    if !given.is_empty() {
        return given;
    }
    let size = members
        .get("ipv4_subnet_size")
        .and_then(Value::as_u64)
        .filter(|size| size.is_power_of_two() && *size >= 4)
        .unwrap_or(DEFAULT_SIZE);
    carved(subnet, size).into_iter().collect()
}

/// A network of `size` addresses in [`CARVED_FROM`], chosen by the subnet's path.
fn carved(subnet: &PolicyObject, size: u64) -> Option<Cidr> {
    let block = Cidr::parse(CARVED_FROM)?;
    let prefix = 32 - size.trailing_zeros();
    let slots = 1u128 << (prefix - 12);
    let slot =
        Uuid::new_v5(&Uuid::NAMESPACE_URL, subnet.path.as_str().as_bytes()).as_u128() % slots;
    block
        .host(slot * u128::from(size))?
        .with_prefix(prefix as u8)
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
