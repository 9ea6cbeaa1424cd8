//! The API documents (OpenAPI 3.0), served by [`super::spec`]: NSX's operations at NSX's own
//! spec paths, and the store's extensions at `/store/v1/openapi.json`. Paths, methods,
//! parameters, bodies and error answers come from the operations table
//! ([`super::operations`]); the schemas of the bodies are the core's (`schemas.rs`) and the
//! kinds' ([`KindsApi::schema`]); the catalog's routes and types are rendered from the
//! catalog (`catalog.rs`). The schemathesis run of the test suite holds every answer of the
//! live server to them.

mod catalog;
pub mod schemas;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::operation::{Access, Content, Doc, Document, KindsApi, Operation};

/// The document of the operations that belong to `which`, with the kinds' schemas.
pub fn document(which: Document, operations: &[Operation], kinds: &KindsApi) -> Value {
    let schema = |name: &str| {
        schemas::schema(name)
            .or_else(|| (kinds.schema)(name))
            .unwrap_or_else(|| panic!("no schema named {name}"))
    };
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
        for content in [&doc.body, &doc.answer].into_iter().flatten() {
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
    for (name, nested) in nested_schemas(&schemas, schema) {
        schemas.insert(name, nested);
    }
    let mut paths: Map<String, Value> = paths
        .into_iter()
        .map(|(path, methods)| (path, Value::Object(methods)))
        .collect();
    if which == Document::Nsx {
        catalog::add_catalog(&mut paths, &mut schemas);
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
    for param in &doc.query {
        let mut parameter = json!({
            "name": param.name,
            "in": "query",
            "required": param.required,
            "schema": param.schema,
        });
        if !param.description.is_empty() {
            parameter["description"] = json!(param.description);
        }
        parameters.push(parameter);
    }
    let headers = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"}});
    let mut success = json!({"description": "Done.", "headers": headers});
    match &doc.answer {
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
    responses.insert(doc.status.to_string(), success);
    for &status in &doc.errors {
        responses.insert(status.to_string(), error(error_description(status)));
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
    if let Some(content) = &doc.body {
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

fn media(content: &Content) -> Value {
    let (media_type, name) = match content {
        Content::Json(name) => ("application/json", name),
        Content::Ndjson(name) => ("application/x-ndjson", name),
        Content::Form(name) => ("application/x-www-form-urlencoded", name),
        Content::EventStream(name) => ("text/event-stream", name),
        Content::Static(media_type) => return json!({media_type: {"schema": {"type": "string"}}}),
    };
    json!({media_type: {"schema": {"$ref": format!("#/components/schemas/{name}")}}})
}

fn schema_name(content: &Content) -> Option<&str> {
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
        // An object's id: 1 to 255 characters after percent-decoding, no `/`, no control
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

/// The schemas the given ones refer to, transitively, that are not among them.
fn nested_schemas(
    schemas: &Map<String, Value>,
    schema: impl Fn(&str) -> Value,
) -> Vec<(String, Value)> {
    let mut wanted: Vec<(String, Value)> = Vec::new();
    let mut queue: Vec<Value> = schemas.values().cloned().collect();
    while let Some(value) = queue.pop() {
        for name in references(&value) {
            if !schemas.contains_key(&name) && !wanted.iter().any(|(known, _)| *known == name) {
                let nested = schema(&name);
                queue.push(nested.clone());
                wanted.push((name, nested));
            }
        }
    }
    wanted
}

/// The names of the schemas `value` refers to.
fn references(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                let schema_ref = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|target| target.strip_prefix("#/components/schemas/"));
                found.extend(schema_ref.map(str::to_owned));
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
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
