//! The API documents (OpenAPI 3.0), served by [`super::spec`]: NSX's operations at NSX's own
//! spec paths, and the store's extensions at `/store/v1/openapi.json`. Paths, methods, parameters, bodies and
//! error answers come from the operations table ([`super::operations`]); the schemas of the
//! bodies are below, beside it. The schemathesis run of the test suite holds every answer
//! of the live server to them.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::operations::{Access, Content, Doc, Document, Operation};

/// The document of the operations that belong to `which`.
pub fn document(which: Document, operations: &[Operation]) -> Value {
    let (title, description) = match which {
        Document::Nsx => (
            "NSX Policy API (nsx-policy-store)",
            "The NSX Policy API, as nsx-policy-store serves it: Antrea traceflows with their \
             runs, and every object type of the catalog generated from VMware's SDK.",
        ),
        Document::Store => (
            "nsx-policy-store extensions",
            "The store's own API for test harnesses: results scripts, reset, snapshots, \
             export and import, fault injection, and the revisions of every object.",
        ),
    };
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut schemas = Map::new();
    for operation in operations.iter().filter(|op| op.document == which) {
        let doc = &operation.doc;
        for content in [doc.body, doc.answer].into_iter().flatten() {
            if let Some(name) = schema_name(content) {
                schemas.insert(name.to_owned(), schema(name));
            }
        }
        paths.entry(operation.path.clone()).or_default().insert(
            operation.method.as_str().to_lowercase(),
            describe(operation),
        );
    }
    schemas.insert("ApiError".into(), schema("ApiError"));
    for name in nested_schemas(&schemas) {
        schemas.insert(name.to_owned(), schema(name));
    }
    let mut paths: Map<String, Value> = paths
        .into_iter()
        .map(|(path, methods)| (path, Value::Object(methods)))
        .collect();
    if which == Document::Nsx {
        super::openapi_catalog::add_catalog(&mut paths, &mut schemas);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "description": description,
            "version": env!("CARGO_PKG_VERSION"),
        },
        "servers": [{"url": "/"}],
        "security": [{"basicAuth": []}, {"session": [], "xsrfToken": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "JSESSIONID"},
                "xsrfToken": {"type": "apiKey", "in": "header", "name": "X-XSRF-TOKEN"},
            },
            "parameters": {
                "RequestId": {
                    "name": "X-Request-Id",
                    "in": "header",
                    "required": false,
                    "description": "1-128 visible ASCII characters, logged with the request and \
                                    answered back; any other value is replaced by a new id.",
                    "schema": {"type": "string"},
                },
            },
            "headers": {
                "RequestId": {
                    "description": "The request's id, as logged: the client's own or a new one.",
                    "required": true,
                    "schema": {"type": "string"},
                },
            },
        },
    })
}

fn describe(operation: &Operation) -> Value {
    let doc: &Doc = &operation.doc;
    let mut parameters = vec![json!({"$ref": "#/components/parameters/RequestId"})];
    for name in path_parameters(&operation.path) {
        parameters.push(json!({
            "name": name,
            "in": "path",
            "required": true,
            "schema": path_parameter_schema(&operation.path, name),
        }));
    }
    for param in doc.query {
        let schema: Value =
            serde_json::from_str(param.schema).expect("a parameter's schema is JSON");
        let mut parameter = json!({
            "name": param.name,
            "in": "query",
            "required": param.required,
            "schema": schema,
        });
        if !param.description.is_empty() {
            parameter["description"] = json!(param.description);
        }
        parameters.push(parameter);
    }
    let headers = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"}});
    let mut success = json!({"description": "Done.", "headers": headers});
    match doc.answer {
        Some(content) => success["content"] = media(content),
        None => success["description"] = json!("Done; the body is empty."),
    }
    let error = |description: &str| {
        json!({
            "description": description,
            "headers": headers,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}},
        })
    };
    let mut responses = Map::new();
    responses.insert("200".into(), success);
    for status in doc.errors {
        responses.insert(status.to_string(), error(error_description(*status)));
    }
    responses.insert("403".into(), error(error_description(403)));
    responses.insert(
        "default".into(),
        error(
            "Any other failure: 405 for a method the path does not have, 503/99 while the \
               store cannot be written, 500/100 naming the request id.",
        ),
    );
    let mut described = json!({
        "operationId": doc.operation_id,
        "summary": doc.summary,
        "parameters": parameters,
        "responses": responses,
    });
    match doc.access {
        Access::Anyone => described["security"] = json!([]),
        Access::Read => described["x-permission"] = json!("read"),
        Access::Crud => described["x-permission"] = json!("crud"),
    }
    if let Some(content) = doc.body {
        described["requestBody"] = json!({"required": true, "content": media(content)});
    }
    described
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => {
            "The request is not valid (255, naming the field), or creates an object that \
                already exists (500127)."
        }
        403 => {
            "No or bad credentials (403), a session without its XSRF token (98), or a role \
                without the permission (401)."
        }
        404 => "No such object (600).",
        412 => "The _revision sent is not the stored one (206).",
        413 => "The body is too large (255).",
        _ => "An error.",
    }
}

