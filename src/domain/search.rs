//! The search API's query strings (the README's "Search"): the Lucene forms NSX clients send
//! (`resource_type:Segment AND tags.scope:ncp\/cluster`, `display_name:web*`,
//! `path:"/infra/segments/s1"`, `(a OR b) AND NOT c`), parsed into a [`Query`] that matches
//! an object as the API serves it.
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

use globset::{Glob, GlobBuilder, GlobMatcher};
use serde_json::Value;

use super::inventory::VIRTUAL_MACHINE;
use super::list::{SortBy, SortValue};
use super::paging::{Offset, Page, Params};
use super::realization::REALIZED_RESOURCE_TYPE;
use super::FieldError;

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

    fn key(&self, served: &Value) -> SortValue {
        match self.sort_by {
            Some(sort_by) => sort_by.key_of_served(served),
            None => SortValue::Text(path_of(served).to_owned()),
        }
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
        let mut matched: Vec<(SortValue, Value)> = served
            .into_iter()
            .filter(|value| self.query.matches(value))
            .map(|value| (self.key(&value), value))
            .collect();
        matched.sort_by(|(a, first), (b, second)| (a, path_of(first)).cmp(&(b, path_of(second))));
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

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `field:value`, or a bare `value` (`field` is `None`).
    Term {
        field: Option<String>,
        value: Pattern,
    },
    And(Box<Query>, Box<Query>),
    Or(Box<Query>, Box<Query>),
    Not(Box<Query>),
}

/// A term's value: literal text, or text with wildcards, matched case-insensitively as a
/// glob of `globset` (whose `*` here crosses `/`: a value is not a file's path).
#[derive(Debug, Clone)]
pub struct Pattern {
    glob: Glob,
    matcher: GlobMatcher,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.glob == other.glob
    }
}

impl Eq for Pattern {}

/// A term's value as it is read: literal text and wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
}

impl Pattern {
    fn new(pieces: &[Piece]) -> Result<Self, FieldError> {
        let mut glob = String::new();
        for (at, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Text(text) => glob.push_str(&globset::escape(text)),
                // One `*` for a run of them: `**` means something else to a glob.
                Piece::Any if at > 0 && pieces[at - 1] == Piece::Any => {}
                Piece::Any => glob.push('*'),
                Piece::One => glob.push('?'),
            }
        }
        let glob = GlobBuilder::new(&glob)
            .literal_separator(false)
            .backslash_escape(false)
            .case_insensitive(true)
            .build()
            .map_err(|err| invalid(format!("cannot match {glob:?}: {err}")))?;
        Ok(Self {
            matcher: glob.compile_matcher(),
            glob,
        })
    }
}

impl Query {
    /// Parses a query string; an error names `query`.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let tokens = tokens(text)?;
        let mut parser = Parser { tokens, at: 0 };
        let query = parser.or()?;
        match parser.tokens.get(parser.at) {
            None => Ok(query),
            Some(token) => Err(invalid(format!("unexpected {}", token.describe()))),
        }
    }

    /// The term `field:value`, `value` literal but for its wildcards `*` and `?`.
    fn term(field: &str, value: &str) -> Result<Self, FieldError> {
        let mut pieces = Vec::new();
        for c in value.chars() {
            match c {
                '*' => pieces.push(Piece::Any),
                '?' => pieces.push(Piece::One),
                c => match pieces.last_mut() {
                    Some(Piece::Text(text)) => text.push(c),
                    _ => pieces.push(Piece::Text(c.to_string())),
                },
            }
        }
        Ok(Query::Term {
            field: Some(field.to_owned()),
            value: Pattern::new(&pieces)?,
        })
    }

    /// Whether the query asks for objects of `resource_type` by a term of `resource_type`
    /// that is not negated.
    fn asks_for_type(&self, resource_type: &str) -> bool {
        match self {
            Query::Term {
                field: Some(field),
                value,
            } => field == "resource_type" && value.matches_text(resource_type),
            Query::Term { field: None, .. } | Query::Not(_) => false,
            Query::And(left, right) | Query::Or(left, right) => {
                left.asks_for_type(resource_type) || right.asks_for_type(resource_type)
            }
        }
    }

    /// Whether `object` (as the API serves it) matches.
    pub fn matches(&self, object: &Value) -> bool {
        match self {
            Query::Term { field: None, value } => any_leaf(object, value),
            Query::Term {
                field: Some(field),
                value,
            } => {
                let mut found = false;
                at_path(object, &field.split('.').collect::<Vec<_>>(), &mut |leaf| {
                    found = found || value.matches_value(leaf);
                });
                found
            }
            Query::And(left, right) => left.matches(object) && right.matches(object),
            Query::Or(left, right) => left.matches(object) || right.matches(object),
            Query::Not(inner) => !inner.matches(object),
        }
    }
}

