//! The query parameters the operations share, as their documents describe them.

use crate::http::operation::Param;

pub const PAGE_SIZE: Param = Param {
    name: "page_size",
    required: false,
    schema: r#"{"type": "integer", "minimum": 0, "maximum": 1000, "default": 1000}"#,
    description: "Objects per page.",
};
pub const CURSOR: Param = Param {
    name: "cursor",
    required: false,
    schema: r#"{"type": "string"}"#,
    description: "Opaque; from the previous page's answer.",
};
/// The request journal's filters.
pub const JOURNAL_FILTERS: [Param; 5] = [
    Param {
        name: "path",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "A glob on the path: `*` any characters but `/`, `**` any characters.",
    },
    Param {
        name: "method",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "GET, PUT, ... (any case).",
    },
    Param {
        name: "status",
        required: false,
        schema: r#"{"type": "string", "pattern": "^([1-5][0-9][0-9]|[1-5]xx)$"}"#,
        description: "A status (404) or a class of them (4xx).",
    },
    Param {
        name: "user",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "The authenticated user.",
    },
    Param {
        name: "since",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "Arrived at or after: epoch milliseconds, or an RFC 3339 time.",
    },
];
pub const JOURNAL_FILTERS_AND_PAGES: [Param; 7] = [
    JOURNAL_FILTERS[0],
    JOURNAL_FILTERS[1],
    JOURNAL_FILTERS[2],
    JOURNAL_FILTERS[3],
    JOURNAL_FILTERS[4],
    Param {
        name: "page_size",
        required: false,
        schema: r#"{"type": "integer", "minimum": 0, "maximum": 1000, "default": 100}"#,
        description: "Requests per page.",
    },
    Param {
        name: "cursor",
        required: false,
        schema: r#"{"type": "string", "pattern": "^[0-9]+$"}"#,
        description: "From the previous page's answer: the id its next page starts at.",
    },
];
pub const JOURNAL_STREAM: [Param; 6] = [
    JOURNAL_FILTERS[0],
    JOURNAL_FILTERS[1],
    JOURNAL_FILTERS[2],
    JOURNAL_FILTERS[3],
    JOURNAL_FILTERS[4],
    Param {
        name: "after",
        required: false,
        schema: r#"{"type": "integer", "minimum": 0}"#,
        description: "The entry to go on after (an event's id); 0: from the oldest kept.",
    },
];
pub const ENFORCEMENT_POINT: Param = Param {
    name: "enforcement_point_path",
    required: false,
    schema: r#"{"type": "string"}"#,
    description: "Accepted and ignored: there is one enforcement point.",
};

pub const LIST_QUERY: &[Param] = &[
    PAGE_SIZE,
    CURSOR,
    Param {
        name: "sort_by",
        required: false,
        schema: r#"{"type": "string", "enum": ["display_name", "id", "_create_time", "_last_modified_time"], "default": "display_name"}"#,
        description: "The order; ties are broken by id.",
    },
    Param {
        name: "sort_ascending",
        required: false,
        schema: r#"{"type": "boolean", "default": true}"#,
        description: "",
    },
    Param {
        name: "included_fields",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "Accepted; ignored for plain lists, as NSX does.",
    },
    Param {
        name: "include_mark_for_delete_objects",
        required: false,
        schema: r#"{"type": "boolean"}"#,
        description: "Accepted; nothing is marked for delete.",
    },
];

/// Realized state's: the object asked about.
pub const INTENT_PATH: Param = Param {
    name: "intent_path",
    required: true,
    schema: r#"{"type": "string"}"#,
    description: "The policy path of the object.",
};
pub const SITE_PATH: Param = Param {
    name: "site_path",
    required: false,
    schema: r#"{"type": "string"}"#,
    description: "Accepted and ignored: there is one site.",
};

/// The Hierarchical API's: check each object's `_revision` as a PATCH does.
pub const ENFORCE_REVISION_CHECK: Param = Param {
    name: "enforce_revision_check",
    required: false,
    schema: r#"{"type": "boolean", "default": false}"#,
    description: "Check each object's _revision, as a PATCH of it does.",
};

pub const SEARCH_QUERY: &[Param] = &[
    Param {
        name: "query",
        required: true,
        schema: r#"{"type": "string"}"#,
        description: "field:value terms (dotted fields, * and ? wildcards, \\ escapes, \"quotes\") joined by AND, OR, NOT and parentheses.",
    },
    PAGE_SIZE,
    CURSOR,
    Param {
        name: "sort_by",
        required: false,
        schema: r#"{"type": "string", "enum": ["display_name", "id", "_create_time", "_last_modified_time"]}"#,
        description: "The order; by path where absent. Ties are broken by path.",
    },
    Param {
        name: "sort_ascending",
        required: false,
        schema: r#"{"type": "boolean", "default": true}"#,
        description: "",
    },
    Param {
        name: "included_fields",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "Accepted and ignored: whole objects are answered.",
    },
];

pub const RETRACE: &[Param] = &[Param {
    name: "action",
    required: true,
    schema: r#"{"type": "string", "enum": ["retrace"]}"#,
    description: "The action to take.",
}];
pub const RESTORE: &[Param] = &[Param {
    name: "action",
    required: true,
    schema: r#"{"type": "string", "enum": ["restore"]}"#,
    description: "The action to take.",
}];
