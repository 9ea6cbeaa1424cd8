//! The search's SQL (the README's "Search"), alike on both engines: a [`Plan`]'s conditions
//! over the indexes the writers keep (`policy_objects_for_search_by_type`, `…_by_name`, the
//! tags of `policy_object_tags`), the search's order, and how its matches are counted.
//! [`super::reads::Reads::search`] runs it.

use super::dialect::Dialect;
use crate::domain::list::SortBy;
use crate::domain::search::{prefix_end, Condition, Indexed, Plan};

/// The stored types, for a plan's type conditions: the counts' types, a few rows however
/// many objects are stored.
pub(in crate::storage) const STORED_TYPES: &str =
    "SELECT resource_type FROM policy_object_counts WHERE count > 0";

/// Whether running `plan` needs the stored types: for its type conditions, or for a path's
/// range, which the types' index holds after the type.
pub(in crate::storage) fn needs_types(plan: &Plan) -> bool {
    plan.conditions.iter().any(|condition| {
        matches!(
            condition,
            Condition::Type(_)
                | Condition::Text {
                    field: Indexed::Path,
                    ..
                }
        )
    })
}

/// The stored types (of `stored`) that meet every type condition of `plan`; where it has
/// none, every stored type.
pub(in crate::storage) fn types_named(plan: &Plan, stored: Vec<String>) -> Vec<String> {
    stored
        .into_iter()
        .filter(|stored| {
            plan.conditions.iter().all(|condition| match condition {
                Condition::Type(patterns) => {
                    patterns.iter().any(|pattern| pattern.matches_text(stored))
                }
                Condition::Text { .. } => true,
            })
        })
        .collect()
}

/// A plan's conditions as SQL on `policy_objects`, and the text its parameters bind, from
/// the first, in order. The condition an index finds fastest is read through its index
/// (what SQLite, which keeps no statistics, is told with [`Dialect::unindexed`] of the
/// others); the others are checked on the rows it gives.
pub(in crate::storage) struct Filter {
    condition: String,
    binds: Vec<String>,
    /// The types' list, where every condition is on the type: the matches are then
    /// counted from the counts the writers keep.
    counted_types: Option<String>,
}