impl Pattern {
    fn matches_value(&self, value: &Value) -> bool {
        match value {
            Value::String(text) => self.matches_text(text),
            Value::Number(number) => self.matches_text(&number.to_string()),
            Value::Bool(flag) => self.matches_text(if *flag { "true" } else { "false" }),
            Value::Null | Value::Array(_) | Value::Object(_) => false,
        }
    }

    fn matches_text(&self, text: &str) -> bool {
        self.matcher.is_match(text)
    }
}

/// Calls `found` with every value at the dotted `path` of `value`, through lists.
fn at_path(value: &Value, path: &[&str], found: &mut impl FnMut(&Value)) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|item| at_path(item, path, found)),
        (_, None) => found(value),
        (Value::Object(members), Some((first, rest))) => {
            if let Some(inner) = members.get(*first) {
                at_path(inner, rest, found);
            }
        }
        _ => {}
    }
}

fn any_leaf(value: &Value, pattern: &Pattern) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| any_leaf(item, pattern)),
        Value::Object(members) => members.values().any(|member| any_leaf(member, pattern)),
        leaf => pattern.matches_value(leaf),
    }
}

fn invalid(message: impl Into<String>) -> FieldError {
    FieldError::new("query", message)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    /// A term: its field (text before an unescaped `:`), and its value.
    Term(Option<String>, Pattern),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::And => "AND".into(),
            Token::Or => "OR".into(),
            Token::Not => "NOT".into(),
            Token::Term(..) => "term".into(),
        }
    }
}

/// Splits a query into tokens: parentheses, the operators (`AND`, `OR`, `NOT`, `&&`, `||`,
/// `!`), and terms, with `\` escaping the next character and `"..."` quoting a value.
fn tokens(text: &str) -> Result<Vec<Token>, FieldError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '!' => {
                chars.next();
                tokens.push(Token::Not);
            }
            _ => tokens.push(term(&mut chars)?),
        }
    }
    Ok(tokens)
}

