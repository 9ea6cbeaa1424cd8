//! An IP address with its prefix length, as NSX's bodies write networks and gateways
//! (`10.1.2.1/24`, `2001:db8::/64`): its network, and the hosts on it.

use std::fmt;
use std::net::IpAddr;

/// An address and a prefix length no longer than its family's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    address: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Reads `address/prefix`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        let address: IpAddr = address.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        (prefix <= Self::bits(address)).then_some(Self { address, prefix })
    }

    fn bits(address: IpAddr) -> u8 {
        match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    pub fn is_ipv4(self) -> bool {
        self.address.is_ipv4()
    }

    /// The same address with `prefix`; `None` past its family's length.
    pub fn with_prefix(self, prefix: u8) -> Option<Self> {
        (prefix <= Self::bits(self.address)).then_some(Self { prefix, ..self })
    }

    /// How many addresses its network has (saturating at `u128::MAX`).
    pub fn size(self) -> u128 {
        1u128
            .checked_shl(u32::from(Self::bits(self.address) - self.prefix))
            .unwrap_or(u128::MAX)
    }

    /// The network it is on: its address with the host bits cleared, the same prefix.
    pub fn network(self) -> Self {
        self.with_host(0)
    }

    /// The `n`th address of its network (the network's own is the 0th), with its prefix;
    /// `None` past the network's end.
    pub fn host(self, n: u128) -> Option<Self> {
        (n < self.size()).then(|| self.with_host(n))
    }

    fn with_host(self, n: u128) -> Self {
        let host_bits = u32::from(Self::bits(self.address) - self.prefix);
        let address = match self.address {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
                IpAddr::V4(((u32::from(v4) & mask) | n as u32).into())
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
                IpAddr::V6(((u128::from(v6) & mask) | n).into())
            }
        };
        Self { address, ..self }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network_of(text: &str) -> Option<String> {
        Cidr::parse(text).map(|cidr| cidr.network().to_string())
    }

    #[test]
    fn a_network_is_its_address_with_the_host_bits_cleared() {
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

    #[test]
    fn hosts_count_from_the_network_and_end_with_it() {
        let net = Cidr::parse("172.26.0.0/28").unwrap();
        assert_eq!(net.host(1).unwrap().to_string(), "172.26.0.1/28");
        assert_eq!(net.host(15).unwrap().to_string(), "172.26.0.15/28");
        assert_eq!(net.host(16), None);
        let v6 = Cidr::parse("2001:db8::/64").unwrap();
        assert_eq!(v6.host(2).unwrap().to_string(), "2001:db8::2/64");
        assert_eq!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .host(7)
                .unwrap()
                .to_string(),
            "0.0.0.7/0"
        );
    }
}
