//! The schemas of the core's bodies in the API documents, and the small pieces the kinds'
//! schemas are written with.

use serde_json::{json, Value};

/// A reference to the schema named `name`.
pub fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A realized state, as NSX names them.
fn realized_state() -> Value {
    json!({"type": "string", "enum": ["UNREALIZED", "REALIZED", "ERROR", "UNAVAILABLE"]})
}

/// A TCP or UDP port.
pub fn port() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 65535})
}

/// An integer of one byte.
pub fn byte() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 255})
}

/// A read-only time, epoch milliseconds.
pub fn epoch_ms(description: &str) -> Value {
    json!({"type": "integer", "description": description, "readOnly": true})
}

/// A read-only field of JSON type `kind`.
pub fn read_only(kind: &str, description: &str) -> Value {
    json!({"type": kind, "description": description, "readOnly": true})
}

/// A list result of `item`s: `results` and `result_count`.
pub fn list_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["results", "result_count"],
        "properties": {
            "results": {"type": "array", "items": reference(item)},
            "result_count": {"type": "integer", "minimum": 0},
        },
    })
}

/// The schema of one of the core's named bodies; `None` for a name it does not know.
pub fn schema(name: &str) -> Option<Value> {
    nsx(name)
        .or_else(|| realized(name))
        .or_else(|| inspector(name))
        .or_else(|| streams(name))
        .or_else(|| state(name))
}

/// NSX's own bodies: errors, tags, search, the H-API's root, the node, the session.
fn nsx(name: &str) -> Option<Value> {
    Some(match name {
        "ApiError" => json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["httpStatus", "error_code", "module_name", "error_message"],
            "properties": {
                "httpStatus": {"type": "string", "example": "BAD_REQUEST"},
                "error_code": {"type": "integer"},
                "module_name": {"type": "string"},
                "error_message": {"type": "string"},
            },
        }),
        "Tag" => json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "scope": {"type": "string", "maxLength": 128},
                "tag": {"type": "string", "maxLength": 256},
            },
        }),
        "SearchResponse" => json!({
            "type": "object",
            "required": ["results", "result_count"],
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["resource_type", "id", "path"],
                        "properties": {
                            "resource_type": {"type": "string"},
                            "id": {"type": "string"},
                            "path": {"type": "string"},
                        },
                    },
                },
                "result_count": {"type": "integer", "minimum": 0},
                "cursor": {"type": "string"},
            },
        }),
        "OrgRoot" => json!({
            "type": "object",
            "properties": {
                "resource_type": {"type": "string", "enum": ["OrgRoot"]},
                "children": {
                    "type": "array",
                    "description": "ChildOrg and ChildResourceReference wrappers.",
                    "items": {
                        "type": "object",
                        "required": ["resource_type"],
                        "properties": {"resource_type": {"type": "string"}},
                    },
                },
            },
        }),
        "NodeVersion" => json!({
            "type": "object",
            "required": ["node_version", "product_version"],
            "properties": {
                "node_version": {"type": "string"},
                "product_version": {"type": "string"},
            },
        }),
        "NodeProperties" => json!({
            "type": "object",
            "required": ["node_version", "product_version", "hostname"],
            "properties": {
                "node_version": {"type": "string"},
                "product_version": {"type": "string"},
                "hostname": {"type": "string"},
            },
        }),
        "NodeHealth" => json!({
            "type": "object",
            "required": ["healthy"],
            "properties": {"healthy": {"type": "boolean"}},
        }),
        "OpenApiDocument" => json!({
            "type": "object",
            "required": ["openapi", "info", "paths"],
            "description": "An OpenAPI 3.0 document.",
        }),
        "SessionCredentials" => json!({
            "type": "object",
            "required": ["j_username", "j_password"],
            "properties": {
                "j_username": {"type": "string"},
                "j_password": {"type": "string", "format": "password"},
            },
        }),
        _ => return None,
    })
}