fn media(content: Content) -> Value {
    let (media_type, name) = match content {
        Content::Json(name) => ("application/json", name),
        Content::Ndjson(name) => ("application/x-ndjson", name),
        Content::Form(name) => ("application/x-www-form-urlencoded", name),
        Content::EventStream(name) => ("text/event-stream", name),
        Content::Static(media_type) => return json!({media_type: {"schema": {"type": "string"}}}),
    };
    json!({media_type: {"schema": {"$ref": format!("#/components/schemas/{name}")}}})
}

fn schema_name(content: Content) -> Option<&'static str> {
    match content {
        Content::Json(name)
        | Content::Ndjson(name)
        | Content::Form(name)
        | Content::EventStream(name) => Some(name),
        Content::Static(_) => None,
    }
}

/// The `{name}` segments of a route template.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn path_parameter_schema(path: &str, name: &str) -> Value {
    match name {
        "name" => json!({"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}),
        "id" if path.starts_with(super::faults::FAULTS_PATH) => json!({"type": "string"}),
        // A traceflow id: 1 to 255 characters after percent-decoding, no `/`, no control
        // characters, not only white space.
        _ => json!({
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": ID_PATTERN,
        }),
    }
}

/// No `/`, no control character, at least one character that is not white space.
const ID_PATTERN: &str = r"^[^/\u0000-\u001f\u007f-\u009f]*[^/\s\u0000-\u001f\u007f-\u009f][^/\u0000-\u001f\u007f-\u009f]*$";

/// The schemas the given ones refer to, transitively.
fn nested_schemas(schemas: &Map<String, Value>) -> Vec<&'static str> {
    let mut wanted: Vec<&'static str> = Vec::new();
    let mut queue: Vec<Value> = schemas.values().cloned().collect();
    while let Some(value) = queue.pop() {
        for name in references(&value) {
            if !schemas.contains_key(name) && !wanted.contains(&name) {
                wanted.push(name);
                queue.push(schema(name));
            }
        }
    }
    wanted
}

