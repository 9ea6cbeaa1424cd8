//! Pages and cursors (the README's "List"): the list of traceflows and the history extension
//! both page this way.
//!
//! A cursor is the position after the last item of a page, as base64url JSON, followed by a
//! MAC over that position and the query it continues (its *scope*: the list's ordering, the
//! history's path). The key is kept with the store, so cursors stay valid across restarts.
//! The server refuses a cursor it did not issue, and one issued for another query.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

use super::FieldError;

/// A page of an answer paged as NSX pages its search and its inventory: the `cursor` is
/// the number of results before the page (`"1000"`), which nsxlib reads with `int()` and
/// Terraform makes up from the results it has; a page asked with it after a change may
/// repeat or skip a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    pub page_size: u32,
    pub offset: u64,
}

impl Offset {
    /// The page of `items` (every result, in order) at this offset; its `next` is the
    /// number of results up to its end (`total` on the last page).
    pub fn page<T>(self, items: Vec<T>) -> Page<T, u64> {
        let mut window = self.window();
        items.into_iter().for_each(|item| window.push(item));
        window.page()
    }

    /// The page at this offset of results that come one at a time, in order.
    pub fn window<T>(self) -> Window<T> {
        Window {
            offset: self,
            total: 0,
            items: Vec::new(),
        }
    }

    /// Every result: no offset, no bound.
    pub fn everything() -> Self {
        Self {
            page_size: u32::MAX,
            offset: 0,
        }
    }
}

/// The page at an offset of results that come one at a time: each counted, and kept only
/// if it falls in the page, so that a page of a million results holds its page alone.
pub struct Window<T> {
    offset: Offset,
    total: u64,
    items: Vec<T>,
}

impl<T> Window<T> {
    /// The next result.
    pub fn push(&mut self, item: T) {
        let Offset { page_size, offset } = self.offset;
        if self.total >= offset && self.items.len() < page_size as usize {
            self.items.push(item);
        }
        self.total += 1;
    }

    /// The page, after the last result; its `next` is the number of results up to its end
    /// (`total` on the last page).
    pub fn page(self) -> Page<T, u64> {
        let end = self.offset.offset.saturating_add(self.items.len() as u64);
        Page {
            items: self.items,
            total: self.total,
            next: Some(end),
        }
    }
}

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
        self.page_size_or(MAX_PAGE_SIZE)
    }

    /// `page_size`: 0 to [`MAX_PAGE_SIZE`], default `default`.
    pub fn page_size_or(&self, default: u32) -> Result<u32, FieldError> {
        match self.get("page_size") {
            None => Ok(default),
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

    /// Where an offset-paged answer's page starts ([`Offset`]): its `page_size` and
    /// `cursor`, a number of items.
    pub fn offset(&self) -> Result<Offset, FieldError> {
        let offset = match self.get("cursor") {
            None => 0,
            Some(cursor) => cursor.parse().map_err(|_| {
                FieldError::new(
                    "cursor",
                    "must be a cursor an answer gave: the number of results before its page",
                )
            })?,
        };
        Ok(Offset {
            page_size: self.page_size()?,
            offset,
        })
    }

    /// The `cursor`, opened under `key` for the query `scope`.
    pub fn cursor<P: DeserializeOwned>(
        &self,
        key: &CursorKey,
        scope: &str,
    ) -> Result<Option<P>, FieldError> {
        self.get("cursor")
            .map(|cursor| key.open(scope, cursor))
            .transpose()
    }
}

/// The secret that cursors are authenticated with.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey([REDACTED])")
    }
}

impl CursorKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, scope: &str, position: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(&(scope.len() as u64).to_be_bytes());
        mac.update(scope.as_bytes());
        mac.update(position);
        mac
    }

    /// The cursor that continues the query `scope` after `position`.
    pub fn seal<P: Serialize>(&self, scope: &str, position: &P) -> String {
        let json = serde_json::to_vec(position).expect("a position always serializes");
        let tag = self.mac(scope, &json).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The position in a cursor this key sealed for `scope`.
    pub fn open<P: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<P, FieldError> {
        let (position, tag) = cursor.split_once('.').ok_or_else(not_issued)?;
        let json = URL_SAFE_NO_PAD.decode(position).map_err(|_| not_issued())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| not_issued())?;
        self.mac(scope, &json)
            .verify_slice(&tag)
            .map_err(|_| not_issued())?;
        serde_json::from_slice(&json).map_err(|_| not_issued())
    }
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
    fn cursors_round_trip_only_under_their_key_and_scope() {
        let key = CursorKey::new([7; 32]);
        let cursor = key.seal("list id true", &(7, "x".to_owned()));
        assert_eq!(
            key.open::<(i64, String)>("list id true", &cursor),
            Ok((7, "x".into()))
        );
        let refused = |scope: &str, cursor: &str| {
            assert_eq!(key.open::<(i64, String)>(scope, cursor), Err(not_issued()));
        };
        refused("list id false", &cursor);
        refused("list id true", "garbage!");
        refused("list id true", &URL_SAFE_NO_PAD.encode(br#"[7,"x"]"#));
        let other_key = CursorKey::new([8; 32]).seal("list id true", &(7, "x".to_owned()));
        refused("list id true", &other_key);
        let (_, tag) = cursor.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(br#"[9,"x"]"#));
        refused("list id true", &forged);
    }
}