/// One term, or an operator word.
fn term(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Token, FieldError> {
    let mut field: Option<String> = None;
    let mut pieces: Vec<Piece> = Vec::new();
    // The term's characters as written (escapes resolved, case kept): a field's name, or an
    // operator word when nothing was quoted or escaped.
    let mut raw = String::new();
    let mut plain = true;
    let text = |pieces: &mut Vec<Piece>, c: char| match pieces.last_mut() {
        Some(Piece::Text(text)) => text.push(c),
        _ => pieces.push(Piece::Text(c.into())),
    };
    let escaped = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        chars.next().ok_or_else(|| invalid("a '\\' ends the query"))
    };
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == '(' || c == ')' {
            break;
        }
        chars.next();
        match c {
            '\\' => {
                let c = escaped(chars)?;
                plain = false;
                raw.push(c);
                text(&mut pieces, c);
            }
            '"' => {
                plain = false;
                loop {
                    match chars.next() {
                        None => return Err(invalid("a quoted value is not closed")),
                        Some('"') => break,
                        Some('\\') => text(&mut pieces, escaped(chars)?),
                        Some(inner) => text(&mut pieces, inner),
                    }
                }
            }
            '[' | '{' | ']' | '}' | '~' | '^' => {
                return Err(invalid(format!(
                    "{c:?}: ranges, fuzzy and boosted terms are not supported"
                )))
            }
            ':' if field.is_none() => {
                if raw.is_empty() {
                    return Err(invalid("a ':' has no field before it"));
                }
                field = Some(std::mem::take(&mut raw));
                pieces.clear();
                plain = false;
            }
            '*' => {
                raw.push(c);
                pieces.push(Piece::Any);
            }
            '?' => {
                raw.push(c);
                pieces.push(Piece::One);
            }
            _ => {
                raw.push(c);
                text(&mut pieces, c);
            }
        }
    }
    if plain {
        match raw.as_str() {
            "AND" | "&&" => return Ok(Token::And),
            "OR" | "||" => return Ok(Token::Or),
            "NOT" => return Ok(Token::Not),
            _ => {}
        }
    }
    if pieces.is_empty() {
        return Err(invalid(match &field {
            Some(field) => format!("{field}: has no value"),
            None => "an empty term".into(),
        }));
    }
    Ok(Token::Term(field, Pattern::new(&pieces)?))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    /// `and (OR and)*`, and terms side by side.
    fn or(&mut self) -> Result<Query, FieldError> {
        let mut query = self.and()?;
        loop {
            match self.peek() {
                Some(Token::Or) => {
                    self.at += 1;
                    query = Query::Or(Box::new(query), Box::new(self.and()?));
                }
                Some(Token::Term(..) | Token::Open | Token::Not) => {
                    query = Query::Or(Box::new(query), Box::new(self.and()?));
                }
                _ => return Ok(query),
            }
        }
    }

    fn and(&mut self) -> Result<Query, FieldError> {
        let mut query = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            query = Query::And(Box::new(query), Box::new(self.unary()?));
        }
        Ok(query)
    }

    fn unary(&mut self) -> Result<Query, FieldError> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Not) => Ok(Query::Not(Box::new(self.unary()?))),
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.tokens.get(self.at) {
                    Some(Token::Close) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err(invalid("a '(' is not closed")),
                }
            }
            Some(Token::Term(field, value)) => Ok(Query::Term { field, value }),
            Some(other) => Err(invalid(format!("unexpected {}", other.describe()))),
            None => Err(invalid("the query ends where a term is expected")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn segment() -> Value {
        json!({"resource_type": "Segment", "id": "web-01", "display_name": "Web Tier",
            "path": "/infra/segments/web-01", "marked_for_delete": false, "_revision": 3,
            "tags": [{"scope": "ncp/cluster", "tag": "k8s-a"}, {"scope": "env", "tag": "prod"}]})
    }

    fn matches(query: &str) -> bool {
        Query::parse(query)
            .unwrap_or_else(|error| panic!("{query}: {error}"))
            .matches(&segment())
    }

    #[test]
    fn the_forms_clients_send_match_as_they_mean() {
        for query in [
            "resource_type:Segment",
            "resource_type:segment",
            "resource_type:Segment AND tags.scope:ncp\\/cluster AND tags.tag:k8s-a",
            "path:\"/infra/segments/web-01\"",
            "path:\\/infra\\/segments\\/web\\-01",
            "display_name:web*",
            "display_name:\"Web Tier\"",
            "id:web-0?",
            "marked_for_delete:false AND _revision:3",
            "resource_type:Group OR resource_type:Segment",
            "(resource_type:Group OR tags.tag:prod) AND NOT id:db",
            "resource_type:Segment && !tags.tag:staging",
            "k8s-a",
            "tags.tag:*",
        ] {
            assert!(matches(query), "{query}");
        }
        for query in [
            "resource_type:Group",
            "resource_type:Segment AND tags.tag:staging",
            "display_name:\"web*\"",
            "id:web",
            "NOT resource_type:Segment",
            "tags.nope:*",
            "nothing-here",
            // A NUL is a character like any other, not a wildcard.
            "display_name:Web\u{0}",
            "id:\\[web\\]*",
        ] {
            assert!(!matches(query), "{query}");
        }
    }

    #[test]
    fn what_is_not_a_query_says_why() {
        for (query, expected) in [
            ("", "query: the query ends where a term is expected"),
            ("resource_type:", "query: resource_type: has no value"),
            ("(a OR b", "query: a '(' is not closed"),
            ("a)", "query: unexpected ')'"),
            ("a AND", "query: the query ends where a term is expected"),
            ("path:\"/infra", "query: a quoted value is not closed"),
            (
                "_revision:[1 TO 5]",
                "query: '[': ranges, fuzzy and boosted terms are not supported",
            ),
        ] {
            assert_eq!(Query::parse(query).unwrap_err().to_string(), expected);
        }
    }
}
