//! The exchange format (the README's "Export and import"): NDJSON, one object a line, as GET
//! serves it. An import keeps the server fields a line carries, and fills in the rest as a
//! create would. A line goes where its `id` alone says, where a kind takes such lines (the
//! registry's [`Kinds::path_of_bare_id`]: a traceflow's), unless its `resource_type` names
//! another type: then it is that object, at its `path`.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::field::without_nul;
use super::kind::Kinds;
use super::object::Metadata;
use super::{Config, FieldError, ObjectId, ObjectPath, PolicyObject};

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
    /// The field that said where the line goes: `id`, or `path`.
    pub located_by: &'static str,
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
    /// The refusal of `line`, whose object exists already.
    pub fn exists(line: &ImportLine) -> Self {
        Self {
            line: line.number,
            error: FieldError::new(line.located_by, "an object with this path exists already"),
        }
    }

    /// The error as the client sees it: the line number before the field.
    pub fn into_field_error(self) -> FieldError {
        FieldError::new(
            format!("line {}: {}", self.line, self.error.field),
            self.error.message,
        )
    }
}

/// Parses an NDJSON body, line by line; blank lines are skipped. Refuses a path given twice.
pub fn parse_import(body: &[u8], kinds: &dyn Kinds) -> Result<Vec<ImportLine>, LineError> {
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
        let parsed = parse_line(number, line, kinds).map_err(|error| LineError {
            line: number,
            error,
        })?;
        for parsed in parsed {
            if !seen.insert(parsed.path.clone()) {
                return Err(LineError {
                    line: number,
                    error: FieldError::new(
                        parsed.located_by,
                        format!("{:?} is given on an earlier line", parsed.path.as_str()),
                    ),
                });
            }
            lines.push(parsed);
        }
    }
    Ok(lines)
}

/// The objects one line creates: its own, then those of its embedded lists (an export has
/// none: it writes each child on a line of its own), each child's `_revision` kept.
fn parse_line(number: usize, line: &str, kinds: &dyn Kinds) -> Result<Vec<ImportLine>, FieldError> {
    let value: Value = serde_json::from_str(line)
        .map_err(|err| FieldError::new(".", format!("is not valid JSON: {err}")))?;
    without_nul(&value, "")?;
    let Value::Object(mut object) = value else {
        return Err(FieldError::new(".", "must be a JSON object"));
    };
    let (path, located_by) = line_path(&object, kinds)?;
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
    let mut document = kinds.document(object, &path)?;
    let embedded = std::mem::take(&mut document.embedded);
    let config = Config::create(document, path.id());
    kinds.at(&path).complete(config.members())?;
    let mut lines = vec![ImportLine {
        number,
        path,
        located_by,
        config,
        kept,
    }];
    for (child, document) in embedded.into_iter().flat_map(|listed| listed.items) {
        let kept = KeptFields {
            revision: document.revision.filter(|revision| *revision >= 0),
            ..KeptFields::default()
        };
        let config = Config::create(document, child.id());
        kinds.at(&child).complete(config.members())?;
        lines.push(ImportLine {
            number,
            path: child,
            located_by: "id",
            config,
            kept,
        });
    }
    Ok(lines)
}

/// Where a line's object goes, and the field that says so: where its `id` alone says, for
/// the kind that takes such lines (its `path`, if any, is ignored as on a PUT), unless its
/// `resource_type` names another type: then at its `path`.
fn line_path(
    object: &Map<String, Value>,
    kinds: &dyn Kinds,
) -> Result<(ObjectPath, &'static str), FieldError> {
    let named = match object.get("resource_type") {
        Some(Value::String(name)) => Some(name.as_str()),
        _ => None,
    };
    if let Some(bare) = kinds.bare_id_type() {
        if named.is_none_or(|name| name == bare) {
            let path = match object.get("id") {
                Some(Value::String(id)) => kinds.path_of_bare_id(&ObjectId::parse(id)?),
                Some(_) => return Err(FieldError::new("id", "must be a string")),
                None => return Err(FieldError::new("id", "required property not present")),
            };
            return Ok((path.expect("the kind of bare ids places them"), "id"));
        }
    }
    let Some(Value::String(path)) = object.get("path") else {
        return Err(FieldError::new(
            "path",
            "required property not present; an object is imported at its path",
        ));
    };
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or("").split('/').collect();
    let path = ObjectPath::locate(&segments)?.ok_or_else(|| {
        FieldError::new("path", format!("{path} is not a path the catalog serves"))
    })?;
    Ok((path, "path"))
}

/// Removes `name` from `object` and converts it; `null` counts as absent.
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
