//! The exchange format (the README's "Export and import"): NDJSON, one object a line, as GET
//! serves it. An import keeps the server fields a line carries, and fills in the rest as a
//! create would. A line is a traceflow config, by its `id`, unless its `resource_type` names
//! another type: then it is that object, at its `path`.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::field::without_nul;
use super::generic::{CatalogConfig, CatalogDocument};
use super::object::{Config, Metadata, RESOURCE_TYPE};
use super::traceflow::TraceflowDocument;
use super::{FieldError, ObjectId, ObjectPath, PolicyObject, TraceflowConfig};

/// The server fields an import keeps when a line carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptFields {
    pub unique_id: Option<Uuid>,
    pub create_time: Option<i64>,
    pub create_user: Option<String>,
    pub last_modified_time: Option<i64>,
    pub last_modified_user: Option<String>,
    pub revision: Option<i64>,
}

/// One line of an import, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportLine {
    /// 1 for the first line.
    pub number: usize,
    pub path: ObjectPath,
    pub config: Config,
    pub kept: KeptFields,
}

impl ImportLine {
    /// The object this line creates, its missing server fields filled in: a new `unique_id`,
    /// `now`, `user`, revision 0.
    pub fn into_object(self, now: i64, user: &str, unique_id: Uuid) -> PolicyObject {
        let kept = self.kept;
        let create_time = kept.create_time.or(kept.last_modified_time).unwrap_or(now);
        let create_user = kept.create_user.unwrap_or_else(|| user.to_owned());
        PolicyObject::new(
            self.path,
            self.config,
            Metadata {
                unique_id: kept.unique_id.unwrap_or(unique_id),
                revision: kept.revision.unwrap_or(0),
                create_time,
                last_modified_time: kept.last_modified_time.unwrap_or(create_time),
                last_modified_user: kept
                    .last_modified_user
                    .unwrap_or_else(|| create_user.clone()),
                create_user,
                marked_for_delete: false,
            },
        )
    }
}

/// A line that cannot be imported: its number and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub error: FieldError,
}

impl LineError {
    /// The error as the client sees it: the line number before the field.
    pub fn into_field_error(self) -> FieldError {
        FieldError::new(
            format!("line {}: {}", self.line, self.error.field),
            self.error.message,
        )
    }
}

/// Parses an NDJSON body, line by line; blank lines are skipped. Refuses an id given twice.
pub fn parse_import(body: &[u8]) -> Result<Vec<ImportLine>, LineError> {
    let text = std::str::from_utf8(body).map_err(|err| {
        let line = body[..err.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        LineError {
            line,
            error: FieldError::new(".", "is not valid UTF-8"),
        }
    })?;
    let mut lines = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = parse_line(number, line).map_err(|error| LineError {
            line: number,
            error,
        })?;
        if !seen.insert(parsed.path.clone()) {
            let field = if parsed.path.is_traceflow() {
                "id"
            } else {
                "path"
            };
            return Err(LineError {
                line: number,
                error: FieldError::new(
                    field,
                    format!("{:?} is given on an earlier line", parsed.path.as_str()),
                ),
            });
        }
        lines.push(parsed);
    }
    Ok(lines)
}

fn parse_line(number: usize, line: &str) -> Result<ImportLine, FieldError> {
    let value: Value = serde_json::from_str(line)
        .map_err(|err| FieldError::new(".", format!("is not valid JSON: {err}")))?;
    without_nul(&value, "")?;
    let Value::Object(mut object) = value else {
        return Err(FieldError::new(".", "must be a JSON object"));
    };
    let path = line_path(&object)?;
    let kept = KeptFields {
        unique_id: take(
            &mut object,
            "unique_id",
            |v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()),
            "must be a UUID",
        )?,
        create_time: take(
            &mut object,
            "_create_time",
            Value::as_i64,
            "must be an integer",
        )?,
        create_user: take(
            &mut object,
            "_create_user",
            |v| v.as_str().map(str::to_owned),
            "must be a string",
        )?,
        last_modified_time: take(
            &mut object,
            "_last_modified_time",
            Value::as_i64,
            "must be an integer",
        )?,
        last_modified_user: take(
            &mut object,
            "_last_modified_user",
            |v| v.as_str().map(str::to_owned),
            "must be a string",
        )?,
        revision: take(
            &mut object,
            "_revision",
            |v| v.as_i64().filter(|r| *r >= 0),
            "must be an integer of at least 0",
        )?,
    };
    if let (Some(created), Some(modified)) = (kept.create_time, kept.last_modified_time) {
        if modified < created {
            return Err(FieldError::new(
                "_last_modified_time",
                "must not be before _create_time",
            ));
        }
    }
    // The rest is read as a PUT body is: client fields closed, server fields ignored.
    let config = if path.is_traceflow() {
        let document = TraceflowDocument::from_object(object, path.id())?;
        Config::Traceflow(Box::new(TraceflowConfig::complete(
            document.fields,
            path.id(),
        )?))
    } else {
        let document = CatalogDocument::from_object(object, &path)?;
        Config::Catalog(CatalogConfig::complete(
            document.resource_type,
            document.members,
            path.id(),
        ))
    };
    Ok(ImportLine {
        number,
        path,
        config,
        kept,
    })
}

