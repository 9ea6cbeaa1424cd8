//! AntreaTraceflowConfig: the fields a client sets (the README's "Create") and how a request body
//! becomes them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use super::object::{RESOURCE_TYPE, SERVER_FIELDS};
use super::values::{BoundedString, Ipv4, Ipv6, NonEmptyString, Ranged, NON_NEGATIVE};
use super::{json_object, BodyError, FieldError, ObjectId};

/// The most tags one object may carry.
pub const MAX_TAGS: usize = 30;

/// NSX's read-only link fields, which a client may send back from a GET.
const LINK_FIELDS: [&str; 3] = ["_links", "_schema", "_self"];

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
    /// Deserializes fields from a JSON object, naming the first offending field by its
    /// dotted path.
    fn from_object(object: Map<String, Value>) -> Result<Self, FieldError> {
        let fields: Self = serde_path_to_error::deserialize(Value::Object(object))
            .map_err(FieldError::from_path_error)?;
        fields.check_combinations()?;
        Ok(fields)
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

    /// PATCH semantics: every top-level field `patch` sets replaces the one in `self`
    /// (`packet` and `tags` whole); the others stay.
    pub fn overlaid_with(self, patch: TraceflowFields) -> TraceflowFields {
        TraceflowFields {
            container_cluster_id: patch.container_cluster_id.or(self.container_cluster_id),
            source_external_id: patch.source_external_id.or(self.source_external_id),
            destination_external_id: patch
                .destination_external_id
                .or(self.destination_external_id),
            packet: patch.packet.or(self.packet),
            is_transient: patch.is_transient.or(self.is_transient),
            timeout: patch.timeout.or(self.timeout),
            display_name: patch.display_name.or(self.display_name),
            description: patch.description.or(self.description),
            tags: patch.tags.or(self.tags),
        }
    }
}

/// A complete AntreaTraceflowConfig: its required fields are present and `display_name` is
/// set (to the id when the client gave none). Only [`TraceflowConfig::complete`] makes one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TraceflowConfig(TraceflowFields);

impl TraceflowConfig {
    /// Checks the required fields and fills in the defaults.
    pub fn complete(mut fields: TraceflowFields, id: &ObjectId) -> Result<Self, FieldError> {
        for (name, value) in [
            ("container_cluster_id", &fields.container_cluster_id),
            ("source_external_id", &fields.source_external_id),
        ] {
            if value.is_none() {
                return Err(FieldError::new(name, "required property not present"));
            }
        }
        if fields.display_name.is_none() {
            let default = BoundedString::parse(id.as_str().to_owned())
                .expect("an id is at most as long as a display_name");
            fields.display_name = Some(default);
        }
        Ok(Self(fields))
    }

    /// Reads back a config this service stored (the `config` column).
    pub fn from_stored_json(json: &str, id: &ObjectId) -> Result<Self, FieldError> {
        let object =
            serde_json::from_str(json).map_err(|err| FieldError::new("config", err.to_string()))?;
        Self::complete(TraceflowFields::from_object(object)?, id)
    }

    pub fn into_fields(self) -> TraceflowFields {
        self.0
    }

    pub fn fields(&self) -> &TraceflowFields {
        &self.0
    }

    pub fn display_name(&self) -> &str {
        self.0
            .display_name
            .as_ref()
            .map_or("", |name| name.as_str())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a config always serializes")
    }
}

/// A PUT or PATCH body, parsed: the client's fields and the `_revision` it holds, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceflowDocument {
    pub fields: TraceflowFields,
    pub revision: Option<i64>,
}

impl TraceflowDocument {
    /// Parses a request body for the object at `id`.
    pub fn parse(body: &[u8], id: &ObjectId) -> Result<Self, BodyError> {
        Ok(Self::from_object(json_object(body)?, id)?)
    }

    /// The document a body's members make for the object at `id` (a PUT's body, or a line
    /// of an import).
    pub fn from_object(mut object: Map<String, Value>, id: &ObjectId) -> Result<Self, FieldError> {
        match object.remove("resource_type") {
            None | Some(Value::Null) => {}
            Some(Value::String(given)) if given == RESOURCE_TYPE => {}
            Some(_) => return Err(FieldError::new("resource_type", must_be(RESOURCE_TYPE))),
        }
        match object.remove("id") {
            None | Some(Value::Null) => {}
            Some(Value::String(given)) if given == id.as_str() => {}
            Some(_) => {
                let rule = format!(
                    "must be the id in the request path, {}",
                    quoted(id.as_str())
                );
                return Err(FieldError::new("id", rule));
            }
        }
        let revision = match object.remove("_revision") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(_) => return Err(FieldError::new("_revision", "must be an integer")),
        };
        // The rest of the server's fields, as a GET-modify-PUT sends them back, are ignored.
        for field in SERVER_FIELDS.iter().chain(&LINK_FIELDS) {
            object.remove(*field);
        }

        let fields = TraceflowFields::from_object(object)?;
        Ok(Self { fields, revision })
    }
}

fn must_be(value: &str) -> String {
    format!("must be {}", quoted(value))
}

fn quoted(value: &str) -> String {
    serde_json::to_string(value).expect("a string always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> ObjectId {
        ObjectId::parse("t14").unwrap()
    }

    fn parse(body: Value) -> Result<TraceflowDocument, BodyError> {
        TraceflowDocument::parse(body.to_string().as_bytes(), &id())
    }

    fn field_error(body: Value) -> FieldError {
        match parse(body) {
            Err(BodyError::Field(err)) => err,
            other => panic!("expected a field error, got {other:?}"),
        }
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
    fn server_fields_are_ignored_but_id_and_resource_type_must_agree() {
        let doc =
            parse(json!({"path": "/x", "_create_user": 7, "id": "t14", "_revision": 3})).unwrap();
        assert_eq!(doc.revision, Some(3));
        assert_eq!(doc.fields, TraceflowFields::default());
        assert_eq!(field_error(json!({"id": "t15"})).field, "id");
        assert_eq!(
            field_error(json!({"resource_type": "Segment"})).field,
            "resource_type"
        );
        assert_eq!(field_error(json!({"_revision": "1"})).field, "_revision");
    }

    #[test]
    fn syntax_errors_are_not_field_errors() {
        let err = TraceflowDocument::parse(b"{\"a\": ", &id()).unwrap_err();
        assert!(matches!(err, BodyError::Syntax(_)), "{err:?}");
        assert_eq!(field_error(json!([1])).field, ".");
    }

    #[test]
    fn completion_requires_fields_and_defaults_display_name() {
        let err = TraceflowConfig::complete(TraceflowFields::default(), &id()).unwrap_err();
        assert_eq!(err.field, "container_cluster_id");
        let doc = parse(json!({"container_cluster_id": "c", "source_external_id": "s"})).unwrap();
        let config = TraceflowConfig::complete(doc.fields, &id()).unwrap();
        assert_eq!(config.display_name(), "t14");
    }

    #[test]
    fn overlay_replaces_only_what_the_patch_sets() {
        let base = parse(json!({"description": "d", "tags": [{"tag": "a"}], "timeout": 5}))
            .unwrap()
            .fields;
        let patch = parse(json!({"tags": [], "timeout": 6})).unwrap().fields;
        let merged = base.overlaid_with(patch);
        assert_eq!(
            serde_json::to_value(&merged).unwrap(),
            json!({"description": "d", "tags": [], "timeout": 6})
        );
    }
}