impl Filter {
    /// `plan`'s conditions, `types` the stored types [`types_named`] (where
    /// [`needs_types`]).
    pub(in crate::storage) fn of<D: Dialect>(plan: &Plan, types: Option<&[String]>) -> Self {
        let texts: Vec<(Indexed, &str, bool)> = plan
            .conditions
            .iter()
            .filter_map(|condition| match condition {
                Condition::Text {
                    field,
                    text,
                    prefix,
                } => Some((*field, text.as_str(), *prefix)),
                Condition::Type(_) => None,
            })
            .collect();
        let driver = (0..texts.len()).min_by_key(|&at| rank(texts[at].0, texts[at].2));
        let mut filter = Self {
            condition: String::new(),
            binds: Vec::new(),
            counted_types: None,
        };
        let mut conditions = Vec::new();
        if let Some(types) = types {
            let list = types
                .iter()
                .map(|name| format!("'{}'", name.replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(", ");
            // The types' index serves the type, and a path's range after it.
            let through_types = driver.is_none_or(|at| texts[at].0 == Indexed::Path);
            let column = match through_types {
                true => "resource_type".to_owned(),
                false => D::unindexed("resource_type"),
            };
            conditions.push(format!("{column} IN ({list})"));
            if texts.is_empty() && plan.exact {
                filter.counted_types = Some(list);
            }
        }
        for (at, &(field, text, prefix)) in texts.iter().enumerate() {
            let indexed = Some(at) == driver;
            let condition = match field {
                Indexed::Path | Indexed::DisplayName => {
                    let column = match field {
                        Indexed::Path => D::folded("path"),
                        _ => D::folded("display_name"),
                    };
                    let column = match indexed {
                        true => column,
                        false => D::unindexed(&column),
                    };
                    filter.compare::<D>(&column, text, prefix)
                }
                // Read through the tags' index where it is chosen; otherwise looked up by
                // the path of each row the chosen index gives.
                Indexed::TagScope | Indexed::Tag => {
                    let column = match field {
                        Indexed::TagScope => D::bytewise("t.scope"),
                        _ => D::bytewise("t.tag"),
                    };
                    let tagged = filter.compare::<D>(&column, text, prefix);
                    match indexed {
                        true => format!(
                            "path IN (SELECT t.path FROM policy_object_tags AS t WHERE {tagged})"
                        ),
                        false => format!(
                            "EXISTS (SELECT 1 FROM policy_object_tags AS t
                                     WHERE t.path = policy_objects.path AND {tagged})"
                        ),
                    }
                }
            };
            conditions.push(condition);
        }
        filter.condition = match conditions.is_empty() {
            true => "1 = 1".into(),
            false => conditions.join(" AND "),
        };
        filter
    }

    /// `column` is `text`, or starts with it: a range of its index.
    fn compare<D: Dialect>(&mut self, column: &str, text: &str, prefix: bool) -> String {
        let from = self.bind::<D>(text.to_owned());
        match (prefix, prefix.then(|| prefix_end(text)).flatten()) {
            (false, _) => format!("{column} = {from}"),
            (true, None) => format!("{column} >= {from}"),
            (true, Some(end)) => {
                let end = self.bind::<D>(end);
                format!("{column} >= {from} AND {column} < {end}")
            }
        }
    }

    fn bind<D: Dialect>(&mut self, text: String) -> String {
        self.binds.push(text);
        D::param(self.binds.len() as u8)
    }

    /// The text each parameter binds, from the first.
    pub(in crate::storage) fn binds(&self) -> &[String] {
        &self.binds
    }

    /// How many objects meet the conditions.
    pub(in crate::storage) fn count(&self) -> String {
        match &self.counted_types {
            Some(list) => format!(
                "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM policy_object_counts
                 WHERE resource_type IN ({list})"
            ),
            None => format!(
                "SELECT count(*) FROM policy_objects WHERE {}",
                self.condition
            ),
        }
    }

    /// The objects that meet the conditions, in `order` (the columns `columns`), from the
    /// offset the parameter after the binds' gives, as many as the next one says; or
    /// every one, without `paged`.
    pub(in crate::storage) fn rows<D: Dialect>(
        &self,
        columns: &str,
        order: &str,
        paged: bool,
    ) -> String {
        let next = self.binds.len() as u8;
        let page = match paged {
            true => format!("LIMIT {} OFFSET {}", D::param(next + 1), D::param(next + 2)),
            false => String::new(),
        };
        format!(
            "SELECT {columns} FROM policy_objects WHERE {} ORDER BY {order} {page}",
            self.condition
        )
    }
}

/// Which condition the database reads through its index: the fewest rows first, as
/// clients' forms go (an exact name or tag names a few objects; a path's prefix, many).
fn rank(field: Indexed, prefix: bool) -> u8 {
    let by_field = match field {
        Indexed::DisplayName => 0,
        Indexed::Tag => 1,
        Indexed::TagScope => 2,
        Indexed::Path => 3,
    };
    by_field + 4 * u8::from(prefix)
}

/// A search's order in SQL, as [`crate::domain::search::Search`] orders what it matches in
/// memory: the key of `sort_by` (text in byte order), then the path with its ASCII letters
/// folded, then the path; all reversed where not `ascending`.
pub(in crate::storage) fn order<D: Dialect>(sort_by: Option<SortBy>, ascending: bool) -> String {
    let direction = match ascending {
        true => "ASC",
        false => "DESC",
    };
    let path = format!(
        "{} {direction}, {} {direction}",
        D::folded("path"),
        D::bytewise("path")
    );
    let key = match sort_by {
        None => return path,
        Some(SortBy::DisplayName) => D::bytewise("coalesce(display_name, '')"),
        Some(SortBy::Id) => D::bytewise("id"),
        Some(SortBy::CreateTime) => "create_time".into(),
        Some(SortBy::LastModifiedTime) => "last_modified_time".into(),
    };
    format!("{key} {direction}, {path}")
}
