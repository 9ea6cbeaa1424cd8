//! What the store's indexes can find of a query's matches: the conditions every match meets,
//! each a range of an index the writers keep (the README's "Search"), and whether meeting
//! them is matching. A query whose every term is such a condition, joined by `AND`, is
//! answered from the indexes alone: its page is read in order and its matches counted
//! without reading an object. Any other query is answered by matching each object that
//! meets its conditions (every object, where it has none), read in order one at a time.

use serde_json::Value;

use super::super::PolicyObject;
use super::query::{Pattern, Query, Shape};

/// The conditions (all of them) an object meets if it matches a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub conditions: Vec<Condition>,
    /// Whether an object that meets the conditions matches the query.
    pub exact: bool,
}

/// One condition an index finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Its `resource_type` is one of the stored types that one of the patterns matches.
    Type(Vec<Pattern>),
    /// Its indexed text, ASCII letters folded, is `text`, or, with `prefix`, starts with it.
    Text {
        field: Indexed,
        text: String,
        prefix: bool,
    },
}

/// The texts the store indexes for the search, ASCII letters folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexed {
    Path,
    DisplayName,
    /// A tag's `scope` (`tags.scope`): the object has a tag with it.
    TagScope,
    /// A tag's `tag` (`tags.tag`).
    Tag,
}

impl Plan {
    /// The plan of `query`. Only text without letters beyond ASCII is looked up (an index
    /// folds ASCII letters alone), and only terms joined by `AND` give conditions, but for
    /// types: `resource_type:A OR resource_type:B` is one.
    pub fn of(query: &Query) -> Self {
        match query {
            Query::Term {
                field: Some(field),
                value,
            } => Self::term(field, value),
            Query::And(left, right) => {
                let (left, right) = (Self::of(left), Self::of(right));
                Self {
                    conditions: [left.conditions, right.conditions].concat(),
                    exact: left.exact && right.exact,
                }
            }
            Query::Or(left, right) => {
                let (left, right) = (Self::of(left), Self::of(right));
                match (left.conditions.as_slice(), right.conditions.as_slice()) {
                    ([Condition::Type(either)], [Condition::Type(or)]) => Self {
                        conditions: vec![Condition::Type([either.as_slice(), or].concat())],
                        exact: left.exact && right.exact,
                    },
                    _ => Self::every(),
                }
            }
            Query::Term { field: None, .. } | Query::Not(_) => Self::every(),
        }
    }

    /// No condition: every object may match.
    fn every() -> Self {
        Self {
            conditions: Vec::new(),
            exact: false,
        }
    }

    fn term(field: &str, value: &Pattern) -> Self {
        if field == "resource_type" {
            return Self {
                conditions: vec![Condition::Type(vec![value.clone()])],
                exact: true,
            };
        }
        let indexed = match field {
            // A parent's children have paths that start with the parent's and a `/`.
            "path" | "parent_path" => Indexed::Path,
            "display_name" => Indexed::DisplayName,
            "tags.scope" => Indexed::TagScope,
            "tags.tag" => Indexed::Tag,
            _ => return Self::every(),
        };
        let (text, prefix, exact) = match value.shape() {
            Shape::Exact(text) if field == "parent_path" => (format!("{text}/"), true, false),
            Shape::Exact(text) => (text.clone(), false, true),
            Shape::Prefix(text) => (text.clone(), true, field != "parent_path"),
            Shape::Starts(text) => (text.clone(), true, false),
        };
        // An empty prefix is every value (and an absent one's `''`): no condition.
        if !text.is_ascii() || (prefix && text.is_empty()) {
            return Self::every();
        }
        Self {
            conditions: vec![Condition::Text {
                field: indexed,
                text: text.to_ascii_lowercase(),
                prefix,
            }],
            exact,
        }
    }
}

/// The tags the search finds `object` by (`policy_object_tags`): each of its `tags` as
/// `(scope, tag)`, ASCII letters folded, `''` for a part it has not.
pub fn indexed_tags(object: &PolicyObject) -> Vec<(String, String)> {
    let Some(Value::Array(tags)) = object.config.members().get("tags") else {
        return Vec::new();
    };
    let part = |tag: &Value, name: &str| {
        tag.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    tags.iter()
        .map(|tag| (part(tag, "scope"), part(tag, "tag")))
        .collect()
}

/// The least text greater than every text that starts with `prefix` (ASCII), for a range
/// `>= prefix AND < end`; none where every text from `prefix` on starts with it.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut end = prefix.trim_end_matches('\u{7f}').to_owned();
    let last = end.pop()?;
    end.push(char::from(last as u8 + 1));
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Plan {
        Plan::of(&Query::parse(query).unwrap())
    }

    fn text(field: Indexed, text: &str, prefix: bool) -> Condition {
        Condition::Text {
            field,
            text: text.into(),
            prefix,
        }
    }

    #[test]
    fn the_forms_clients_send_are_answered_from_the_indexes() {
        let segment = Query::parse("resource_type:Segment").unwrap();
        let Query::Term { value: segment, .. } = segment else {
            unreachable!()
        };
        for (query, conditions) in [
            (
                "resource_type:Segment",
                vec![Condition::Type(vec![segment.clone()])],
            ),
            (
                "resource_type:Segment AND display_name:Tf\\-Seg*",
                vec![
                    Condition::Type(vec![segment.clone()]),
                    text(Indexed::DisplayName, "tf-seg", true),
                ],
            ),
            (
                "path:\\/infra\\/segments\\/*",
                vec![text(Indexed::Path, "/infra/segments/", true)],
            ),
            (
                "tags.scope:ncp\\/cluster AND tags.tag:K8s-A",
                vec![
                    text(Indexed::TagScope, "ncp/cluster", false),
                    text(Indexed::Tag, "k8s-a", false),
                ],
            ),
        ] {
            assert_eq!(
                plan(query),
                Plan {
                    conditions,
                    exact: true
                },
                "{query}"
            );
        }
    }

    #[test]
    fn other_forms_narrow_what_is_matched_or_match_every_object() {
        let narrowed = [
            ("parent_path:\\/infra", text(Indexed::Path, "/infra/", true)),
            (
                "display_name:web*01",
                text(Indexed::DisplayName, "web", true),
            ),
        ];
        for (query, condition) in narrowed {
            assert_eq!(
                plan(query),
                Plan {
                    conditions: vec![condition],
                    exact: false
                },
                "{query}"
            );
        }
        for query in [
            "display_name:*web",
            "display_name:Ünïcode",
            "tags.tag:*",
            "description:web",
            "web",
            "NOT resource_type:Segment",
            "resource_type:Segment OR display_name:web",
        ] {
            assert_eq!(
                plan(query),
                Plan {
                    conditions: vec![],
                    exact: false
                },
                "{query}"
            );
        }
        let either = plan("resource_type:Segment OR resource_type:Tier1");
        assert!(either.exact);
        assert!(
            matches!(either.conditions.as_slice(), [Condition::Type(types)] if types.len() == 2)
        );
    }

    #[test]
    fn a_prefix_ends_before_the_next_text() {
        assert_eq!(prefix_end("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_end("a/").as_deref(), Some("a0"));
        assert_eq!(prefix_end("ab\u{7f}").as_deref(), Some("ac"));
        assert_eq!(prefix_end("\u{7f}"), None);
    }
}