/// Realized state, as NSX serves it, and the store's realization scripts.
fn realized(name: &str) -> Option<Value> {
    Some(match name {
        "GenericPolicyRealizedResource" => json!({
            "type": "object",
            "required": ["resource_type", "id", "path", "intent_paths", "state"],
            "properties": {
                "resource_type": {"type": "string", "enum": ["GenericPolicyRealizedResource"]},
                "id": {"type": "string"},
                "display_name": {"type": "string"},
                "path": {"type": "string"},
                "relative_path": {"type": "string"},
                "parent_path": {"type": "string"},
                "entity_type": {"type": "string"},
                "intent_paths": {"type": "array", "items": {"type": "string"}},
                "intent_reference": {"type": "array", "items": {"type": "string"}},
                "site_path": {"type": "string"},
                "enforcement_point_path": {"type": "string"},
                "realization_specific_identifier": {"type": "string"},
                "state": realized_state(),
                "runtime_status": {"type": "string"},
                "runtime_error": {"type": "string"},
                "alarms": {"type": "array", "items": {"type": "object"}},
                "_revision": {"type": "integer"},
                "_create_time": {"type": "integer"},
                "_last_modified_time": {"type": "integer"},
            },
        }),
        "GenericPolicyRealizedResourceListResult" => list_of("GenericPolicyRealizedResource"),
        "ConsolidatedRealizedStatus" => json!({
            "type": "object",
            "required": ["intent_path", "publish_status", "consolidated_status"],
            "properties": {
                "intent_path": {"type": "string"},
                "intent_version": {"type": "string"},
                "publish_status": realized_state(),
                "consolidated_status": {
                    "type": "object",
                    "properties": {"consolidated_status": {"type": "string"}},
                },
                "consolidated_status_per_enforcement_point": {
                    "type": "array",
                    "items": {"type": "object"},
                },
            },
        }),
        "SegmentConfigurationState" => json!({
            "type": "object",
            "required": ["segment_path", "state"],
            "properties": {
                "segment_path": {"type": "string"},
                "state": {"type": "string", "enum": ["pending", "in_progress", "success", "failed"]},
                "failure_message": {"type": "string"},
            },
        }),
        "RealizationScript" => json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["state"],
            "properties": {
                "state": realized_state(),
                "delay_ms": {"type": "integer", "minimum": 0, "maximum": 86_400_000u64},
                "then": realized_state(),
                "error_message": {"type": "string"},
            },
        }),
        _ => return None,
    })
}

/// What the inspector's page reads, and the revisions of every object.
fn inspector(name: &str) -> Option<Value> {
    Some(match name {
        "WhoAmI" => json!({
            "type": "object",
            "required": ["name", "role", "may_write"],
            "properties": {
                "name": {"type": "string"},
                "role": {"type": "string", "enum": ["enterprise_admin", "auditor"]},
                "may_write": {"type": "boolean"},
            },
        }),
        "TreeBranches" => json!({
            "type": "object",
            "required": ["branches"],
            "properties": {
                "branches": {"type": "array", "items": {"type": "string"}},
            },
        }),
        "TreeNode" => json!({
            "type": "object",
            "required": ["parent", "collections", "at_least"],
            "properties": {
                "parent": {"type": "string"},
                "at_least": {"type": "boolean"},
                "collections": {"type": "array", "items": {
                    "type": "object",
                    "required": ["resource_type", "parent_path", "count"],
                    "properties": {
                        "resource_type": {"type": "string"},
                        "parent_path": {"type": "string"},
                        "count": {"type": "integer", "minimum": 0},
                        "collection": {"type": "string"},
                        "object": {"type": "string"},
                    },
                }},
            },
        }),
        "DeterminismState" => json!({
            "type": "object",
            "required": ["clock", "clock_step_ms", "deterministic"],
            "properties": {
                "clock": {"type": "string"},
                "clock_step_ms": {"type": "integer", "minimum": 0},
                "seed": {"type": "integer", "nullable": true},
                "deterministic": {"type": "boolean"},
            },
        }),
        "Revision" => json!({
            "type": "object",
            "required": ["path", "revision", "operation", "change_user", "change_time", "object"],
            "properties": {
                "path": {"type": "string"},
                "revision": {"type": "integer", "minimum": 0},
                "operation": {"type": "string", "enum": ["create", "replace", "patch", "delete"]},
                "change_user": {"type": "string"},
                "change_time": {"type": "integer", "description": "Epoch milliseconds."},
                "object": {
                    "type": "object",
                    "description": "The object as this revision left it (for a delete, as it was).",
                },
            },
        }),
        "RevisionListResult" => json!({
            "type": "object",
            "required": ["results", "result_count"],
            "properties": {
                "results": {"type": "array", "items": reference("Revision")},
                "result_count": {"type": "integer", "minimum": 0},
                "cursor": {"type": "string"},
            },
        }),
        _ => return None,
    })
}

