//! A query string's terms (the Lucene forms NSX clients send), parsed into a [`Query`] that
//! matches an object as the API serves it; the module's own parser, whose judgement is in
//! [`super`]'s documentation.

use globset::{Glob, GlobBuilder, GlobMatcher};
use serde_json::Value;

use super::super::FieldError;

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
pub struct Pattern(Box<Compiled>);

/// A pattern's glob, compiled, and its shape: kept apart from the query's tree, which
/// holds many patterns.
#[derive(Debug, Clone)]
struct Compiled {
    glob: Glob,
    matcher: GlobMatcher,
    shape: Shape,
}

/// What of a pattern's matches an index of their text can find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// No wildcard: the values that are this text.
    Exact(String),
    /// This text, then only `*`: every value that starts with it.
    Prefix(String),
    /// This text (maybe empty), then other wildcards: every match starts with it, but not
    /// every value that does matches.
    Starts(String),
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.glob == other.0.glob
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
        Ok(Self(Box::new(Compiled {
            matcher: glob.compile_matcher(),
            glob,
            shape: Self::shape_of(pieces),
        })))
    }

    fn shape_of(pieces: &[Piece]) -> Shape {
        let literal = pieces
            .iter()
            .take_while(|piece| matches!(piece, Piece::Text(_)))
            .count();
        let text: String = pieces[..literal]
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text) => Some(text.as_str()),
                Piece::Any | Piece::One => None,
            })
            .collect();
        let rest = &pieces[literal..];
        if rest.is_empty() {
            Shape::Exact(text)
        } else if rest.iter().all(|piece| *piece == Piece::Any) {
            Shape::Prefix(text)
        } else {
            Shape::Starts(text)
        }
    }

    /// What an index of the values' text can find of this pattern's matches.
    pub fn shape(&self) -> &Shape {
        &self.0.shape
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
    pub(super) fn term(field: &str, value: &str) -> Result<Self, FieldError> {
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
    pub(super) fn asks_for_type(&self, resource_type: &str) -> bool {
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

    /// Whether `text` matches, case-insensitively.
    pub fn matches_text(&self, text: &str) -> bool {
        self.0.matcher.is_match(text)
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
