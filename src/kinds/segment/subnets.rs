//! A segment's subnets as NSX answers them: each one's `network` (read-only in the
//! bindings) is the network of its `gateway_address`, the address with its host bits
//! cleared (`10.1.2.1/24` is on `10.1.2.0/24`; `2001:db8::1/64` on `2001:db8::/64`).

use std::net::IpAddr;

use serde_json::{Map, Value};

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
        let network = network_of(gateway).ok_or_else(|| {
            FieldError::new(
                format!("subnets[{at}].gateway_address"),
                "must be an IP address with its prefix length, as 10.1.2.1/24",
            )
        })?;
        subnet.insert("network".to_owned(), Value::String(network));
    }
    Ok(())
}

/// The network `address/prefix` is on, in the same notation.
fn network_of(gateway: &str) -> Option<String> {
    let (address, prefix) = gateway.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let network = match address {
        IpAddr::V4(v4) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
        _ => return None,
    };
    Some(format!("{network}/{prefix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_is_its_gateway_with_the_host_bits_cleared() {
        assert_eq!(network_of("10.1.2.1/24").as_deref(), Some("10.1.2.0/24"));
        assert_eq!(network_of("10.1.2.1/32").as_deref(), Some("10.1.2.1/32"));
        assert_eq!(network_of("10.1.2.1/0").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(
            network_of("192.168.77.129/25").as_deref(),
            Some("192.168.77.128/25")
        );
        assert_eq!(
            network_of("2001:db8::1/64").as_deref(),
            Some("2001:db8::/64")
        );
        assert_eq!(
            network_of("2001:DB8:0:1::1/48").as_deref(),
            Some("2001:db8::/48")
        );
        for bad in [
            "10.1.2.1",
            "10.1.2.1/33",
            "10.1.2/24",
            "x/24",
            "10.1.2.1/-1",
            "",
        ] {
            assert_eq!(network_of(bad), None, "{bad}");
        }
    }
}