/// The events and requests streams, and the request journal.
fn streams(name: &str) -> Option<Value> {
    Some(match name {
        "StoreEvent" => json!({
            "type": "object",
            "description": "One event of the stream, as Server-Sent Events frame it: its name \
                            (`change` for a change of one object; `reset`, `restore` or \
                            `import` for an operation on the whole store), its id (its \
                            position) and its data, one JSON object.",
            "required": ["event", "id", "data"],
            "properties": {
                "event": {"type": "string", "enum": ["change", "reset", "restore", "import"]},
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "retry": {"type": "integer", "minimum": 0},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"oneOf": [reference("ChangeEvent"), reference("WholeStoreEvent")]},
                },
            },
        }),
        "RequestEntry" => json!({
            "type": "object",
            "description": "One request the API answered, as the request journal keeps it.",
            "additionalProperties": false,
            "required": ["id", "time", "method", "path", "request_id", "status", "duration_ms"],
            "properties": {
                "id": {"type": "integer", "minimum": 1, "description": "Its number in the journal."},
                "time": {"type": "integer", "description": "When it arrived, epoch milliseconds."},
                "method": {"type": "string"},
                "path": {"type": "string"},
                "query": {"type": "string", "description": "Its secret parameters redacted."},
                "user": {"type": "string"},
                "request_id": {"type": "string"},
                "status": {"type": "integer"},
                "error_code": {"type": "integer"},
                "duration_ms": {"type": "number", "minimum": 0},
                "fault_rule": {"type": "string"},
                "connection_dropped": {"type": "boolean"},
                "request_body": reference("RequestBody"),
                "response_body": reference("RequestBody"),
            },
        }),
        "RequestBody" => json!({
            "type": "object",
            "description": "A body as the journal keeps it (`journal.bodies`): its size, its \
                            text up to `journal.body_limit` bytes with every secret redacted, \
                            and whether that is all of it.",
            "additionalProperties": false,
            "required": ["size", "text", "truncated"],
            "properties": {
                "size": {"type": "integer", "minimum": 0},
                "content_type": {"type": "string"},
                "text": {"type": "string"},
                "truncated": {"type": "boolean"},
            },
        }),
        "RequestEntryListResult" => json!({
            "type": "object",
            "required": ["results", "result_count"],
            "properties": {
                "results": {"type": "array", "items": reference("RequestEntry")},
                "result_count": {"type": "integer", "minimum": 0},
                "cursor": {"type": "string"},
            },
        }),
        "RequestEvent" => json!({
            "type": "object",
            "description": "One `request` event: its id is the entry's, its data the entry.",
            "required": ["event", "id", "data"],
            "properties": {
                "event": {"type": "string", "enum": ["request"]},
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "retry": {"type": "integer", "minimum": 0},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": reference("RequestEntry"),
                },
            },
        }),
        "WholeStoreEvent" => json!({
            "type": "object",
            "description": "The data of a `reset`, `restore` or `import` event: who and when, \
                            and what the operation answered (`objects_removed`; the \
                            snapshot's `name`, `created` and `objects`; `imported`). A reader \
                            that shows the store's state reads it anew.",
            "additionalProperties": false,
            "required": ["position", "operation", "user", "time"],
            "properties": {
                "position": {"type": "integer", "minimum": 1},
                "operation": {"type": "string", "enum": ["reset", "restore", "import"]},
                "user": {"type": "string"},
                "time": {"type": "integer", "description": "Epoch milliseconds."},
                "objects_removed": {"type": "integer", "minimum": 0},
                "name": {"type": "string"},
                "created": {"type": "integer", "description": "Epoch milliseconds."},
                "objects": {"type": "integer", "minimum": 0},
                "imported": {"type": "integer", "minimum": 0},
            },
        }),
        "ChangeEvent" => json!({
            "type": "object",
            "description": "The data of one `change` event; the event's id is its position.",
            "additionalProperties": false,
            "required": ["position", "path", "operation", "revision", "user", "time"],
            "properties": {
                "position": {"type": "integer", "minimum": 1},
                "path": {"type": "string"},
                "operation": {"type": "string", "enum": ["create", "replace", "patch", "delete"]},
                "revision": {"type": "integer"},
                "user": {"type": "string"},
                "time": {"type": "integer", "description": "Epoch milliseconds."},
            },
        }),
        _ => return None,
    })
}

