//! A child object as a body names it, for every body that nests objects (a tree's children,
//! a parent's embedded lists): its id, its path below its parent, and an error named from
//! the body's top (`children[0].Group.id`, `rules[2].action`).

use std::borrow::Cow;

use serde_json::Value;

use super::catalog::{catalog, RouteId};
use super::document::given_id;
use super::path::ObjectPath;
use super::FieldError;

/// A child's `id`: a string, or an integer's text ([`given_id`]); `field` is its dotted
/// path, for the error.
pub fn child_id<'a>(value: Option<&'a Value>, field: &str) -> Result<Cow<'a, str>, FieldError> {
    match value {
        None | Some(Value::Null) => Err(FieldError::new(field, "required property not present")),
        Some(value) => given_id(value).ok_or_else(|| FieldError::new(field, "must be a string")),
    }
}

/// The path of the child of `route` with `id` below `parent`, its id checked as a path's.
pub fn child_path(
    route: RouteId,
    parent: &str,
    id: &str,
    at: &str,
) -> Result<ObjectPath, FieldError> {
    let text = catalog().child_path(route, parent, id);
    let segments: Vec<&str> = text.split('/').skip(1).collect();
    match ObjectPath::locate(&segments) {
        Ok(Some(path)) if path.route() == route => Ok(path),
        Ok(_) => Err(FieldError::new(
            format!("{at}.id"),
            format!("{id:?} names a path the catalog serves as something else: {text}"),
        )),
        Err(error) => Err(FieldError::new(format!("{at}.id"), error.message)),
    }
}

/// A field error of a nested object, named from the request body's top.
pub fn within(at: &str) -> impl Fn(FieldError) -> FieldError + '_ {
    move |error| {
        let field = match error.field.as_str() {
            "." | "" => at.to_owned(),
            field => format!("{at}.{field}"),
        };
        FieldError::new(field, error.message)
    }
}

/// `field` below `at`, dotted (`field` alone at the body's top).
pub fn dotted(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_owned()
    } else {
        format!("{at}.{field}")
    }
}
