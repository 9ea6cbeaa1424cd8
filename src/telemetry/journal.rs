//! The request journal (the README's "Request journal"): the last requests the API answered,
//! kept in memory and bounded, so that a test's author can see what the client sent and
//! what it got. Each entry has the request's time, method, path and query, user, request id,
//! status, NSX error code, duration and the fault rule that shaped its answer, and, when the
//! setting asks for them, the bodies, cut at a size and with every secret redacted.
//!
//! The journal holds no password, cookie or token: headers are never kept, and the query
//! and bodies are redacted ([`redact`]) before they are stored.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::domain::paging::Params;
use crate::domain::FieldError;

/// `[journal]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSettings {
    /// How many requests are kept, the newest; 0 keeps none.
    pub capacity: usize,
    /// Whether request and answer bodies are kept (redacted).
    pub bodies: bool,
    /// The most bytes of each body kept.
    pub body_limit: usize,
}

/// The most entries one read of the stream answers.
pub const BATCH: usize = 1000;
/// A page's size when the reader names none (its most is a list's).
const DEFAULT_PAGE_SIZE: u32 = 100;

/// What replaces a secret.
const REDACTED: &str = "[REDACTED]";

/// Names of fields and parameters whose values are secrets, as parts of the lowercase name
/// (`j_password`, `bind_password`, `X-XSRF-TOKEN`, `client_secret`, `psk`, ...).
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "psk",
    "pre_shared_key",
    "private_key",
    "credential",
    "authorization",
    "cookie",
    "jsessionid",
    "api_key",
    "apikey",
];

/// Whether a field or parameter of this name holds a secret.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|secret| name.contains(secret))
}

/// One request, as it was answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Entry {
    /// Its number in the journal, from 1, in the order requests were answered: the cursor
    /// and the stream's position.
    pub id: u64,
    /// When it arrived, epoch milliseconds (real time, in every mode).
    pub time: i64,
    pub method: String,
    pub path: String,
    /// The query string, its secret parameters redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The authenticated user; none when the request did not authenticate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The request's id (`X-Request-Id`), copied into the entry's own room: an id shared
    /// with the request would be freed 10,000 requests later, from cold memory.
    pub request_id: String,
    pub status: u16,
    /// The ApiError's `error_code` of an error answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// From its arrival to its answer's head.
    pub duration_ms: f64,
    /// The fault rule that shaped its answer (`fault-1`), if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_rule: Option<String>,
    /// Whether that rule closed the connection instead of answering.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub connection_dropped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<BodyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<BodyView>,
}

/// `text` made `value`, in the room it has.
pub fn overwrite(text: &mut String, value: &str) {
    text.clear();
    text.push_str(value);
}

/// `slot` made `value`, in the room its text has.
pub fn overwrite_some(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(text), Some(value)) => overwrite(text, value),
        (_, value) => *slot = value.map(str::to_owned),
    }
}

impl Entry {
    /// The entry as a reader without the right to bodies sees it.
    pub fn without_bodies(&self) -> Entry {
        Entry {
            request_body: None,
            response_body: None,
            ..self.clone()
        }
    }
}

/// A body as kept: its size, its text up to the limit (secrets redacted), and whether that
/// is all of it.
#[derive(Debug, Clone, Serialize)]
pub struct BodyView {
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub text: String,
    pub truncated: bool,
}

impl BodyView {
    /// `bytes` of a body of `size` bytes in all, as kept: a JSON or form body with its
    /// secrets redacted, anything else as text; an empty body is none.
    pub fn of(bytes: &[u8], size: usize, content_type: Option<String>) -> Option<Self> {
        if size == 0 {
            return None;
        }
        let truncated = bytes.len() < size;
        let form = content_type
            .as_deref()
            .is_some_and(|media| media.starts_with("application/x-www-form-urlencoded"));
        let text = match serde_json::from_slice::<serde_json::Value>(bytes) {
            // As sent, unless a secret had to go.
            Ok(mut json) if !truncated => match redact_json(&mut json) {
                true => json.to_string(),
                false => String::from_utf8_lossy(bytes).into_owned(),
            },
            _ if form => redact_pairs(&String::from_utf8_lossy(bytes)),
            _ => String::from_utf8_lossy(bytes).into_owned(),
        };
        // A cut JSON body cannot be parsed to find its secrets: only what precedes the first
        // secret-looking name is kept.
        let text = if truncated && !form {
            cut_before_secrets(&text)
        } else {
            text
        };
        Some(Self {
            size,
            content_type,
            text,
            truncated,
        })
    }
}

