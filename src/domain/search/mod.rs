//! The search (the README's "Search"): the Lucene forms NSX clients send
//! (`resource_type:Segment AND tags.scope:ncp\/cluster`, `display_name:web*`,
//! `path:"/infra/segments/s1"`, `(a OR b) AND NOT c`), parsed into a [`Query`] that matches
//! an object as the API serves it (`query.rs`); what the store's indexes find of a query
//! ([`Plan`], `plan.rs`); and a search's order and page (here).
//!
//! A term names a field by its dotted path (`tags.tag`), and matches where any value there
//! (any item of a list on the way) equals its value, case-insensitively; `*` and `?` are
//! wildcards unless quoted or escaped. A term without a field matches any value of the
//! object. Terms next to each other without an operator are joined by `OR`, as Lucene's
//! default operator joins them. A value's wildcards are matched by `globset`.
//!
//! The parser is this module's own, some 150 lines: the one Rust crate of Lucene's grammar
//! that is kept up, `tantivy-query-grammar`, parses tantivy's dialect (its own escapes, no
//! `?`, `*` only as a whole term or a suffix) into an AST made for tantivy's index, and
//! would need as much code again to bring to these semantics.

mod plan;
mod query;

use serde_json::Value;

use super::inventory::VIRTUAL_MACHINE;
use super::list::{SortBy, SortValue};
use super::paging::{Offset, Page, Params};
use super::realization::REALIZED_RESOURCE_TYPE;
use super::FieldError;

pub use plan::{indexed_tags, prefix_end, Condition, Indexed, Plan};
pub use query::{Pattern, Query};

/// A search as asked: its query, its order, one page's size and where it starts.
#[derive(Debug, Clone)]
pub struct Search {
    query: Query,
    /// `None`: by path.
    sort_by: Option<SortBy>,
    ascending: bool,
    /// The page: its size, and how many matches come before it (its cursor).
    offset: Offset,
}

impl Search {
    /// Reads `query` (required), `sort_by`, `sort_ascending`, `page_size` and `cursor`;
    /// `included_fields` is accepted and ignored, as for lists.
    ///
    /// A search's cursor is NSX's: the number of matches before the page (`"cursor": "1000"`),
    /// which nsxlib's `search_all_*` reads with `int()` and sends back as it read it.
    pub fn parse(params: &Params<'_>) -> Result<Self, FieldError> {
        let text = params
            .get("query")
            .ok_or_else(|| FieldError::new("query", "required property not present"))?;
        Ok(Self {
            query: Query::parse(text)?,
            sort_by: params.get("sort_by").map(SortBy::parse).transpose()?,
            ascending: params.flag("sort_ascending", true)?,
            offset: params.offset()?,
        })
    }

    /// The search of `POST /search/aggregate` (nsxlib's `search_resource_by_filters`): the
    /// `primary` objects of its `resource_type` that pass every one of its `filters` (each
    /// `{"field_names": "a,b", "value": "v"}`: one of the fields has the value, `*` and `?`
    /// its wildcards), ordered and paged as `params` say. `related` is accepted, and each
    /// result's related objects are none.
    pub fn aggregate(params: &Params<'_>, body: Value) -> Result<Self, FieldError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Request {
            primary: Primary,
            #[serde(default, rename = "related")]
            _related: Vec<Value>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Primary {
            resource_type: String,
            #[serde(default)]
            filters: Vec<Filter>,
            #[serde(default, rename = "alias")]
            _alias: Option<String>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Filter {
            field_names: String,
            value: String,
            /// Taken, not heeded: every comparison is case-insensitive.
            #[serde(default, rename = "case_sensitive")]
            _case_sensitive: Option<bool>,
        }
        let request: Request = serde_json::from_value(body)
            .map_err(|error| FieldError::new("primary", error.to_string()))?;
        let mut query = Query::term("resource_type", &request.primary.resource_type)?;
        for filter in request.primary.filters {
            let mut any: Option<Query> = None;
            for field in filter.field_names.split(',').map(str::trim) {
                let term = Query::term(field, &filter.value)?;
                any = Some(match any {
                    Some(earlier) => Query::Or(Box::new(earlier), Box::new(term)),
                    None => term,
                });
            }
            let any = any.ok_or_else(|| FieldError::new("field_names", "names no field"))?;
            query = Query::And(Box::new(query), Box::new(any));
        }
        Ok(Self {
            query,
            sort_by: params.get("sort_by").map(SortBy::parse).transpose()?,
            ascending: params.flag("sort_ascending", true)?,
            offset: params.offset()?,
        })
    }

    /// What the store's indexes can find of this search's matches.
    pub fn plan(&self) -> Plan {
        Plan::of(&self.query)
    }

    /// Whether `served` (an object as the API serves it) matches the query.
    pub fn matches(&self, served: &Value) -> bool {
        self.query.matches(served)
    }

    /// The key it orders by (`None`: by path) and whether ascending.
    pub fn order(&self) -> (Option<SortBy>, bool) {
        (self.sort_by, self.ascending)
    }

    /// The page it asks for.
    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// Where `served` goes in this search's order: the key of `sort_by`, then its path with
    /// ASCII letters folded, then its path (the stored objects' indexes hold that order).
    fn key(&self, served: &Value) -> (SortValue, String, String) {
        let path = path_of(served);
        let key = match self.sort_by {
            Some(sort_by) => sort_by.key_of_served(served),
            None => SortValue::Text(String::new()),
        };
        (key, path.to_ascii_lowercase(), path.to_owned())
    }

    /// Whether the search may find realized entities (which are not stored objects): only
    /// where its query asks for their type, `resource_type:GenericPolicyRealizedResource`
    /// (as nsxlib's `search_resource_by_realized_id` does).
    pub fn finds_realized(&self) -> bool {
        self.query.asks_for_type(REALIZED_RESOURCE_TYPE)
    }

    /// Whether the search may find the inventory's virtual machines: only where its query
    /// asks for their type, `resource_type:VirtualMachine` (Terraform's and nsx-operator's
    /// lookups of a VM).
    pub fn finds_virtual_machines(&self) -> bool {
        self.query.asks_for_type(VIRTUAL_MACHINE)
    }

    /// The page of `served` (every object the search may find, as the API serves it) this
    /// search asks for: those that match, in its order (ties by path), after its cursor.
    /// `result_count` counts every match; the page's cursor, which every page has as NSX's
    /// do, is the number of matches up to its end (`result_count` on the last page).
    pub fn page(&self, served: impl IntoIterator<Item = Value>) -> Page<Value, u64> {
        let mut matched: Vec<((SortValue, String, String), Value)> = served
            .into_iter()
            .filter(|value| self.query.matches(value))
            .map(|value| (self.key(&value), value))
            .collect();
        matched.sort_by(|(a, _), (b, _)| a.cmp(b));
        if !self.ascending {
            matched.reverse();
        }
        let matched = matched.into_iter().map(|(_, value)| value).collect();
        self.offset.page(matched)
    }
}

/// The `path` of an object as served; a virtual machine's, which has none, its external id.
fn path_of(served: &Value) -> &str {
    served["path"]
        .as_str()
        .or_else(|| served["external_id"].as_str())
        .unwrap_or_default()
}
