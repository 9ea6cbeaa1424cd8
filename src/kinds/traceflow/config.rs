//! AntreaTraceflowConfig: the fields a client sets (the README's "Create"), typed, which the
//! traceflow kind checks a body's members against (closed at every depth, with the ranges of
//! the contract and the `timeout` NSX's own example sends), and the config a run simulates.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use crate::domain::values::{BoundedString, Ipv4, Ipv6, NonEmptyString, Ranged, NON_NEGATIVE};
use crate::domain::{Config, FieldError};

/// The most tags one object may carry.
pub const MAX_TAGS: usize = 30;

/// The client-set fields of an AntreaTraceflowConfig, each optional, exactly as a body
/// carries them. Closed at every depth: an unknown field is an error.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceflowFields {
    pub container_cluster_id: Option<NonEmptyString>,
    pub source_external_id: Option<NonEmptyString>,
    pub destination_external_id: Option<String>,
    pub packet: Option<PacketData>,
    pub is_transient: Option<bool>,
    pub timeout: Option<Ranged<NON_NEGATIVE>>,
    pub display_name: Option<BoundedString<255>>,
    pub description: Option<BoundedString<1024>>,
    pub tags: Option<Tags>,
}

/// AntreaTraceflowPacketData. Inside `packet` every name is camelCase.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PacketData {
    pub resource_type: Option<PacketResourceType>,
    pub transport_type: Option<TransportType>,
    pub frame_size: Option<Ranged<NON_NEGATIVE>>,
    pub payload: Option<String>,
    pub ip_header: Option<IpHeader>,
    pub ipv6_header: Option<Ipv6Header>,
    pub transport_header: Option<TransportHeader>,
}

#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PacketResourceType {
    FIELDS_PACKET_DATA,
    BINARY_PACKET_DATA,
}