fn references(value: &Value) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                let schema_ref = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|target| target.strip_prefix("#/components/schemas/"));
                if let Some(name) = schema_ref {
                    let known = SCHEMA_NAMES.iter().find(|known| **known == name);
                    found.push(*known.expect("every schema referred to is named"));
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

const SCHEMA_NAMES: &[&str] = &[
    "ApiError",
    "AntreaTraceflowConfig",
    "AntreaTraceflowConfigListResult",
    "AntreaTraceflowPacketData",
    "Tag",
    "AntreaTraceflowStatus",
    "AntreaTraceflowObservation",
    "AntreaTraceflowObservationListResult",
    "NodeVersion",
    "NodeProperties",
    "NodeHealth",
    "OpenApiDocument",
    "SessionCredentials",
    "RevisionListResult",
    "Revision",
    "TraceflowScript",
    "FaultRule",
    "FaultRuleInForce",
    "FaultRuleListResult",
    "ResetResult",
    "Snapshot",
    "SnapshotListResult",
    "ExportedObjects",
    "ImportedObjects",
    "ImportResult",
    "OrgRoot",
    "GenericPolicyRealizedResource",
    "GenericPolicyRealizedResourceListResult",
    "ConsolidatedRealizedStatus",
    "SegmentConfigurationState",
    "RealizationScript",
    "SearchResponse",
    "StoreEvent",
    "ChangeEvent",
    "WholeStoreEvent",
    "RequestEntry",
    "RequestEntryListResult",
    "RequestEvent",
    "RequestBody",
    "WhoAmI",
    "TreeNode",
    "TreeBranches",
    "DeterminismState",
    "EarlierRun",
    "EarlierRunList",
];

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn realized_state() -> Value {
    json!({"type": "string", "enum": ["UNREALIZED", "REALIZED", "ERROR", "UNAVAILABLE"]})
}

fn port() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 65535})
}

fn byte() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 255})
}

fn epoch_ms(description: &str) -> Value {
    json!({"type": "integer", "description": description, "readOnly": true})
}

fn read_only(kind: &str, description: &str) -> Value {
    json!({"type": kind, "description": description, "readOnly": true})
}

fn list_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["results", "result_count"],
        "properties": {
            "results": {"type": "array", "items": reference(item)},
            "result_count": {"type": "integer", "minimum": 0},
        },
    })
}

/// The schema of one named body.
fn schema(name: &str) -> Value {
    match name {
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
        "Tag" => json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "scope": {"type": "string", "maxLength": 128},
                "tag": {"type": "string", "maxLength": 256},
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
            "description": "One AntreaTraceflowConfig a line, as GET serves it, in path order.",
        }),
        "ImportedObjects" => json!({
            "type": "string",
            "description": "One AntreaTraceflowConfig a line: with its server fields they are \
                            kept; with only client fields and an id, created as a PUT would.",
        }),
        "ImportResult" => json!({
            "type": "object",
            "required": ["imported"],
            "properties": {"imported": {"type": "integer", "minimum": 0}},
        }),
        other => unreachable!("no schema named {other}"),
    }
}

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

/// The operations an API document describes, as `(method, path)`, for the completeness test.
pub fn described(document: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for (path, methods) in paths {
            for method in methods.as_object().into_iter().flatten().map(|(m, _)| m) {
                found.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::operations::operations;

    /// Every schema a document refers to is in it, and every named schema renders.
    #[test]
    fn every_reference_resolves() {
        for name in SCHEMA_NAMES {
            schema(name);
        }
        let operations = operations();
        for which in [Document::Nsx, Document::Store] {
            let document = document(which, &operations);
            let schemas = document["components"]["schemas"].as_object().unwrap();
            let text = document.to_string();
            for reference in text.split("\"#/components/schemas/").skip(1) {
                let name = reference.split('"').next().unwrap();
                assert!(schemas.contains_key(name), "{which:?} lacks {name}");
            }
        }
    }

    /// Each operation is in exactly one document, with its method and route template.
    #[test]
    fn the_documents_describe_every_operation_once() {
        let operations = operations();
        let nsx = described(&document(Document::Nsx, &operations));
        let store = described(&document(Document::Store, &operations));
        // The catalog's routes are served by the one catalog-wide resource, not the table.
        let from_table =
            |(_, path): &(String, String)| operations.iter().any(|op| &op.path == path);
        let mut all: Vec<_> = nsx
            .iter()
            .chain(&store)
            .filter(|op| from_table(op))
            .cloned()
            .collect();
        all.sort();
        let mut served: Vec<_> = operations
            .iter()
            .map(|op| (op.method.to_string(), op.path.clone()))
            .collect();
        served.sort();
        assert_eq!(all, served);
        assert!(store
            .iter()
            .all(|(_, path)| path.starts_with("/store/v1/") || path.starts_with("/store/ui/")));
        assert!(nsx.iter().all(|(_, path)| !path.starts_with("/store/")));
    }
}