/// Every value whose key names a secret, anywhere in `value`, becomes [`REDACTED`]; answers
/// whether there was any.
fn redact_json(value: &mut serde_json::Value) -> bool {
    let mut found = false;
    match value {
        serde_json::Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if is_secret(key) {
                    *field = serde_json::Value::String(REDACTED.into());
                    found = true;
                } else {
                    found |= redact_json(field);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                found |= redact_json(item);
            }
        }
        _ => {}
    }
    found
}

/// A query string or form body (`a=1&j_password=x`) with its secret values redacted.
pub fn redact_pairs(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(&decoded(name)) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn decoded(name: &str) -> String {
    percent_encoding::percent_decode_str(&name.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The text up to the first name that looks like a secret's, with a mark where it was cut.
fn cut_before_secrets(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    match SECRET_NAMES
        .iter()
        .filter_map(|name| lower.find(name))
        .min()
    {
        Some(at) => format!("{}{REDACTED}", &text[..floor_char_boundary(text, at)]),
        None => text.to_owned(),
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Which entries a reader asks for.
#[derive(Debug, Default)]
pub struct Filter {
    /// A glob on the path: `*` any characters but `/`, `**` any characters.
    path: Option<GlobMatcher>,
    method: Option<String>,
    status: Option<StatusFilter>,
    user: Option<String>,
    /// Arrived at or after, epoch milliseconds.
    since: Option<i64>,
}

/// A status, or a class of them (`4xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusFilter {
    Exactly(u16),
    Class(u16),
}

impl Filter {
    /// `path`, `method`, `status` (`404`, or `4xx`), `user` and `since` (epoch milliseconds,
    /// or an RFC 3339 time); each refused naming the parameter.
    pub fn parse(params: &Params<'_>) -> Result<Self, FieldError> {
        let path = params
            .get("path")
            .map(|pattern| {
                GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .build()
                    .map(|glob| glob.compile_matcher())
                    .map_err(|err| FieldError::new("path", format!("is not a valid glob: {err}")))
            })
            .transpose()?;
        let status = params.get("status").map(parse_status).transpose()?;
        let since = params.get("since").map(parse_time).transpose()?;
        Ok(Self {
            path,
            method: params.get("method").map(str::to_ascii_uppercase),
            status,
            user: params.get("user").map(str::to_owned),
            since,
        })
    }

    fn matches(&self, entry: &Entry) -> bool {
        self.path
            .as_ref()
            .is_none_or(|glob| glob.is_match(&entry.path))
            && self.method.as_ref().is_none_or(|m| *m == entry.method)
            && self.status.is_none_or(|status| match status {
                StatusFilter::Exactly(code) => entry.status == code,
                StatusFilter::Class(class) => entry.status / 100 == class,
            })
            && self
                .user
                .as_ref()
                .is_none_or(|user| entry.user.as_ref() == Some(user))
            && self.since.is_none_or(|since| entry.time >= since)
    }
}

fn parse_status(text: &str) -> Result<StatusFilter, FieldError> {
    let refused = || FieldError::new("status", "must be a status (404) or a class of them (4xx)");
    match text.strip_suffix("xx") {
        Some(class) => match class.parse::<u16>() {
            Ok(class @ 1..=5) => Ok(StatusFilter::Class(class)),
            _ => Err(refused()),
        },
        None => match text.parse::<u16>() {
            Ok(code @ 100..=599) => Ok(StatusFilter::Exactly(code)),
            _ => Err(refused()),
        },
    }
}

fn parse_time(text: &str) -> Result<i64, FieldError> {
    text.parse::<i64>()
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|time| time.timestamp_millis())
        })
        .ok_or_else(|| {
            FieldError::new(
                "since",
                "must be epoch milliseconds or an RFC 3339 time (2026-12-07T10:00:00Z)",
            )
        })
}

/// `page_size`: 0 to 1000 as for lists, default 100.
pub fn page_size(params: &Params<'_>) -> Result<usize, FieldError> {
    Ok(params.page_size_or(DEFAULT_PAGE_SIZE)? as usize)
}

/// `cursor`: an entry's id, as a page answered it.
pub fn cursor(params: &Params<'_>) -> Result<Option<u64>, FieldError> {
    params
        .get("cursor")
        .map(|text| {
            text.parse::<u64>().map_err(|_| {
                FieldError::new(
                    "cursor",
                    "must be a cursor this journal answered (a number)",
                )
            })
        })
        .transpose()
}

/// One page of the journal, newest first.
pub struct JournalPage {
    pub results: Vec<Arc<Entry>>,
    /// How many entries match, of those kept.
    pub result_count: usize,
    /// Where the next page starts (the id of its newest entry), while more remain.
    pub cursor: Option<u64>,
}

/// The journal: the newest `capacity` entries, and the id of the last one for the readers
/// that wait for more.
pub struct Journal {
    settings: JournalSettings,
    entries: Mutex<Entries>,
    latest: watch::Sender<u64>,
}

struct Entries {
    kept: VecDeque<Arc<Entry>>,
    next_id: u64,
}

impl Journal {
    pub fn new(settings: JournalSettings) -> Self {
        Self {
            entries: Mutex::new(Entries {
                kept: VecDeque::with_capacity(settings.capacity.min(BATCH)),
                next_id: 1,
            }),
            settings,
            latest: watch::channel(0).0,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().expect("journal lock")
    }

    /// Whether requests are kept at all.
    pub fn is_on(&self) -> bool {
        self.settings.capacity > 0
    }

    /// With bodies kept: the most bytes kept of each.
    pub fn body_limit(&self) -> Option<usize> {
        (self.is_on() && self.settings.bodies).then_some(self.settings.body_limit)
    }

    /// Keeps the entry `fill` writes (its id given here), dropping the oldest past the
    /// capacity. A full journal writes the new entry over the oldest where no reader holds
    /// that one still: its room and its strings' are reused, so that a request is kept
    /// without allocating.
    pub fn record(&self, fill: impl FnOnce(&mut Entry)) {
        if !self.is_on() {
            return;
        }
        let id = {
            let mut entries = self.entries();
            let mut entry = match entries.kept.len() == self.settings.capacity {
                true => entries
                    .kept
                    .pop_front()
                    .expect("a full journal has entries"),
                false => Arc::default(),
            };
            if Arc::get_mut(&mut entry).is_none() {
                entry = Arc::default();
            }
            let writing = Arc::get_mut(&mut entry).expect("an entry no one else holds");
            fill(writing);
            writing.id = entries.next_id;
            entries.next_id += 1;
            entries.kept.push_back(entry);
            entries.next_id - 1
        };
        // Only a reader waiting for more needs telling; one that comes later reads the
        // entries themselves, this one among them.
        if self.latest.receiver_count() > 0 {
            self.latest.send_replace(id);
        }
    }

    /// The entries `filter` keeps, newest first, from `cursor` (an entry's id) down.
    pub fn page(&self, filter: &Filter, cursor: Option<u64>, page_size: usize) -> JournalPage {
        let entries = self.entries();
        let matching = entries
            .kept
            .iter()
            .rev()
            .filter(|entry| filter.matches(entry));
        let result_count = matching.clone().count();
        let mut from = matching.skip_while(|entry| cursor.is_some_and(|cursor| entry.id > cursor));
        let results: Vec<Arc<Entry>> = from.by_ref().take(page_size).cloned().collect();
        JournalPage {
            results,
            result_count,
            cursor: from.next().map(|entry| entry.id),
        }
    }

    /// At most `limit` entries `filter` keeps after the entry `after`, oldest first.
    pub fn after(&self, filter: &Filter, after: u64, limit: usize) -> Vec<Arc<Entry>> {
        let entries = self.entries();
        let first = entries.kept.partition_point(|entry| entry.id <= after);
        entries
            .kept
            .range(first..)
            .filter(|entry| filter.matches(entry))
            .take(limit)
            .cloned()
            .collect()
    }

    /// The id of the last entry; 0 when none was kept.
    pub fn last_id(&self) -> u64 {
        self.entries().next_id - 1
    }

    /// Told the id of each entry kept from now on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Forgets every entry; ids go on from where they were.
    pub fn clear(&self) {
        self.entries().kept.clear();
    }
}

/// The bytes of a body the journal keeps, taken as they pass.
#[derive(Debug, Default)]
pub struct Captured {
    pub bytes: Vec<u8>,
    /// Every byte that passed, kept or not.
    pub size: usize,
}

impl Captured {
    /// Keeps what of `chunk` fits under `limit`.
    pub fn take(&mut self, chunk: &Bytes, limit: usize) {
        let room = limit.saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.size += chunk.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`Journal::record`] takes to write this entry.
    fn fill(path: &str, status: u16, user: Option<&str>) -> impl FnOnce(&mut Entry) {
        let entry = entry(path, status, user);
        move |slot| *slot = entry
    }

    fn entry(path: &str, status: u16, user: Option<&str>) -> Entry {
        Entry {
            id: 0,
            time: 1_000,
            method: "GET".into(),
            path: path.into(),
            query: None,
            user: user.map(str::to_owned),
            request_id: "r".into(),
            status,
            error_code: None,
            duration_ms: 1.0,
            fault_rule: None,
            connection_dropped: false,
            request_body: None,
            response_body: None,
        }
    }

    fn journal(capacity: usize) -> Journal {
        Journal::new(JournalSettings {
            capacity,
            bodies: false,
            body_limit: 16,
        })
    }

    fn filter(pairs: &[(&str, &str)]) -> Filter {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Filter::parse(&Params::new(&pairs)).unwrap()
    }

    #[test]
    fn the_journal_keeps_the_newest_and_pages_newest_first() {
        let journal = journal(3);
        for n in 1..=5 {
            journal.record(fill(&format!("/p/{n}"), 200, None));
        }
        assert_eq!(journal.last_id(), 5);
        let page = journal.page(&Filter::default(), None, 2);
        let ids: Vec<u64> = page.results.iter().map(|e| e.id).collect();
        assert_eq!(
            (ids, page.result_count, page.cursor),
            (vec![5, 4], 3, Some(3))
        );
        let rest = journal.page(&Filter::default(), page.cursor, 2);
        let ids: Vec<u64> = rest.results.iter().map(|e| e.id).collect();
        assert_eq!((ids, rest.cursor), (vec![3], None));
        let after: Vec<u64> = journal
            .after(&Filter::default(), 3, 10)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(after, [4, 5]);
        let off = super::Journal::new(JournalSettings {
            capacity: 0,
            bodies: true,
            body_limit: 1,
        });
        off.record(fill("/x", 200, None));
        assert_eq!((off.last_id(), off.body_limit()), (0, None));
    }

    /// A full journal writes over its oldest entries, but never over one a reader holds.
    #[test]
    fn an_entry_a_reader_holds_stays_as_it_was() {
        let journal = journal(2);
        journal.record(fill("/a", 200, None));
        journal.record(fill("/b", 200, None));
        let held = journal.after(&Filter::default(), 0, 1);
        for path in ["/c", "/d", "/e"] {
            journal.record(fill(path, 201, None));
        }
        assert_eq!((held[0].id, held[0].path.as_str()), (1, "/a"));
        let kept = journal.after(&Filter::default(), 0, 10);
        let kept: Vec<_> = kept.iter().map(|e| (e.id, e.path.as_str())).collect();
        assert_eq!(kept, [(4, "/d"), (5, "/e")]);
    }

    #[test]
    fn filters_match_paths_by_glob_statuses_by_class_users_and_times() {
        let journal = journal(10);
        journal.record(fill("/policy/api/v1/infra/segments/a", 200, Some("admin")));
        journal.record(fill(
            "/policy/api/v1/infra/segments/a/ports/p",
            404,
            Some("admin"),
        ));
        journal.record(fill("/store/v1/reset", 403, None));
        let ids = |pairs: &[(&str, &str)]| -> Vec<u64> {
            let page = journal.page(&filter(pairs), None, 10);
            page.results.iter().map(|e| e.id).collect()
        };
        assert_eq!(ids(&[("path", "/policy/api/v1/infra/segments/*")]), [1]);
        assert_eq!(ids(&[("path", "/policy/**")]), [2, 1]);
        assert_eq!(ids(&[("status", "4xx")]), [3, 2]);
        assert_eq!(ids(&[("status", "404"), ("user", "admin")]), [2]);
        assert_eq!(ids(&[("method", "get"), ("since", "1000")]), [3, 2, 1]);
        assert!(ids(&[("since", "1970-01-01T00:00:01.001Z")]).is_empty());
        for (name, value) in [
            ("status", "6xx"),
            ("status", "99"),
            ("since", "soon"),
            ("path", "["),
        ] {
            let pairs = vec![(name.to_owned(), value.to_owned())];
            let refused = Filter::parse(&Params::new(&pairs)).unwrap_err();
            assert_eq!(refused.field, name);
        }
    }

    #[test]
    fn secrets_never_reach_the_journal() {
        assert_eq!(
            redact_pairs("j_username=admin&j_password=VMware1%21&x=1"),
            "j_username=admin&j_password=[REDACTED]&x=1"
        );
        let json = br#"{"display_name":"ldap","bind_password":"s3cret","nested":[{"psk":"k"}]}"#;
        let kept = BodyView::of(json, json.len(), Some("application/json".into())).unwrap();
        assert!(
            !kept.text.contains("s3cret") && !kept.text.contains("\"k\""),
            "{}",
            kept.text
        );
        assert!(kept.text.contains("\"display_name\":\"ldap\""));
        let form = b"j_username=admin&j_password=hunter2";
        let kept = BodyView::of(
            form,
            form.len(),
            Some("application/x-www-form-urlencoded".into()),
        )
        .unwrap();
        assert_eq!(kept.text, "j_username=admin&j_password=[REDACTED]");
        // Cut, a JSON body cannot be parsed: it is kept up to the first secret's name.
        let cut = BodyView::of(&json[..40], json.len(), None).unwrap();
        assert!(
            cut.truncated && !cut.text.contains("s3cret"),
            "{}",
            cut.text
        );
        assert_eq!(BodyView::of(b"", 0, None).map(|b| b.size), None);
    }
}