/// Removes `name` from `object` and converts it; `null` counts as absent.
/// Where a line's object goes: a traceflow config by its `id` (its `path`, if any, is
/// ignored as on a PUT), any other type at its `path`.
fn line_path(object: &Map<String, Value>) -> Result<ObjectPath, FieldError> {
    let catalog_type = match object.get("resource_type") {
        Some(Value::String(name)) => name != RESOURCE_TYPE,
        _ => false,
    };
    if !catalog_type {
        return match object.get("id") {
            Some(Value::String(id)) => Ok(ObjectPath::traceflow(&ObjectId::parse(id)?)),
            Some(_) => Err(FieldError::new("id", "must be a string")),
            None => Err(FieldError::new("id", "required property not present")),
        };
    }
    let Some(Value::String(path)) = object.get("path") else {
        return Err(FieldError::new(
            "path",
            "required property not present; an object other than a traceflow is imported at its path",
        ));
    };
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or("").split('/').collect();
    ObjectPath::locate(&segments)?
        .ok_or_else(|| FieldError::new("path", format!("{path} is not a path the catalog serves")))
}

fn take<T>(
    object: &mut Map<String, Value>,
    name: &str,
    convert: impl FnOnce(&Value) -> Option<T>,
    rule: &str,
) -> Result<Option<T>, FieldError> {
    match object.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => convert(&value)
            .map(Some)
            .ok_or_else(|| FieldError::new(name, rule)),
    }
}

/// The export of `objects`: one line each, as GET serves it.
pub fn export_lines<'a>(objects: impl IntoIterator<Item = &'a PolicyObject>) -> String {
    let mut out = String::new();
    for object in objects {
        out.push_str(&object.to_json());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_keeps_the_server_fields_it_carries() {
        let body = br#"{"id": "t1", "container_cluster_id": "c", "source_external_id": "s", "unique_id": "0b9d6e55-5bd4-4b4f-8b1e-0cf0c1f0a8a1", "_create_time": 5, "_create_user": "ann", "_revision": 3, "path": "/ignored"}
{"id": "t2", "container_cluster_id": "c", "source_external_id": "s"}
"#;
        let lines = parse_import(body).unwrap();
        let kept = lines[0].clone().into_object(100, "admin", Uuid::nil());
        assert_eq!(kept.meta.create_time, 5);
        assert_eq!(kept.meta.last_modified_time, 5);
        assert_eq!(kept.meta.create_user, "ann");
        assert_eq!(kept.meta.last_modified_user, "ann");
        assert_eq!(kept.meta.revision, 3);
        assert_eq!(
            kept.meta.unique_id.to_string(),
            "0b9d6e55-5bd4-4b4f-8b1e-0cf0c1f0a8a1"
        );
        let created = lines[1].clone().into_object(100, "admin", Uuid::nil());
        assert_eq!((created.meta.create_time, created.meta.revision), (100, 0));
        assert_eq!(created.meta.create_user, "admin");
    }

    #[test]
    fn a_bad_line_is_named_with_its_field() {
        let error = |body: &str| parse_import(body.as_bytes()).unwrap_err();
        let good = r#"{"id": "t1", "container_cluster_id": "c", "source_external_id": "s"}"#;
        let err = error(&format!("{good}\n\n{{\"id\": \"t2\", \"container_cluster_id\": \"c\", \"source_external_id\": \"s\", \"timeout\": -1}}"));
        assert_eq!((err.line, err.error.field.as_str()), (3, "timeout"));
        assert_eq!(err.into_field_error().field, "line 3: timeout");
        assert_eq!(error(&format!("{good}\n{good}")).line, 2);
        assert_eq!(error("{").error.field, ".");
        assert_eq!(error(r#"{"container_cluster_id": "c"}"#).error.field, "id");
        assert_eq!(
            error(r#"{"id": "t1", "source_external_id": "s"}"#)
                .error
                .field,
            "container_cluster_id"
        );
    }
}
