//! The writer on real database files: its connection's settings, and what one failed write
//! of a batch does to the rest of it.

use super::*;
use crate::domain::{ObjectId, Operation, WriteRejection};
use crate::kinds::traceflow::run::{ResultsMode, ResultsPolicy};
use crate::kinds::Registry;

fn traceflow_path(id: &ObjectId) -> ObjectPath {
    ObjectPath::from_stored(&format!("/infra/antrea/traceflows/{id}")).unwrap()
}

fn job(id: &str, change: Change) -> (Job, oneshot::Receiver<Result<Done, WriteError>>) {
    let (reply, answer) = oneshot::channel();
    let task = Task::Write {
        path: traceflow_path(&ObjectId::parse(id).unwrap()),
        change,
        user: "admin".into(),
    };
    (Job { task, reply }, answer)
}

fn context() -> WriterContext {
    let results = ResultsPolicy {
        mode: ResultsMode::Simulate,
        delay_ms: 0,
        seed: 0,
    };
    WriterContext {
        clock: Clock::System,
        unique_ids: rand_chacha::rand_core::SeedableRng::seed_from_u64(1),
        kinds: Arc::new(Registry::new(results)),
    }
}

fn create(id: &str) -> Change {
    let body = serde_json::json!({"container_cluster_id": "c", "source_external_id": "s"});
    let path = traceflow_path(&ObjectId::parse(id).unwrap());
    let kinds = context().kinds;
    Change::Put(
        kinds
            .document(body.as_object().unwrap().clone(), &path)
            .unwrap(),
    )
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

/// The writer connection takes its durability from the storage settings, and never
/// checkpoints inside a commit.
#[test]
fn the_write_connection_follows_the_storage_settings() {
    let dir = tempfile::tempdir().unwrap();
    let defaults = crate::configuration::Settings::load(&Default::default()).unwrap();
    let settings = StorageSettings {
        durability: Durability::Normal,
        ..defaults.storage.clone()
    };
    let conn = open(&dir.path().join("store.db"), &settings).unwrap();
    assert_eq!(count(&conn, "PRAGMA synchronous"), 1, "NORMAL");
    assert_eq!(count(&conn, "PRAGMA wal_autocheckpoint"), 0);

    let conn = open(&dir.path().join("store.db"), &defaults.storage).unwrap();
    assert_eq!(count(&conn, "PRAGMA synchronous"), 2, "FULL");
    assert_eq!(count(&conn, "PRAGMA wal_autocheckpoint"), 0);
}

/// One batch: two creates around a duplicate create and a stale replace. The failures
/// are answered alone; the rest of the batch commits.
#[test]
fn a_failed_write_inside_a_batch_changes_no_other_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.db");
    crate::storage::sqlite::migrations::migrate(&path).unwrap();
    let mut conn = Connection::open(&path).unwrap();
    let cache = ObjectCache::new(10);
    let mut context = context();

    let (existing, _) = job("dup", create("dup"));
    commit_batch(&mut conn, vec![existing], &mut context, &cache);

    let stale = match create("dup") {
        Change::Put(mut document) => {
            document.revision = Some(7);
            Change::Put(document)
        }
        _ => unreachable!("a create is a PUT"),
    };
    let (first, first_answer) = job("a", create("a"));
    let (duplicate, duplicate_answer) = job("dup", create("dup"));
    let (stale, stale_answer) = job("dup", stale);
    let (last, last_answer) = job("b", create("b"));
    commit_batch(
        &mut conn,
        vec![first, duplicate, stale, last],
        &mut context,
        &cache,
    );

    for mut answer in [first_answer, last_answer] {
        let Ok(Done::Written(Some(applied), _)) = answer.try_recv().unwrap() else {
            panic!("a create")
        };
        assert_eq!(applied.operation, Operation::Create);
    }
    let Err(rejected) = duplicate_answer.blocking_recv().unwrap() else {
        panic!("a rejection")
    };
    assert!(matches!(
        rejected,
        WriteError::Rejected(WriteRejection::AlreadyExists { .. })
    ));
    let Err(rejected) = stale_answer.blocking_recv().unwrap() else {
        panic!("a rejection")
    };
    assert!(matches!(
        rejected,
        WriteError::Rejected(WriteRejection::RevisionMismatch { .. })
    ));

    assert_eq!(count(&conn, "SELECT count(*) FROM policy_objects"), 3);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM antrea_traceflow_runs"),
        3,
        "a run for each create, none for the rejected"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM policy_object_revisions"),
        3
    );
    assert_eq!(
        count(
            &conn,
            "SELECT max(revision) FROM policy_objects WHERE id = 'dup'"
        ),
        0
    );
    assert!(
        cache.get("/infra/antrea/traceflows/b").is_some(),
        "the cache saw the commit"
    );
}

/// Commits a batch of three creates on a new store, the middle one refused by `trigger`
/// (SQL creating a trigger on `poison`'s rows), and checks that every write of the batch
/// failed with the store and that nothing of it is stored, in the database or the cache,
/// with the transaction over. Answers the store, for what a test checks next.
fn poisoned_batch(trigger: &str) -> (tempfile::TempDir, Connection, WriterContext, ObjectCache) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("poisoned.db");
    crate::storage::sqlite::migrations::migrate(&path).unwrap();
    let mut conn = Connection::open(&path).unwrap();
    conn.execute_batch(trigger).unwrap();
    let cache = ObjectCache::new(10);
    let mut context = context();
    let (first, first_answer) = job("a", create("a"));
    let (poison, poison_answer) = job("poison", create("poison"));
    let (last, last_answer) = job("b", create("b"));
    commit_batch(&mut conn, vec![first, poison, last], &mut context, &cache);

    for answer in [first_answer, poison_answer, last_answer] {
        let outcome = answer.blocking_recv().unwrap();
        assert!(
            matches!(outcome, Err(WriteError::Store(_))),
            "every write failed"
        );
    }
    assert!(conn.is_autocommit(), "the transaction is over");
    assert_eq!(count(&conn, "SELECT count(*) FROM policy_objects"), 0);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM policy_object_revisions"),
        0
    );
    for path in ["/infra/antrea/traceflows/a", "/infra/antrea/traceflows/b"] {
        assert!(cache.get(path).is_none());
    }
    (dir, conn, context, cache)
}

/// A PUT has no savepoint of its own: a store failure in its middle (here its run's row
/// is refused after its object's row was written) fails the whole batch, which is rolled
/// back, rather than leaving half of the write in it. The store goes on.
#[test]
fn a_store_failure_inside_a_write_without_savepoint_fails_the_whole_batch() {
    let (_dir, mut conn, mut context, cache) = poisoned_batch(
        "CREATE TRIGGER poison BEFORE INSERT ON antrea_traceflow_runs WHEN NEW.id = 'poison'
         BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    );
    let (again, again_answer) = job("a", create("a"));
    commit_batch(&mut conn, vec![again], &mut context, &cache);
    assert!(
        again_answer.blocking_recv().unwrap().is_ok(),
        "the store goes on"
    );
}

/// SQLite may roll the whole transaction back under a failing statement (here a trigger
/// does, as SQLITE_FULL or IOERR may): the writes after it in the batch are not applied
/// one commit each, and none of the batch is answered as written.
#[test]
fn a_transaction_rolled_back_by_sqlite_fails_the_whole_batch() {
    poisoned_batch(
        "CREATE TRIGGER poison BEFORE INSERT ON policy_objects WHEN NEW.id = 'poison'
         BEGIN SELECT RAISE(ROLLBACK, 'rolled back'); END;",
    );
}
