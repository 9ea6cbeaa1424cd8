//! Route templates (`/infra/segments/{id}/state`) matched segment by segment, without a
//! regular expression: the guard of a scope that holds operations whose paths have
//! parameters, so that a request none of them serves (a catalog object's) passes them all
//! with one look-up rather than one regular expression each, as the router would try them.

/// Templates, by their number of segments.
pub struct Templates {
    by_length: Vec<Vec<Vec<Segment>>>,
}

/// One segment of a template: literal text, or a parameter (`{id}`), which matches any one
/// non-empty segment, as the router's `[^/]+`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl Templates {
    /// The templates of `paths`.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut by_length: Vec<Vec<Vec<Segment>>> = Vec::new();
        for path in paths {
            let template: Vec<Segment> = path
                .split('/')
                .map(
                    |segment| match segment.starts_with('{') && segment.ends_with('}') {
                        true => Segment::Parameter,
                        false => Segment::Literal(segment.to_owned()),
                    },
                )
                .collect();
            let length = template.len();
            if by_length.len() <= length {
                by_length.resize(length + 1, Vec::new());
            }
            by_length[length].push(template);
        }
        Self { by_length }
    }

    /// Whether one of the templates matches `path`.
    pub fn matches(&self, path: &str) -> bool {
        let length = path.split('/').count();
        let Some(templates) = self.by_length.get(length) else {
            return false;
        };
        templates.iter().any(|template| {
            template
                .iter()
                .zip(path.split('/'))
                .all(|(expected, given)| match expected {
                    Segment::Literal(text) => text == given,
                    Segment::Parameter => !given.is_empty(),
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_matches_the_paths_its_parameters_allow_and_no_other() {
        let templates = Templates::new([
            "/policy/api/v1/infra/segments/{id}/state",
            "/policy/api/v1/infra/domains/{domain}/groups/{id}/members/vifs",
        ]);
        assert!(templates.matches("/policy/api/v1/infra/segments/web/state"));
        assert!(templates.matches("/policy/api/v1/infra/domains/d/groups/g/members/vifs"));
        for other in [
            "/policy/api/v1/infra/segments/web",
            "/policy/api/v1/infra/segments//state",
            "/policy/api/v1/infra/segments/web/state/x",
            "/policy/api/v1/infra/tier-1s/t1/state",
            "/policy/api/v1/infra/domains/d/groups/g/members/segments",
            "",
        ] {
            assert!(!templates.matches(other), "{other}");
        }
    }
}
