//! A segment's subnets as NSX answers them: each one's `network` (read-only in the
//! bindings) is the network of its `gateway_address`, the address with its host bits
//! cleared (`10.1.2.1/24` is on `10.1.2.0/24`; `2001:db8::1/64` on `2001:db8::/64`).

use serde_json::{Map, Value};

use crate::domain::cidr::Cidr;
use crate::domain::FieldError;

/// Sets `network` on every subnet of `members` that has a `gateway_address`; refuses a
/// gateway address that is not an address with a prefix length, naming it.
pub fn derive_networks(members: &mut Map<String, Value>) -> Result<(), FieldError> {
    let Some(Value::Array(subnets)) = members.get_mut("subnets") else {
        return Ok(());
    };
    for (at, subnet) in subnets.iter_mut().enumerate() {
        let Some(subnet) = subnet.as_object_mut() else {
            continue;
        };
        let Some(Value::String(gateway)) = subnet.get("gateway_address") else {
            continue;
        };
        let network = Cidr::parse(gateway).map(Cidr::network).ok_or_else(|| {
            FieldError::new(
                format!("subnets[{at}].gateway_address"),
                "must be an IP address with its prefix length, as 10.1.2.1/24",
            )
        })?;
        subnet.insert("network".to_owned(), Value::String(network.to_string()));
    }
    Ok(())
}