#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransportType {
    UNICAST,
    MULTICAST,
    BROADCAST,
    UNKNOWN,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpHeader {
    pub src_ip: Option<Ipv4>,
    pub dst_ip: Option<Ipv4>,
    pub protocol: Option<Ranged<255>>,
    pub ttl: Option<Ranged<255>>,
    pub flags: Option<Ranged<7>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ipv6Header {
    pub src_ip: Option<Ipv6>,
    pub dst_ip: Option<Ipv6>,
    pub next_header: Option<Ranged<255>>,
    pub hop_limit: Option<Ranged<255>>,
}

/// At most one of its headers may be set (checked when the fields are parsed, by
/// `TraceflowFields::check_combinations`).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransportHeader {
    pub icmp_echo_request_header: Option<IcmpEchoRequestHeader>,
    pub tcp_header: Option<TcpHeader>,
    pub udp_header: Option<UdpHeader>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcmpEchoRequestHeader {
    pub id: Option<Ranged<65535>>,
    pub sequence: Option<Ranged<65535>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpHeader {
    pub src_port: Option<Ranged<65535>>,
    pub dst_port: Option<Ranged<65535>>,
    pub tcp_flags: Option<Ranged<511>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UdpHeader {
    pub src_port: Option<Ranged<65535>>,
    pub dst_port: Option<Ranged<65535>>,
}

/// Up to [`MAX_TAGS`] tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Tags(Vec<Tag>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tags = Vec::<Tag>::deserialize(deserializer)?;
        if tags.len() > MAX_TAGS {
            return Err(serde::de::Error::custom(format!(
                "must have at most {MAX_TAGS} items"
            )));
        }
        Ok(Self(tags))
    }
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub scope: Option<BoundedString<128>>,
    pub tag: Option<BoundedString<256>>,
}

impl TraceflowFields {
    /// The fields `members` hold, checked, naming the first offending field by its dotted
    /// path (which is traced only once a refusal is certain: tracing it costs every body).
    pub fn from_members(members: &Map<String, Value>) -> Result<Self, FieldError> {
        let fields = match Self::deserialize(members) {
            Ok(fields) => fields,
            Err(_) => serde_path_to_error::deserialize::<_, Self>(members)
                .map_err(FieldError::from_path_error)?,
        };
        fields.check_combinations()?;
        Ok(fields)
    }

    /// `members`, from which these fields were read, as the store keeps them: what was
    /// given, in canonical form (an IPv6 address in its canonical text), without the
    /// `null`s that mean "not given". The members the fields serialize to, made from the
    /// given ones rather than anew.
    pub fn canonical(&self, mut members: Map<String, Value>) -> Map<String, Value> {
        without_nulls(&mut members);
        let ipv6 = self
            .packet
            .as_ref()
            .and_then(|packet| packet.ipv6_header.as_ref());
        let given = members
            .get_mut("packet")
            .and_then(|packet| packet.get_mut("ipv6Header"))
            .and_then(Value::as_object_mut);
        if let (Some(header), Some(given)) = (ipv6, given) {
            for (name, address) in [("srcIp", header.src_ip), ("dstIp", header.dst_ip)] {
                if let Some(address) = address {
                    given.insert(name.to_owned(), Value::String(address.0.to_string()));
                }
            }
        }
        members
    }

    /// The fields as members, built anew: what [`TraceflowFields::canonical`] must equal.
    #[cfg(test)]
    pub fn into_members(self) -> Map<String, Value> {
        match serde_json::to_value(self).expect("fields always serialize") {
            Value::Object(members) => members,
            _ => unreachable!("fields serialize as an object"),
        }
    }

    /// The rules that tie one field to another.
    fn check_combinations(&self) -> Result<(), FieldError> {
        let Some(packet) = &self.packet else {
            return Ok(());
        };
        if packet.ip_header.is_some() && packet.ipv6_header.is_some() {
            return Err(FieldError::new(
                "packet.ipv6Header",
                "must not be set together with packet.ipHeader",
            ));
        }
        if let Some(header) = &packet.transport_header {
            let set = [
                header.icmp_echo_request_header.is_some(),
                header.tcp_header.is_some(),
                header.udp_header.is_some(),
            ];
            if set.iter().filter(|&&is_set| is_set).count() > 1 {
                return Err(FieldError::new(
                    "packet.transportHeader",
                    "must set at most one of icmpEchoRequestHeader, tcpHeader and udpHeader",
                ));
            }
        }
        Ok(())
    }
}

/// Takes out every member that is `null`, at every depth.
fn without_nulls(members: &mut Map<String, Value>) {
    members.retain(|_, value| !value.is_null());
    for value in members.values_mut() {
        match value {
            Value::Object(nested) => without_nulls(nested),
            Value::Array(items) => items
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .for_each(without_nulls),
            _ => {}
        }
    }
}

/// The fields a whole traceflow must have.
const REQUIRED: [&str; 2] = ["container_cluster_id", "source_external_id"];

/// Checks that the members of a whole traceflow hold its required fields.
pub fn require(members: &Map<String, Value>) -> Result<(), FieldError> {
    match REQUIRED.iter().find(|name| !members.contains_key(**name)) {
        Some(missing) => Err(FieldError::new(*missing, "required property not present")),
        None => Ok(()),
    }
}

/// A stored traceflow's fields, typed: what its runs simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceflowConfig(TraceflowFields);

impl TraceflowConfig {
    /// The fields of a stored traceflow's config: read where they are, without a copy and
    /// without the paths a client's errors name, as they were checked when written.
    pub fn of(config: &Config) -> Result<Self, FieldError> {
        TraceflowFields::deserialize(config.members())
            .map(Self)
            .map_err(|err| FieldError::new("config", err.to_string()))
    }

    /// The fields of a traceflow's config as the store keeps it (the `config` column).
    pub fn from_stored_json(json: &str) -> Result<Self, FieldError> {
        let members =
            serde_json::from_str(json).map_err(|err| FieldError::new("config", err.to_string()))?;
        TraceflowFields::from_members(&members).map(Self)
    }

    pub fn fields(&self) -> &TraceflowFields {
        &self.0
    }
}

impl From<TraceflowFields> for TraceflowConfig {
    fn from(fields: TraceflowFields) -> Self {
        Self(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_error(body: Value) -> FieldError {
        let members = body.as_object().unwrap().clone();
        TraceflowFields::from_members(&members).unwrap_err()
    }

    #[test]
    fn errors_name_the_field_by_its_dotted_path() {
        let err = field_error(json!({"packet": {"ipHeader": {"ttl": 300}}}));
        assert_eq!(err.field, "packet.ipHeader.ttl");
        assert_eq!(err.message, "must be an integer between 0 and 255");

        let err = field_error(json!({"tags": [{"scope": "a"}, {"tag": 5}]}));
        assert_eq!(err.field, "tags[1].tag");

        let err = field_error(json!({"packet": {"ipHeader": {"srcIP": "1.2.3.4"}}}));
        assert_eq!(err.field, "packet.ipHeader.srcIP");
        assert!(
            err.message.starts_with("unknown field `srcIP`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn members_are_stored_in_canonical_form_without_nulls() {
        let members = json!({"packet": {"ipv6Header": {"srcIp": "2001:DB8::1"}},
            "description": null, "timeout": 5});
        let members = members.as_object().unwrap().clone();
        let fields = TraceflowFields::from_members(&members).unwrap();
        assert_eq!(
            Value::Object(fields.canonical(members)),
            json!({"packet": {"ipv6Header": {"srcIp": "2001:db8::1"}}, "timeout": 5})
        );
    }

    /// The canonical members are made from the given ones: they must be what the fields
    /// serialize to, for every field a body may hold.
    #[test]
    fn the_canonical_members_are_the_fields_serialized() {
        let bodies = [
            json!({"container_cluster_id": "c", "source_external_id": "s"}),
            json!({"container_cluster_id": "c", "source_external_id": "s",
                "destination_external_id": null, "display_name": "t", "description": "d",
                "is_transient": true, "timeout": 0,
                "tags": [{"scope": "a", "tag": null}, {"tag": "b"}]}),
            json!({"packet": {"resourceType": "FIELDS_PACKET_DATA",
                "transportType": "UNICAST", "frameSize": 128, "payload": null,
                "ipHeader": {"srcIp": "10.0.0.1", "dstIp": "10.0.0.2", "protocol": 6,
                    "ttl": 64, "flags": null},
                "transportHeader": {"tcpHeader": {"srcPort": 1, "dstPort": 443,
                    "tcpFlags": 2}}}}),
            json!({"packet": {"ipv6Header": {"srcIp": "2001:0DB8:0:0::1",
                "dstIp": "::FFFF:10.0.0.1", "nextHeader": 17, "hopLimit": null},
                "transportHeader": {"udpHeader": {"srcPort": null, "dstPort": 53}}}}),
            json!({"packet": {"ipv6Header": null, "ipHeader": null,
                "transportHeader": {"icmpEchoRequestHeader": {"id": 1, "sequence": 2},
                    "tcpHeader": null}}}),
        ];
        for body in bodies {
            let members = body.as_object().unwrap().clone();
            let fields = TraceflowFields::from_members(&members).unwrap();
            assert_eq!(
                fields.canonical(members),
                fields.clone().into_members(),
                "{body}"
            );
        }
    }

    #[test]
    fn a_whole_traceflow_has_its_cluster_and_its_source() {
        let given = |body: Value| require(body.as_object().unwrap());
        assert_eq!(
            given(json!({"source_external_id": "s"})).unwrap_err().field,
            "container_cluster_id"
        );
        assert_eq!(
            given(json!({"container_cluster_id": "c"}))
                .unwrap_err()
                .field,
            "source_external_id"
        );
        assert!(given(json!({"container_cluster_id": "c", "source_external_id": "s"})).is_ok());
    }
}
