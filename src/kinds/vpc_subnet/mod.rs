//! VPC subnets: NSX gives each subnet its networks (those of its `ip_addresses`, or one
//! carved out for it, [`networks`]) and creates its static IP pool with it
//! (`<subnet>/ip-pools/static-ipv4-default`, which nsx-operator reads for a subnet's
//! capacity), and serves the subnet's status and its ports' state ([`status`]).

pub mod status;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::domain::catalog::catalog;
use crate::domain::cidr::Cidr;
use crate::domain::kind::{Companion, Kind};
use crate::domain::relations::shipped_with;
use crate::domain::{Applied, ObjectPath, Operation, PolicyObject};

pub use status::{operations, schema};

/// The type of this kind.
pub const RESOURCE_TYPE: &str = "VpcSubnet";

/// Where a subnet that names no addresses gets them: an RFC 1918 block, as NSX carves a
/// subnet out of its VPC's private blocks.
const CARVED_FROM: &str = "172.16.0.0/12";

/// How many addresses such a subnet has where it does not say (NSX's `ipv4_subnet_size`
/// default).
const DEFAULT_SIZE: u64 = 64;

/// The id of the static IP pool NSX creates with a subnet.
const STATIC_POOL: &str = "static-ipv4-default";

/// The VPC subnet kind.
pub struct VpcSubnets;

impl Kind for VpcSubnets {
    fn has_companions(&self) -> bool {
        true
    }

    /// The subnet's static IP pool, created with it (its `pool_usage` counting the
    /// addresses of its IPv4 network but the network's, the gateway's, the DHCP server's and
    /// the broadcast address) and deleted with it.
    fn companions(&self, applied: &Applied) -> Vec<Companion> {
        let subnet = &applied.object;
        let Ok(path) = ObjectPath::from_stored(&format!("{}/ip-pools/{STATIC_POOL}", subnet.path))
        else {
            return Vec::new();
        };
        match applied.operation {
            Operation::Create => {
                let total = networks(subnet)
                    .into_iter()
                    .find(|network| network.is_ipv4())
                    .map_or(0, |network| network.size().saturating_sub(4));
                let mut members = Map::new();
                members.insert("display_name".into(), Value::from(STATIC_POOL));
                members.insert(
                    "pool_usage".into(),
                    json!({"total_ips": total, "available_ips": total,
                        "allocated_ip_allocations": 0, "requested_ip_allocations": 0}),
                );
                let resource_type = catalog().route(path.route()).object_type;
                // Its own unique id, the same for the same subnet.
                let unique_id = Uuid::new_v5(&subnet.meta.unique_id, path.as_str().as_bytes());
                let now = subnet.meta.create_time;
                vec![Companion::Create(shipped_with(
                    path,
                    resource_type,
                    members,
                    now,
                    unique_id,
                ))]
            }
            Operation::Delete => vec![Companion::Delete(path)],
            Operation::Replace | Operation::Patch => Vec::new(),
        }
    }
}

/// The networks of `subnet`: those of its `ip_addresses`, or one of its
/// `ipv4_subnet_size` carved for it out of [`CARVED_FROM`] (the same every time).
pub fn networks(subnet: &PolicyObject) -> Vec<Cidr> {
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
