//! Pages and cursors (API.md section 4): the list of traceflows and the history extension both
//! page this way.
//!
//! A cursor is the position after the last item of a page, as base64url JSON. It is opaque to
//! clients; the server refuses any it cannot read back, or one issued for another ordering.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::FieldError;

/// The largest page, and the default.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Query parameters as given, in order; a parameter given twice counts once, the last.
pub struct Params<'a>(&'a [(String, String)]);

impl<'a> Params<'a> {
    pub fn new(pairs: &'a [(String, String)]) -> Self {
        Self(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `page_size`: 0 to [`MAX_PAGE_SIZE`], default [`MAX_PAGE_SIZE`].
    pub fn page_size(&self) -> Result<u32, FieldError> {
        match self.get("page_size") {
            None => Ok(MAX_PAGE_SIZE),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|size| *size <= MAX_PAGE_SIZE)
                .ok_or_else(|| {
                    FieldError::new(
                        "page_size",
                        format!("must be an integer between 0 and {MAX_PAGE_SIZE}"),
                    )
                }),
        }
    }

    /// A boolean parameter: `true` or `false`.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, FieldError> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(FieldError::new(name, "must be true or false")),
        }
    }

    /// The `cursor`, decoded into the position it stands for.
    pub fn cursor<P: DeserializeOwned>(&self) -> Result<Option<P>, FieldError> {
        self.get("cursor").map(decode_cursor).transpose()
    }
}

pub fn encode_cursor<P: Serialize>(position: &P) -> String {
    let json = serde_json::to_vec(position).expect("a position always serializes");
    URL_SAFE_NO_PAD.encode(json)
}

pub fn decode_cursor<P: DeserializeOwned>(cursor: &str) -> Result<P, FieldError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(not_issued)
}

/// The error for a cursor this server did not issue, or not for this request.
pub fn not_issued() -> FieldError {
    FieldError::new(
        "cursor",
        "was not issued by this server for this request; start again without a cursor",
    )
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, P> {
    pub items: Vec<T>,
    /// How many items match in all, not only on this page.
    pub total: u64,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<P>,
}

impl<T, P> Page<T, P> {
    /// Assembles a page from the rows a store fetched for it: up to `page_size + 1`, the extra
    /// one only telling that another page follows. `item` turns a row into an item;
    /// `position_after` gives the cursor position after the last item kept.
    pub fn from_fetched<R, E>(
        rows: Vec<R>,
        page_size: u32,
        total: i64,
        item: impl FnMut(R) -> Result<T, E>,
        position_after: impl FnOnce(&T) -> P,
    ) -> Result<Self, E> {
        let has_more = rows.len() as u64 > u64::from(page_size);
        let items = rows
            .into_iter()
            .take(page_size as usize)
            .map(item)
            .collect::<Result<Vec<_>, _>>()?;
        let next = items.last().filter(|_| has_more).map(position_after);
        Ok(Self {
            items,
            total: total.max(0) as u64,
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn page_size_bounds() {
        assert_eq!(Params::new(&params(&[])).page_size(), Ok(1000));
        assert_eq!(
            Params::new(&params(&[("page_size", "0")])).page_size(),
            Ok(0)
        );
        for bad in ["1001", "-1", "x", ""] {
            let pairs = params(&[("page_size", bad)]);
            assert_eq!(
                Params::new(&pairs).page_size().unwrap_err().field,
                "page_size"
            );
        }
    }

    #[test]
    fn a_page_has_a_next_position_only_when_an_extra_row_was_fetched() {
        let page =
            |rows: Vec<i64>| Page::from_fetched(rows, 2, 9, Ok::<_, ()>, |last| *last).unwrap();
        let full = page(vec![1, 2, 3]);
        assert_eq!(
            (full.items, full.next, full.total),
            (vec![1, 2], Some(2), 9)
        );
        let last = page(vec![1, 2]);
        assert_eq!((last.items, last.next), (vec![1, 2], None));
        let empty = Page::from_fetched(Vec::<i64>::new(), 0, 0, Ok::<_, ()>, |l| *l).unwrap();
        assert_eq!((empty.items, empty.next), (vec![], None));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode_cursor(&(7, "x".to_owned()));
        assert_eq!(decode_cursor::<(i64, String)>(&cursor), Ok((7, "x".into())));
        assert_eq!(
            decode_cursor::<(i64, String)>("garbage!"),
            Err(not_issued())
        );
        assert_eq!(
            decode_cursor::<(i64, String)>(&encode_cursor(&"s")),
            Err(not_issued())
        );
    }
}
