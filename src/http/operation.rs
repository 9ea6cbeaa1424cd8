//! What an operation is: its method, its route, which API document describes it and what
//! that document says (who may call it, its parameters, bodies and errors). Operations are
//! written as data, in tables (TOML files: the core's is `operations/builtin.toml`, a kind's
//! is in its folder), and each is bound to its handler by its operation id; a [`Table`]
//! reads one file and binds it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::http::Method;
use actix_web::Route;
use serde::Deserialize;
use serde_json::Value;

/// Which of the two API documents an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// NSX's own API, as NSX serves it.
    Nsx,
    /// The store's extensions, every path below `/store/`.
    Store,
}

impl Document {
    /// The document that describes the operations at `path`.
    fn of(path: &str) -> Self {
        match path.starts_with("/store/") {
            true => Document::Store,
            false => Document::Nsx,
        }
    }
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// No credentials (the login itself).
    Anyone,
    /// Any authenticated user (`read`).
    Read,
    /// `enterprise_admin` only (`crud`).
    Crud,
}

/// A body, in or out: its media type and the name of its schema in the document's
/// components.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    Json(String),
    Ndjson(String),
    Form(String),
    /// Server-Sent Events (`text/event-stream`), each event (its name, id and data) of this
    /// schema, as OpenAPI 3.0 documents describe a stream.
    EventStream(String),
    /// A file of this media type (the inspector's page).
    Static(String),
}

/// A query parameter: its name, whether it is required, and its schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Its name in the query; the label a table gives it where absent.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub required: bool,
    pub schema: Value,
    #[serde(default)]
    pub description: String,
}

/// What the document says of an operation.
#[derive(Debug, Clone)]
pub struct Doc {
    pub operation_id: String,
    pub summary: String,
    pub access: Access,
    pub query: Vec<Param>,
    pub body: Option<Content>,
    /// The success's status: 200, or 204 where NSX answers No Content.
    pub status: u16,
    /// The success's body; `None`: an empty body.
    pub answer: Option<Content>,
    /// The error statuses this operation answers by its own rules (every operation may also
    /// answer 401/403 for credentials, 405, 500 and 503: the document's `default`).
    pub errors: Vec<u16>,
}

/// One operation: its method, its path (a route template), its document and its route.
pub struct Operation {
    pub method: Method,
    pub path: String,
    pub document: Document,
    pub doc: Doc,
    pub route: Route,
}

/// The route that serves an operation, by its operation id; `None` for an id it does not
/// know. A table's handlers are bound through one such function beside it.
pub type Handlers = fn(&str) -> Option<Route>;

/// A table of operations as its TOML file writes them: `[[operation]]` entries (`id`,
/// `method`, `path`, `summary`, `access`, and where they apply `query`, `body`, `status`,
/// `answer`, `errors`), and `[params.<label>]`, the query parameters its operations name by label
/// (a table may also name the core's). Read once, on first use.
pub struct Table {
    text: &'static str,
    /// The table whose parameters this one may name besides its own (the core's).
    shared: Option<&'static Table>,
    read: OnceLock<Read>,
}

/// A table's file, read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Read {
    #[serde(rename = "operation", default)]
    operations: Vec<Written>,
    #[serde(default)]
    params: BTreeMap<String, Param>,
}

/// One `[[operation]]` entry, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    id: String,
    method: String,
    path: String,
    summary: String,
    access: Access,
    #[serde(default)]
    query: Vec<String>,
    body: Option<Content>,
    #[serde(default = "ok")]
    status: u16,
    answer: Option<Content>,
    #[serde(default)]
    errors: Vec<u16>,
}

fn ok() -> u16 {
    200
}

impl Table {
    /// The table written in `text`, which may name the parameters of `shared` too.
    pub const fn new(text: &'static str, shared: Option<&'static Table>) -> Self {
        Table {
            text,
            shared,
            read: OnceLock::new(),
        }
    }

    fn read(&self) -> &Read {
        self.read.get_or_init(|| {
            let mut read: Read = toml::from_str(self.text)
                .unwrap_or_else(|error| panic!("an operations table is not valid: {error}"));
            for (label, param) in &mut read.params {
                if param.name.is_empty() {
                    param.name.clone_from(label);
                }
            }
            read
        })
    }

    /// The query parameter labelled `label`, in this table or the shared one.
    fn param(&self, label: &str) -> Option<&Param> {
        self.read()
            .params
            .get(label)
            .or_else(|| self.shared?.param(label))
    }

    /// Every operation of the table, in its order, each served by the route `handlers`
    /// binds to its id. Panics on an id without a handler or a label without a parameter:
    /// a table and its handlers are checked when the first test starts a server.
    pub fn operations(&self, handlers: Handlers) -> Vec<Operation> {
        self.read()
            .operations
            .iter()
            .map(|written| {
                let method = Method::from_bytes(written.method.as_bytes())
                    .unwrap_or_else(|_| panic!("{}: no method {}", written.id, written.method));
                let query = written.query.iter().map(|label| {
                    self.param(label)
                        .unwrap_or_else(|| panic!("{}: no parameter {label}", written.id))
                        .clone()
                });
                let route = handlers(&written.id)
                    .unwrap_or_else(|| panic!("{}: no handler", written.id))
                    .method(method.clone());
                Operation {
                    document: Document::of(&written.path),
                    path: written.path.clone(),
                    method,
                    route,
                    doc: Doc {
                        operation_id: written.id.clone(),
                        summary: written.summary.clone(),
                        access: written.access,
                        query: query.collect(),
                        body: written.body.clone(),
                        status: written.status,
                        answer: written.answer.clone(),
                        errors: written.errors.clone(),
                    },
                }
            })
            .collect()
    }
}

/// What the kinds add to the API beyond the catalog's CRUD: the operations each serves
/// (its routes and their documents), and the schemas of the bodies those operations name.
/// Functions, as an operation's route is made anew for each use (registering, documenting).
#[derive(Clone, Copy)]
pub struct KindsApi {
    pub operations: fn() -> Vec<Operation>,
    pub schema: fn(&str) -> Option<Value>,
}