/// Fault rules, reset, snapshots, export and import.
fn state(name: &str) -> Option<Value> {
    Some(match name {
        "FaultRule" => fault_rule(false),
        "FaultRuleInForce" => fault_rule(true),
        "FaultRuleListResult" => list_of("FaultRuleInForce"),
        "ResetResult" => json!({
            "type": "object",
            "required": ["objects_removed"],
            "properties": {"objects_removed": {"type": "integer", "minimum": 0}},
        }),
        "Snapshot" => json!({
            "type": "object",
            "required": ["name", "created", "objects"],
            "properties": {
                "name": {"type": "string"},
                "created": {"type": "integer", "description": "Epoch milliseconds."},
                "objects": {"type": "integer", "minimum": 0},
            },
        }),
        "SnapshotListResult" => list_of("Snapshot"),
        "ExportedObjects" => json!({
            "type": "string",
            "description": "One object a line, as GET serves it, in path order.",
        }),
        "ImportedObjects" => json!({
            "type": "string",
            "description": "One object a line, at its path (a traceflow also at its id alone): \
                            with its server fields they are kept; with only client fields, \
                            created as a PUT would.",
        }),
        "ImportResult" => json!({
            "type": "object",
            "required": ["imported"],
            "properties": {"imported": {"type": "integer", "minimum": 0}},
        }),
        _ => return None,
    })
}

/// A fault rule, as written (`in_force`: as listed, with its id and hits).
fn fault_rule(in_force: bool) -> Value {
    let mut rule = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "match": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "method": {"type": "string"},
                    "path": {"type": "string", "description": "A glob: * any characters but /, ** any."},
                    "user": {"type": "string"},
                },
            },
            "probability": {"type": "number", "minimum": 0, "maximum": 1, "default": 1},
            "skip": {"type": "integer", "minimum": 0, "default": 0},
            "times": {"type": "integer", "minimum": 0, "nullable": true},
            "latency_ms": {
                "oneOf": [
                    {"type": "integer", "minimum": 0},
                    {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
                ],
            },
            "error": {
                "type": "object",
                "additionalProperties": false,
                "required": ["status"],
                "properties": {
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "error_code": {"type": "integer"},
                    "error_message": {"type": "string"},
                    "module_name": {"type": "string", "default": "Policy"},
                },
            },
            "drop_connection": {"type": "boolean", "default": false},
            "when": {"type": "string", "enum": ["before", "after"], "default": "before"},
        },
    });
    if in_force {
        rule["properties"]["id"] = json!({"type": "string"});
        rule["properties"]["hits"] = json!({"type": "integer", "minimum": 0});
        rule["required"] = json!(["id", "hits"]);
    }
    rule
}
