//! The catalog's part of NSX's API document: for every object route the catalog serves (but
//! those the operations table describes, a kind's), its GET, PUT, PATCH and DELETE and its
//! collection's list, and a schema for every type they use, rendered from the catalog's own
//! types (fields, their types, enums, bounds, lengths, read-only fields). The schemas are open
//! (`additionalProperties` is not closed), as a polymorphic field's value carries its
//! subtype's fields.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::domain::catalog::{catalog, Catalog, Field, FieldType, ObjectRoute, TypeId};

const API: &str = "/policy/api/v1";

/// Adds the catalog's operations to `paths` and the schemas they use to `schemas`. A path
/// already there (a kind's, from the operations table), with its collection, and a schema
/// already there, written by hand, are kept.
pub fn add_catalog(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let catalog = catalog();
    let described: BTreeSet<String> = paths.keys().map(|path| shape(path)).collect();
    let mut used = BTreeSet::new();
    for (_, route) in catalog.routes() {
        if described.contains(&shape(&format!("{API}{}", route.template))) {
            continue;
        }
        let object = catalog.type_def(route.object_type).name.as_str();
        used.insert(route.object_type);
        let mut methods = Map::new();
        let variables = variables(&route.template);
        if route.methods.get {
            methods.insert(
                "get".into(),
                operation("Read", route, &variables, None, Some(object), &[404]),
            );
        }
        // A write's body is the object; a PUT answers it, a PATCH only where the bindings
        // declare so.
        let writes = [
            ("put", "Put", route.methods.put, Some(object)),
            (
                "patch",
                "Patch",
                route.methods.patch,
                route.patch_answers.then_some(object),
            ),
        ];
        for (method, verb, served, answer) in writes {
            if served {
                let errors = [400, 404, 412];
                let written = operation(verb, route, &variables, Some(object), answer, &errors);
                methods.insert(method.into(), written);
            }
        }
        if route.methods.delete {
            methods.insert(
                "delete".into(),
                operation("Delete", route, &variables, None, None, &[400]),
            );
        }
        let described = paths
            .entry(format!("{API}{}", route.template))
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path's operations");
        for (method, operation) in methods {
            // Where the path is a collection too, its GET is the list (below).
            if method != "get" || !described.contains_key("get") {
                described.insert(method, operation);
            }
        }
        if let (Some(list), true) = (route.list, route.is_collection_member()) {
            used.insert(list);
            let collection = route.template.rsplit_once('/').map_or("", |(head, _)| head);
            let list_name = catalog.type_def(list).name.as_str();
            let mut get = operation(
                "List",
                route,
                &variables[..variables.len() - 1],
                None,
                Some(list_name),
                &[400],
            );
            get["parameters"]
                .as_array_mut()
                .expect("parameters")
                .extend(list_parameters(route));
            paths
                .entry(format!("{API}{collection}"))
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("a path's operations")
                .insert("get".into(), get);
        }
    }
    for id in closure(catalog, used) {
        let def = catalog.type_def(id);
        if !schemas.contains_key(&def.name) {
            schemas.insert(def.name.clone(), type_schema(catalog, id));
        }
    }
}

