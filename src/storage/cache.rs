//! Recently written or read objects, kept in memory so that most GETs by id need no query.
//!
//! The writer is the only source of truth for the cache: after each commit it stores the new
//! state of every object it wrote (or drops a deleted one), before any of those requests is
//! answered. A read that missed the cache may offer what it found in the database, but only if
//! no write committed since the read began; otherwise an old version could overwrite a newer
//! one. The store is the database's only writer: changes made to the file by other programs
//! while the server runs are not seen by the cache.
//!
//! Objects are shared, never copied: the cache holds the very object the writer answered
//! with, and a GET that hits it takes another reference.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use crate::domain::{Applied, Operation, PolicyObject};

/// A bounded cache of objects by path; cloning shares it.
#[derive(Clone)]
pub struct ObjectCache {
    inner: Option<Arc<Mutex<Inner>>>,
}

struct Inner {
    objects: LruCache<String, Arc<PolicyObject>>,
    /// Batches committed so far.
    commits: u64,
}

/// When a read began, in commits: see [`ObjectCache::offer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadStart(u64);

impl ObjectCache {
    /// A cache of at most `capacity` objects; 0 turns caching off.
    pub fn new(capacity: usize) -> Self {
        let inner = NonZeroUsize::new(capacity).map(|capacity| {
            Arc::new(Mutex::new(Inner {
                objects: LruCache::new(capacity),
                commits: 0,
            }))
        });
        Self { inner }
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Inner>> {
        self.inner
            .as_ref()
            .map(|inner| inner.lock().expect("object cache lock"))
    }

    pub fn get(&self, path: &str) -> Option<Arc<PolicyObject>> {
        self.lock()?.objects.get(path).cloned()
    }

    /// To be taken before reading the database, and handed back to [`ObjectCache::offer`].
    pub fn read_start(&self) -> ReadStart {
        ReadStart(self.lock().map_or(0, |inner| inner.commits))
    }

    /// Caches what a read found, unless a write committed since the read began.
    pub fn offer(&self, object: &Arc<PolicyObject>, read_start: ReadStart) {
        if let Some(mut inner) = self.lock() {
            if inner.commits == read_start.0 {
                inner
                    .objects
                    .put(object.path.to_string(), Arc::clone(object));
            }
        }
    }

    /// The writer's report that the whole store was replaced (a reset, a restore): nothing
    /// cached before stays, nor may a read that began before be offered.
    pub fn clear(&self) {
        if let Some(mut inner) = self.lock() {
            inner.commits += 1;
            inner.objects.clear();
        }
    }

    /// The writer's report of a committed batch.
    pub fn committed<'a>(&self, applied: impl IntoIterator<Item = &'a Applied>) {
        if let Some(mut inner) = self.lock() {
            inner.commits += 1;
            for Applied { operation, object } in applied {
                if *operation == Operation::Delete {
                    inner.objects.pop(object.path.as_str());
                } else {
                    inner
                        .objects
                        .put(object.path.to_string(), Arc::clone(object));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::change::Stamp;
    use crate::domain::kind::{CatalogOnly, Kinds};
    use crate::domain::write::apply;
    use crate::domain::{Change, ObjectPath};

    fn applied(id: &str, change: Change, current: Option<PolicyObject>) -> Applied {
        let stamp = Stamp {
            user: "admin",
            now: 1,
            unique_id: uuid::Uuid::nil(),
        };
        apply(current.as_ref(), segment(id), change, stamp)
            .unwrap()
            .unwrap()
    }

    fn segment(id: &str) -> ObjectPath {
        ObjectPath::from_stored(&format!("/infra/segments/{id}")).unwrap()
    }

    fn put(id: &str) -> Change {
        let body = serde_json::json!({"description": "d"});
        Change::Put(
            CatalogOnly
                .document(body.as_object().unwrap().clone(), &segment(id))
                .unwrap(),
        )
    }

    #[test]
    fn a_read_that_overlapped_a_write_is_not_cached() {
        let cache = ObjectCache::new(10);
        let old = applied("t1", put("t1"), None);
        let start = cache.read_start();
        let deleted = applied("t1", Change::Delete, Some((*old.object).clone()));
        cache.committed([&deleted]);
        cache.offer(&old.object, start); // found before the delete committed: stale
        assert_eq!(cache.get("/infra/segments/t1"), None);

        let start = cache.read_start();
        cache.offer(&old.object, start);
        assert_eq!(cache.get("/infra/segments/t1"), Some(old.object));
    }

    #[test]
    fn writes_replace_and_deletes_drop() {
        let cache = ObjectCache::new(10);
        let created = applied("t1", put("t1"), None);
        cache.committed([&created]);
        let cached = cache.get("/infra/segments/t1").unwrap();
        assert!(
            Arc::ptr_eq(&cached, &created.object),
            "the cache holds the committed object itself"
        );
        let deleted = applied("t1", Change::Delete, Some((*created.object).clone()));
        cache.committed([&deleted]);
        assert_eq!(cache.get("/infra/segments/t1"), None);
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let cache = ObjectCache::new(0);
        let created = applied("t1", put("t1"), None);
        cache.committed([&created]);
        assert_eq!(cache.get("/infra/segments/t1"), None);
    }
}
