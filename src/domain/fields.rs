//! The fields every object's envelope has, whatever its type: what the server sets, what
//! NSX links with, and who the store's own objects are created by. A body's envelope is read
//! with them once for every type ([`super::document`]).

/// Every field the server sets on an object it serves, `display_name`'s default aside:
/// exactly what [`super::PolicyObject::to_json`] adds to the client's config (a root, which has no
/// parent, has no `parent_path`).
pub const SERVER_FIELDS: [&str; 15] = [
    "resource_type",
    "id",
    "path",
    "relative_path",
    "parent_path",
    "unique_id",
    "marked_for_delete",
    "overridden",
    "_create_user",
    "_create_time",
    "_last_modified_user",
    "_last_modified_time",
    "_system_owned",
    "_protection",
    "_revision",
];

/// The server field of an object of a type NSX realizes as entities it names, beside
/// [`SERVER_FIELDS`]: its realization's id ([`super::realization::reports_realization_id`]),
/// read-only, so a client's body that sends it back has it dropped as any read-only field.
pub const REALIZATION_ID: &str = "realization_id";

/// NSX's read-only link fields, which a client may send back from a GET.
pub const LINK_FIELDS: [&str; 3] = ["_links", "_schema", "_self"];

/// The user the defaults are created by; an object created by it is `_system_owned`.
pub const SYSTEM_USER: &str = "system";