/// A route template with its variables unnamed: `/a/{x}/b` and `/a/{y}/b` are one path.
fn shape(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment.starts_with('{') {
            true => "{}",
            false => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The names of a template's variables, in order.
fn variables(template: &str) -> Vec<String> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

fn operation(
    verb: &str,
    route: &ObjectRoute,
    variables: &[String],
    body: Option<&str>,
    answer: Option<&str>,
    errors: &[u16],
) -> Value {
    let mut parameters = vec![json!({"$ref": "#/components/parameters/RequestId"})];
    parameters.extend(variables.iter().map(
        |name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
    ));
    let headers = json!({"X-Request-Id": {"$ref": "#/components/headers/RequestId"}});
    let mut success = json!({"description": "Done.", "headers": headers});
    match answer {
        Some(name) => success["content"] = json!({"application/json": {"schema": reference(name)}}),
        None => success["description"] = json!("Done; the body is empty."),
    }
    let mut responses = Map::new();
    responses.insert("200".into(), success);
    for status in errors.iter().chain(&[403]) {
        responses.insert(
            status.to_string(),
            json!({"description": "NSX's error.", "headers": headers,
                   "content": {"application/json": {"schema": reference("ApiError")}}}),
        );
    }
    responses.insert(
        "default".into(),
        json!({"description": "Any other failure, as NSX answers it.", "headers": headers,
               "content": {"application/json": {"schema": reference("ApiError")}}}),
    );
    let id: String = route
        .template
        .split(['/', '{', '}', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    let mut described = json!({
        "operationId": format!("{verb}{id}"),
        "summary": format!("{verb} {}", route.template),
        "parameters": parameters,
        "responses": responses,
        "x-permission": if verb == "Read" || verb == "List" { "read" } else { "crud" },
    });
    if let Some(name) = body {
        described["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": reference(name)}}});
    }
    if route.container {
        described["parameters"]
            .as_array_mut()
            .expect("parameters")
            .extend(tree_parameters(verb));
    }
    described
}

/// The query parameters of the Hierarchical API on an `Infra` root: a GET's filters, a
/// write's revision check.
fn tree_parameters(verb: &str) -> Vec<Value> {
    let query = |name: &str, schema: Value, description: &str| {
        json!({"name": name, "in": "query", "required": false, "schema": schema,
               "description": description})
    };
    match verb {
        "Read" => vec![
            query(
                "base_path",
                json!({"type": "string"}),
                "Only this object's subtree.",
            ),
            query(
                "type_filter",
                json!({"type": "string"}),
                "Only objects of these types (comma-separated), with the objects above them.",
            ),
            query(
                "filter",
                json!({"type": "string"}),
                "NSX's form of type_filter: Type-<type>|<type>.",
            ),
        ],
        _ => vec![query(
            "enforce_revision_check",
            json!({"type": "boolean", "default": false}),
            "Check each object's _revision, as a PATCH of it does.",
        )],
    }
}

/// The query parameters of a catalog collection's list.
fn list_parameters(route: &ObjectRoute) -> Vec<Value> {
    let mut parameters = vec![
        json!({"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"}}),
        json!({"name": "page_size", "in": "query", "required": false,
               "schema": {"type": "integer", "minimum": 0, "maximum": 1000}}),
        json!({"name": "sort_by", "in": "query", "required": false, "schema": {"type": "string"}}),
        json!({"name": "sort_ascending", "in": "query", "required": false,
               "schema": {"type": "boolean"}}),
        json!({"name": "include_mark_for_delete_objects", "in": "query", "required": false,
               "schema": {"type": "boolean"}}),
        json!({"name": "included_fields", "in": "query", "required": false,
               "schema": {"type": "string"}}),
    ];
    parameters.extend(route.list_query.iter().map(|name| {
        json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"},
               "description": "Accepted as NSX does; the store does not filter by it."})
    }));
    parameters
}

/// `used` and every type their fields name, and their subtypes.
fn closure(catalog: &Catalog, used: BTreeSet<TypeId>) -> Vec<TypeId> {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut queue: Vec<TypeId> = used.into_iter().collect();
    while let Some(id) = queue.pop() {
        if !seen.insert(id) {
            continue;
        }
        order.push(id);
        let def = catalog.type_def(id);
        queue.extend(def.subtypes.iter().copied());
        for field in def.fields.values() {
            let mut ty = &field.ty;
            while let FieldType::List(inner) = ty {
                ty = inner;
            }
            if let FieldType::Struct(named) | FieldType::Polymorphic(named) = ty {
                queue.push(*named);
            }
        }
    }
    order
}

fn type_schema(catalog: &Catalog, id: TypeId) -> Value {
    let def = catalog.type_def(id);
    let properties: Map<String, Value> = def
        .fields
        .iter()
        .map(|(name, field)| (name.clone(), field_schema(catalog, field)))
        .collect();
    json!({"type": "object", "properties": properties})
}

fn field_schema(catalog: &Catalog, field: &Field) -> Value {
    let mut schema = value_schema(catalog, &field.ty);
    if let Some(object) = schema.as_object_mut() {
        if let Some(values) = &field.values {
            object.insert("enum".into(), json!(values));
        }
        if let Some(minimum) = field.minimum {
            object.insert("minimum".into(), json!(minimum));
        }
        if let Some(maximum) = field.maximum {
            object.insert("maximum".into(), json!(maximum));
        }
        if let Some(length) = field.min_length {
            object.insert("minLength".into(), json!(length));
        }
        if let Some(length) = field.max_length {
            object.insert("maxLength".into(), json!(length));
        }
        if field.read_only {
            object.insert("readOnly".into(), json!(true));
        }
    }
    // A `$ref` takes no siblings in OpenAPI 3.0: wrap it where the field adds any.
    if schema.get("$ref").is_some() && schema.as_object().is_some_and(|o| o.len() > 1) {
        let mut wrapped = schema.as_object().cloned().unwrap_or_default();
        let target = wrapped.remove("$ref").unwrap_or_default();
        wrapped.insert("allOf".into(), json!([{"$ref": target}]));
        schema = Value::Object(wrapped);
    }
    schema
}

fn value_schema(catalog: &Catalog, ty: &FieldType) -> Value {
    match ty {
        FieldType::String => json!({"type": "string"}),
        FieldType::Integer => json!({"type": "integer", "format": "int64"}),
        FieldType::Number => json!({"type": "number"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Any => json!({}),
        FieldType::Struct(id) | FieldType::Polymorphic(id) => {
            reference(&catalog.type_def(*id).name)
        }
        FieldType::List(inner) => json!({"type": "array", "items": value_schema(catalog, inner)}),
    }
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}
