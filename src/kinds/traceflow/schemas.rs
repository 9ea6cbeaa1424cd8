//! The schemas of the traceflow's bodies in the API documents: its config as NSX documents
//! it (the fields [`super::config`] checks, with their bounds), its status and observations,
//! and the store's earlier runs and result scripts.

use serde_json::{json, Value};

use crate::http::openapi::schemas::{byte, epoch_ms, list_of, port, read_only, reference};

/// The schema of the traceflow's body named `name`; `None` for another name.
pub fn schema(name: &str) -> Option<Value> {
    config(name).or_else(|| runs(name))
}

/// The traceflow config and its list.
fn config(name: &str) -> Option<Value> {
    Some(match name {
        "AntreaTraceflowConfig" => json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["container_cluster_id", "source_external_id"],
            "properties": {
                "container_cluster_id": {"type": "string", "minLength": 1},
                "source_external_id": {"type": "string", "minLength": 1},
                "destination_external_id": {"type": "string"},
                "packet": reference("AntreaTraceflowPacketData"),
                "is_transient": {"type": "boolean"},
                "timeout": {"type": "integer", "minimum": 0, "description": "Seconds."},
                "display_name": {"type": "string", "maxLength": 255, "description": "Defaults to the id."},
                "description": {"type": "string", "maxLength": 1024},
                "tags": {"type": "array", "maxItems": 30, "items": reference("Tag")},
                "resource_type": {"type": "string", "enum": ["AntreaTraceflowConfig"], "readOnly": true},
                "id": read_only("string", "The path's id."),
                "path": read_only("string", "/infra/antrea/traceflows/<id>"),
                "relative_path": read_only("string", "The id."),
                "parent_path": read_only("string", "/infra"),
                "unique_id": read_only("string", "A UUID v4 given at creation, never changed."),
                "marked_for_delete": read_only("boolean", "Always false."),
                "overridden": read_only("boolean", "Always false."),
                "_system_owned": read_only("boolean", "Always false."),
                "_protection": read_only("string", "NOT_PROTECTED"),
                "_create_user": read_only("string", "Who created it."),
                "_create_time": epoch_ms("When it was created, epoch milliseconds."),
                "_last_modified_user": read_only("string", "Who changed it last."),
                "_last_modified_time": epoch_ms("When it last changed, epoch milliseconds."),
                "_revision": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "0 at creation, +1 on every change; send it back to replace.",
                },
            },
        }),
        "AntreaTraceflowPacketData" => json!({
            "type": "object",
            "additionalProperties": false,
            // Not both `ipHeader` and `ipv6Header` (a 400): said in words, as a `not` of
            // `required` makes schemathesis's generator fail now and then.
            "description": "At most one of ipHeader and ipv6Header.",
            "properties": {
                "resourceType": {"type": "string", "enum": ["FIELDS_PACKET_DATA", "BINARY_PACKET_DATA"]},
                "transportType": {"type": "string", "enum": ["UNICAST", "MULTICAST", "BROADCAST", "UNKNOWN"]},
                "frameSize": {"type": "integer", "minimum": 0},
                "payload": {"type": "string"},
                "ipHeader": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "srcIp": {"type": "string", "format": "ipv4"},
                        "dstIp": {"type": "string", "format": "ipv4"},
                        "protocol": byte(),
                        "ttl": byte(),
                        "flags": {"type": "integer", "minimum": 0, "maximum": 7},
                    },
                },
                "ipv6Header": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "srcIp": {"type": "string", "format": "ipv6"},
                        "dstIp": {"type": "string", "format": "ipv6"},
                        "nextHeader": byte(),
                        "hopLimit": byte(),
                    },
                },
                "transportHeader": {
                    "type": "object",
                    "additionalProperties": false,
                    "maxProperties": 1,
                    "properties": {
                        "icmpEchoRequestHeader": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": {"id": port(), "sequence": port()},
                        },
                        "tcpHeader": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": {
                                "srcPort": port(),
                                "dstPort": port(),
                                "tcpFlags": {"type": "integer", "minimum": 0, "maximum": 511},
                            },
                        },
                        "udpHeader": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": {"srcPort": port(), "dstPort": port()},
                        },
                    },
                },
            },
        }),
        "AntreaTraceflowConfigListResult" => json!({
            "type": "object",
            "required": ["results", "result_count", "sort_by", "sort_ascending"],
            "properties": {
                "results": {"type": "array", "items": reference("AntreaTraceflowConfig")},
                "result_count": {"type": "integer", "minimum": 0, "description": "All matching objects, not the page."},
                "sort_by": {"type": "string"},
                "sort_ascending": {"type": "boolean"},
                "cursor": {"type": "string", "description": "Present while more pages remain."},
            },
        }),
        _ => return None,
    })
}

/// A run's status and observations, earlier runs, and result scripts.
fn runs(name: &str) -> Option<Value> {
    Some(match name {
        "AntreaTraceflowStatus" => json!({
            "type": "object",
            "additionalProperties": false,
            "description": "{} while the current run has no result.",
            "properties": {
                "phase": {"type": "string", "enum": ["SUCCEEDED", "FAILED"]},
                "reason": {"type": "string"},
            },
        }),
        "AntreaTraceflowObservation" => json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["observation_type"],
            "properties": {
                "component_type": {
                    "type": "string",
                    "enum": ["UNKNOWN", "ANTREA_SPOOFGUARD", "ANTREA_LB", "ANTREA_ROUTING", "ANTREA_DFW", "ANTREA_FORWARDING"],
                },
                "container_node_id": {"type": "string"},
                "observation_type": {
                    "type": "string",
                    "enum": [
                        "AntreaTraceflowObservationDelivered",
                        "AntreaTraceflowObservationReceived",
                        "AntreaTraceflowObservationForwarded",
                        "AntreaTraceflowObservationDropped",
                    ],
                },
                "timestamp": {"type": "integer", "description": "Epoch milliseconds."},
            },
        }),
        "AntreaTraceflowObservationListResult" => list_of("AntreaTraceflowObservation"),
        "EarlierRun" => json!({
            "type": "object",
            "required": ["run", "started_at", "status", "observations"],
            "properties": {
                "run": {"type": "integer", "minimum": 1},
                "started_at": {"type": "integer", "description": "Epoch milliseconds."},
                "status": {"type": "object", "description": "AntreaTraceflowStatus; {} where \
                    the run was replaced before its result appeared."},
                "observations": {"type": "array", "items": reference("AntreaTraceflowObservation")},
            },
        }),
        "EarlierRunList" => {
            let mut list = list_of("EarlierRun");
            list["properties"]["current"] = json!({
                "type": "object",
                "description": "The current run, when there is one: its number, its start \
                                (epoch ms) and whether a script decides its result.",
                "required": ["run", "started_at", "scripted"],
                "properties": {
                    "run": {"type": "integer", "minimum": 1},
                    "started_at": {"type": "integer"},
                    "scripted": {"type": "boolean"},
                },
            });
            list
        }
        "TraceflowScript" => json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["status"],
            "properties": {
                "status": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["phase"],
                    "properties": {
                        "phase": {"type": "string", "enum": ["SUCCEEDED", "FAILED"]},
                        "reason": {"type": "string"},
                    },
                },
                "observations": {
                    "type": "array",
                    "items": reference("AntreaTraceflowObservation"),
                    "description": "Default []; a timestamp left out is filled by the run's clock.",
                },
                "delay_ms": {"type": "integer", "minimum": 0, "default": 0},
            },
        }),
        _ => return None,
    })
}
