//! The step order of every write, written once over an engine's primitives ([`Tx`]): a write
//! of one object, a hierarchical tree, a subtree's delete, an import, the defaults, a reset,
//! a snapshot's save and restore, a change of a kind's rows. What differs between the engines
//! is theirs: the transaction each step runs in, SQLite's batching, PostgreSQL's retries of a
//! step that lost a race ([`Persisted::Raced`]) and its locks.
//!
//! Each step asks the object's kind what it needs: whether the object is whole
//! ([`write::complete`]), what comes with it ([`Kind::companions`]), whether others may name
//! it, and what its write does to the kind's own rows ([`SideState::writes`]).
//!
//! [`Kind::companions`]: crate::domain::kind::Kind::companions

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::catalog::catalog;
use crate::domain::change::Stamp;
use crate::domain::embedded::Listed;
use crate::domain::exchange::{ImportLine, LineError};
use crate::domain::hierarchy::TreeWrite;
use crate::domain::history::WholeOperation;
use crate::domain::kind::Companion;
use crate::domain::realization::RealizationScript;
use crate::domain::relations::{self, Check};
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::write;
use crate::domain::{Applied, Change, ObjectPath, Operation, WriteRejection};

use super::queries::{CLIENT_OBJECTS, PRUNE_WHOLE_EVENTS, SNAPSHOT_TABLES};
use super::rows::OBJECT_COLUMNS;
use super::side::{SideChange, SideDone, SideRead, SideTable, SideTask, SideWrite, StoreKinds};
use super::tx::{Current, Moment, Persisted, SqlType, SqlValue, Tx};
use super::{StoreError, WriteError};

/// One write of one object, as asked: where, what, and the stamp and moment it gets
/// whichever of its attempts lands. An engine that may attempt a write again clones its
/// request for each attempt.
#[derive(Clone)]
pub struct Request<'a> {
    pub path: &'a ObjectPath,
    pub change: Changing<'a>,
    pub stamp: Stamp<'a>,
    pub at: Moment,
}

/// A write's change, as an attempt applies it (applying takes the change's fields into the
/// new state of the object).
#[derive(Clone)]
pub enum Changing<'a> {
    /// A change that may be attempted again: each attempt applies a copy.
    Again(&'a Change),
    /// A change attempted once, applied as it is.
    Once(Change),
}

impl Changing<'_> {
    fn is_delete(&self) -> bool {
        matches!(
            self,
            Changing::Again(Change::Delete) | Changing::Once(Change::Delete)
        )
    }

    fn take(self) -> Change {
        match self {
            Changing::Again(change) => change.clone(),
            Changing::Once(change) => change,
        }
    }

    /// The embedded lists the change's document gave ([`Listed`]): a copy where the change
    /// may be attempted again, taken out of it where it is attempted once.
    fn take_embedded(&mut self) -> Vec<Listed> {
        match self {
            Changing::Again(Change::Put(document) | Change::Patch(document)) => {
                document.embedded.clone()
            }
            Changing::Once(Change::Put(document) | Change::Patch(document)) => {
                std::mem::take(&mut document.embedded)
            }
            Changing::Again(Change::Delete) | Changing::Once(Change::Delete) => Vec::new(),
        }
    }
}

/// How an attempt of a write ended: with what it wrote (the object's new revision, `None`
/// where there was nothing to change, and what came with it), or having found what it read
/// changed meanwhile (it wrote nothing).
pub enum Attempt {
    Ended(Option<Applied>, Vec<Applied>),
    Raced,
}

/// The rows of its own the kind of the object at `path` reads with it.
pub fn side_reads(kinds: &dyn StoreKinds, path: &ObjectPath) -> Vec<SideRead> {
    kinds
        .side_at(path)
        .map_or_else(Vec::new, |side| side.reads(path))
}

/// Reads what is stored at the request's path, then attempts the write.
pub async fn write_one<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    request: Request<'_>,
) -> Result<Attempt, WriteError> {
    let path = request.path;
    let current = tx.current(path, side_reads(kinds, path)).await?;
    attempt(tx, kinds, request, current).await
}

/// Applies the change to `current` (what is stored at the path, as read or as assumed) and
/// persists the result with what its kind brings, unless a row `current` came from has
/// changed meanwhile.
pub async fn attempt<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    request: Request<'_>,
    current: Current,
) -> Result<Attempt, WriteError> {
    attempt_checked(tx, kinds, request, current, Relations::Now).await
}

/// When a write's relations to the objects around it ([`check_relations`]) are checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Relations {
    /// Before it is persisted: a write of one object.
    Now,
    /// Once every write of its tree is persisted: NSX resolves the dependencies within one
    /// intent tree, in whatever order its children come.
    WithItsTree,
}

async fn attempt_checked<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    request: Request<'_>,
    current: Current,
    relations: Relations,
) -> Result<Attempt, WriteError> {
    let (path, stamp, at) = (request.path, request.stamp, request.at);
    let mut change = request.change;
    let listed = change.take_embedded();
    let mut written = match change.is_delete() && current.object.is_some() {
        true => {
            let deleted = delete_config_children(tx, kinds, path, (stamp, at), relations);
            Box::pin(deleted).await?
        }
        false => Vec::new(),
    };
    let applied = write::apply(current.object.as_ref(), path.clone(), change.take(), stamp)?;
    let Some(applied) = write::complete(applied, kinds)? else {
        return Ok(Attempt::Ended(None, Vec::new()));
    };
    let companions = kinds.at(path).companions(&applied);
    // What a write brings with it is rare, and its steps are large futures: boxed, they are
    // not moved along with every write's.
    if !companions.is_empty() {
        let deleted = delete_companions(tx, kinds, &applied, &companions, (stamp, at));
        written.extend(Box::pin(deleted).await?);
    }
    if relations == Relations::Now {
        check_relations(tx, kinds, &applied).await?;
    }
    let side = side_writes(kinds, &applied, &current, at)?;
    if tx.persist(&applied, &side, &current).await? == Persisted::Raced {
        return Ok(Attempt::Raced);
    }
    if !companions.is_empty() {
        written.extend(Box::pin(create_companions(tx, kinds, companions, at)).await?);
    }
    if !listed.is_empty() {
        let parent = &applied.object.path;
        match Box::pin(write_embedded(
            tx,
            kinds,
            parent,
            listed,
            (stamp, at),
            relations,
        ))
        .await?
        {
            Some(children) => written.extend(children),
            None => return Ok(Attempt::Raced),
        }
    }
    Ok(Attempt::Ended(Some(applied), written))
}

/// Makes the objects of `parent`'s embedded lists the lists' items ([`Listed`]): deletes the
/// stored ones a list leaves out, then writes each item as a replace of its object (checked
/// against the item's `_revision` where it gives one) or its create. Each gets its own
/// history row, and a `unique_id` drawn from the parent write's (so that a deterministic
/// store stays so). Answers what it wrote, or `None` where a row changed meanwhile.
async fn write_embedded<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    parent: &ObjectPath,
    listed: Vec<Listed>,
    (stamp, at): (Stamp<'_>, Moment),
    relations: Relations,
) -> Result<Option<Vec<Applied>>, WriteError> {
    let mut stored = Vec::new();
    for below in tx.subtree_deepest_first(parent).await? {
        stored.push(stored_path(&below)?);
    }
    let mut written = Vec::new();
    for Listed { route, items } in listed {
        let dropped = stored
            .iter()
            .filter(|path| path.route() == route && !items.iter().any(|(item, _)| item == *path))
            .cloned()
            .collect();
        let Some(deleted) = delete_each(tx, kinds, dropped, (stamp, at)).await? else {
            return Ok(None);
        };
        if relations == Relations::Now {
            for gone in &deleted {
                check_relations(tx, kinds, gone).await?;
            }
        }
        written.extend(deleted);
        for (path, mut document) in items {
            tx.hold(&path).await?;
            let current = tx.current(&path, side_reads(kinds, &path)).await?;
            if document.revision.is_none() {
                document.revision = current.object.as_ref().map(|item| item.meta.revision);
            }
            let request = Request {
                path: &path,
                change: Changing::Once(Change::Put(document)),
                stamp: Stamp {
                    unique_id: Uuid::new_v5(&stamp.unique_id, path.as_str().as_bytes()),
                    ..stamp
                },
                at,
            };
            match Box::pin(attempt_checked(tx, kinds, request, current, relations)).await? {
                Attempt::Ended(applied, more) => {
                    written.extend(applied);
                    written.extend(more);
                }
                Attempt::Raced => return Ok(None),
            }
        }
    }
    Ok(Some(written))
}

/// What the write `applied` does to its kind's rows, from what `current` read of them.
fn side_writes(
    kinds: &dyn StoreKinds,
    applied: &Applied,
    current: &Current,
    at: Moment,
) -> Result<Vec<SideWrite>, StoreError> {
    let Some(side) = kinds.side_at(&applied.object.path) else {
        return Ok(Vec::new());
    };
    side.writes(&SideChange {
        applied,
        before: current.object.as_ref(),
        rows: &current.side,
        at,
    })
}

/// Refuses `applied` where what it needs of the objects around it ([`relations::checks`])
/// is not what is stored: a create's parent or a reference missing, a delete's children or
/// referrers present.
pub async fn check_relations<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    applied: &Applied,
) -> Result<(), WriteError> {
    for check in relations::checks(applied, kinds) {
        let rejection = match check {
            Check::ParentExists(path) | Check::ReferenceExists(path) => (!tx.exists(path).await?)
                .then(|| WriteRejection::Missing {
                    path: path.to_owned(),
                }),
            Check::Childless(path) => tx.first_child(path).await?.map(|by| WriteRejection::InUse {
                path: path.to_owned(),
                by,
            }),
            Check::Unreferenced(path) => {
                tx.first_referrer(path)
                    .await?
                    .map(|by| WriteRejection::InUse {
                        path: path.to_owned(),
                        by,
                    })
            }
        };
        if let Some(rejection) = rejection {
            return Err(rejection.into());
        }
    }
    Ok(())
}

/// Deletes what the write of `applied` takes with it, before the write's own checks: the
/// system's own objects at the companions' paths, each with the checks of any delete
/// (refused as the client's object's refusal). Answers what it deleted.
async fn delete_companions<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    applied: &Applied,
    companions: &[Companion],
    (stamp, at): (Stamp<'_>, Moment),
) -> Result<Vec<Applied>, WriteError> {
    let mut deleted = Vec::new();
    for companion in companions {
        let Companion::Delete(path) = companion else {
            continue;
        };
        tx.hold(path).await?;
        let current = tx.current(path, side_reads(kinds, path)).await?;
        let stored = current
            .object
            .as_ref()
            .filter(|o| relations::is_system_owned(o));
        let Some(gone) = write::apply(stored, path.clone(), Change::Delete, stamp)? else {
            continue;
        };
        check_relations(tx, kinds, &gone)
            .await
            .map_err(|refused| refused.of_owner(&applied.object.path))?;
        let side = side_writes(kinds, &gone, &current, at)?;
        if tx.persist(&gone, &side, &current).await? == Persisted::Raced {
            return Err(StoreError::Unavailable(format!("{path} changed meanwhile; retry")).into());
        }
        deleted.push(gone);
    }
    Ok(deleted)
}

/// Deletes what is stored below `path` at routes clients write but cannot delete (a
/// segment's `security-config`, a locale service's `multicast`): NSX deletes an object's
/// configuration with it. Deepest first, each with its history row and the checks of any
/// delete (`relations`: now, or with its tree); the delete of `path` itself still needs no
/// other child to be left. Answers what it deleted.
async fn delete_config_children<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    path: &ObjectPath,
    (stamp, at): (Stamp<'_>, Moment),
    relations: Relations,
) -> Result<Vec<Applied>, WriteError> {
    if !catalog().route(path.route()).takes_children {
        return Ok(Vec::new());
    }
    let mut below = Vec::new();
    for stored in tx.subtree_deepest_first(path).await? {
        let child = stored_path(&stored)?;
        if child != *path && catalog().route(child.route()).goes_with_parent {
            below.push(child);
        }
    }
    let Some(deleted) = delete_each(tx, kinds, below, (stamp, at)).await? else {
        let raced = format!("below {path}: a row changed meanwhile; retry");
        return Err(StoreError::Unavailable(raced).into());
    };
    if relations == Relations::Now {
        for gone in &deleted {
            check_relations(tx, kinds, gone).await?;
        }
    }
    Ok(deleted)
}

/// Writes the objects a create brings with it where nothing is stored yet (an import's
/// line may have written one first); answers those it wrote.
async fn create_companions<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    companions: Vec<Companion>,
    at: Moment,
) -> Result<Vec<Applied>, StoreError> {
    let mut created = Vec::new();
    for companion in companions {
        let Companion::Create(new) = companion else {
            continue;
        };
        let path = &new.object.path;
        if tx.exists(path.as_str()).await? {
            continue;
        }
        let nothing = Current::nothing(side_reads(kinds, path));
        let side = side_writes(kinds, &new, &nothing, at)?;
        if tx.persist(&new, &side, &nothing).await? == Persisted::Written {
            created.push(new);
        }
    }
    Ok(created)
}

/// Deletes the object at `path` and every object below it, deepest first, each with its
/// history row and its kind's rows; that nothing left names what went is its tree's check
/// ([`write_tree`]). Answers what it deleted, or `None` where a row changed meanwhile.
async fn delete_tree<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    path: &ObjectPath,
    stamp: Stamp<'_>,
    at: Moment,
) -> Result<Option<Vec<Applied>>, WriteError> {
    let mut paths = Vec::new();
    for stored in tx.subtree_deepest_first(path).await? {
        paths.push(stored_path(&stored)?);
    }
    delete_each(tx, kinds, paths, (stamp, at)).await
}

/// Deletes each stored object of `paths`, in order, each with its history row and its
/// kind's rows. Answers what it deleted, or `None` where a row changed meanwhile.
async fn delete_each<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    paths: Vec<ObjectPath>,
    (stamp, at): (Stamp<'_>, Moment),
) -> Result<Option<Vec<Applied>>, WriteError> {
    let mut deleted = Vec::with_capacity(paths.len());
    for path in paths {
        let current = tx.current(&path, side_reads(kinds, &path)).await?;
        let Some(gone) = write::apply(current.object.as_ref(), path, Change::Delete, stamp)? else {
            continue;
        };
        let side = side_writes(kinds, &gone, &current, at)?;
        if tx.persist(&gone, &side, &current).await? == Persisted::Raced {
            return Ok(None);
        }
        deleted.push(gone);
    }
    Ok(Some(deleted))
}

/// A path as the store keeps it, read back.
fn stored_path(stored: &str) -> Result<ObjectPath, StoreError> {
    ObjectPath::from_stored(stored)
        .map_err(|error| StoreError::Internal(format!("stored path {stored}: {error}")))
}

/// The writes of one hierarchical request, in order, each holding its object's row first:
/// a child's patch as a write of one, a child marked for delete as a subtree's delete. Each
/// object gets its own `unique_id`. What each write needs of the objects around it (a
/// parent, the objects it names, no referrer of what went) is checked once all of them are
/// written, so that their order in the request does not matter. Answers everything they
/// wrote, or `None` where a row changed meanwhile.
pub async fn write_tree<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    writes: &[TreeWrite],
    (user, now, at): (&str, i64, Moment),
    unique_id: &mut (dyn FnMut() -> Uuid + Send),
) -> Result<Option<Vec<Applied>>, WriteError> {
    let mut written = Vec::new();
    for tree_write in writes {
        let stamp = Stamp {
            user,
            now,
            unique_id: unique_id(),
        };
        match tree_write {
            TreeWrite::Patch { path, document } => {
                let request = Request {
                    path,
                    change: Changing::Once(Change::Patch(document.clone())),
                    stamp,
                    at,
                };
                tx.hold(path).await?;
                let current = tx.current(path, side_reads(kinds, path)).await?;
                match attempt_checked(tx, kinds, request, current, Relations::WithItsTree).await? {
                    Attempt::Ended(applied, companions) => {
                        written.extend(applied);
                        written.extend(companions);
                    }
                    Attempt::Raced => return Ok(None),
                }
            }
            TreeWrite::DeleteTree(path) => match delete_tree(tx, kinds, path, stamp, at).await? {
                Some(deleted) => written.extend(deleted),
                None => return Ok(None),
            },
        }
    }
    for applied in &written {
        check_relations(tx, kinds, applied).await?;
    }
    Ok(Some(written))
}

/// Creates every object of an import, each with its create revision and its kind's rows;
/// refuses the whole import when a line names an object that exists already. What the
/// system wrote (a default, a project's domain) gives way to a line's version of it.
pub async fn import<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    lines: Vec<ImportLine>,
    (user, at): (&str, Moment),
    unique_id: &mut (dyn FnMut() -> Uuid + Send),
) -> Result<u64, WriteError> {
    tx.lock_store().await?;
    let mut written = Vec::with_capacity(lines.len());
    for line in lines {
        let refused = || WriteRejection::Invalid(LineError::exists(&line).into_field_error());
        let path = line.path.clone();
        let reads = side_reads(kinds, &path);
        let mut current = tx.current(&path, reads.clone()).await?;
        match &current.object {
            Some(stored) if relations::is_system_owned(stored) => {
                tx.remove_unrecorded(&path).await?;
                current = Current::nothing(reads);
            }
            Some(_) => return Err(refused().into()),
            None => {}
        }
        let refusal = refused();
        let applied = Applied {
            operation: Operation::Create,
            object: Arc::new(line.into_object(at.stamp, user, unique_id())),
        };
        let side = side_writes(kinds, &applied, &current, at)?;
        if tx.persist(&applied, &side, &current).await? == Persisted::Raced {
            return Err(refusal.into());
        }
        let companions = kinds.at(&path).companions(&applied);
        create_companions(tx, kinds, companions, at).await?;
        written.push(applied);
    }
    // Checked once every line is written: a line's parent or the objects it refers to may
    // be any other line's.
    for applied in &written {
        check_relations(tx, kinds, applied).await?;
    }
    Ok(written.len() as u64)
}

/// Writes every default that is not stored, each with its create revision; answers how
/// many it wrote.
pub async fn seed_defaults<T: Tx>(tx: &mut T, now: i64) -> Result<usize, StoreError> {
    let mut seeded = 0;
    for applied in relations::defaults(now) {
        if tx.exists(applied.object.path.as_str()).await? {
            continue;
        }
        let nothing = Current::nothing(Vec::new());
        if tx.persist(&applied, &[], &nothing).await? == Persisted::Written {
            seeded += 1;
        }
    }
    Ok(seeded)
}

/// A change of a kind's rows that writes no object, under the store's lock: what is stored
/// at the task's path is read, and the task says what to write.
pub async fn side_task<T: Tx>(
    tx: &mut T,
    task: SideTask,
    at: Moment,
) -> Result<SideDone, StoreError> {
    tx.lock_store().await?;
    let current = tx.current(&task.path, task.reads).await?;
    let done = (task.run)(&current, at)?;
    tx.write_side(&done.writes).await?;
    Ok(done)
}

/// Sets, or with `None` deletes, the realization script of `path`.
pub async fn set_realization<T: Tx>(
    tx: &mut T,
    path: &ObjectPath,
    script: Option<&RealizationScript>,
) -> Result<(), StoreError> {
    let path = SqlValue::text(path.as_str());
    match script {
        Some(script) => {
            let params = [path, SqlValue::text(script.to_json())];
            tx.execute(
                "INSERT INTO policy_realization_scripts (path, script) VALUES ($1, $2)
                 ON CONFLICT (path) DO UPDATE SET script = excluded.script",
                &params,
            )
            .await?
        }
        None => {
            tx.execute(
                "DELETE FROM policy_realization_scripts WHERE path = $1",
                &[path],
            )
            .await?
        }
    };
    Ok(())
}

/// Every table the whole state is kept in: the core's and the kinds'.
fn tables(kinds: &dyn StoreKinds) -> Vec<SideTable> {
    let core = SNAPSHOT_TABLES
        .iter()
        .map(|(live, saved, columns)| SideTable {
            live,
            saved,
            columns,
        });
    let side = kinds
        .side_states()
        .into_iter()
        .flat_map(|side| side.tables().iter().copied());
    core.chain(side).collect()
}

/// How many objects clients wrote: every stored object but the store's own defaults.
async fn client_objects<T: Tx>(tx: &mut T) -> Result<u64, StoreError> {
    let rows = tx.rows(&CLIENT_OBJECTS, &[], &[SqlType::Int]).await?;
    let count = rows.first().and_then(|row| row[0].as_int()).unwrap_or(0);
    Ok(count.max(0) as u64)
}

/// Removes every object, revision, kind's row and script, marked as a whole-store operation
/// (the only one the history's append-only trigger lets through).
async fn clear<T: Tx>(tx: &mut T, kinds: &dyn StoreKinds) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO store_whole_operations (name) VALUES ('clear')",
        &[],
    )
    .await?;
    for table in tables(kinds) {
        tx.execute(&format!("DELETE FROM {}", table.live), &[])
            .await?;
    }
    tx.execute("DELETE FROM store_whole_operations", &[])
        .await
        .map(|_| ())
}

/// Tells the events stream of an operation on the whole store, done by `user` at `time`,
/// with what it answered: a row of `store_events` at the next position of the history's
/// sequence.
async fn tell<T: Tx>(
    tx: &mut T,
    operation: WholeOperation,
    (user, time): (&str, i64),
    answer: &serde_json::Value,
) -> Result<(), StoreError> {
    let position = tx.next_position().await?;
    tx.execute(
        "INSERT INTO store_events (position, operation, change_user, change_time, detail)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            SqlValue::int(position),
            SqlValue::text(operation.as_str()),
            SqlValue::text(user),
            SqlValue::int(time),
            SqlValue::text(answer.to_string()),
        ],
    )
    .await?;
    tx.execute(PRUNE_WHOLE_EVENTS, &[]).await.map(|_| ())
}

/// Empties the store's objects, revisions, kinds' rows and scripts, tells the events stream
/// that `user` did, and writes the defaults anew; answers how many objects clients had
/// written. Snapshots and the store's keys stay.
pub async fn reset<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    (user, now): (&str, i64),
) -> Result<u64, StoreError> {
    tx.lock_store().await?;
    let removed = client_objects(tx).await?;
    clear(tx, kinds).await?;
    let answer = serde_json::json!({ "objects_removed": removed });
    tell(tx, WholeOperation::Reset, (user, now), &answer).await?;
    seed_defaults(tx, now).await?;
    tx.recount().await?;
    Ok(removed)
}

/// Tells the events stream of an import of `imported` objects by `user`.
pub async fn tell_import<T: Tx>(
    tx: &mut T,
    imported: u64,
    (user, now): (&str, i64),
) -> Result<(), StoreError> {
    tx.recount().await?;
    let answer = serde_json::json!({ "imported": imported });
    tell(tx, WholeOperation::Import, (user, now), &answer).await
}

/// Saves the whole state as `name`, replacing a snapshot of that name.
pub async fn save_snapshot<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    name: &SnapshotName,
    created: i64,
) -> Result<SnapshotInfo, StoreError> {
    tx.lock_store().await?;
    delete_snapshot(tx, kinds, name).await?;
    let snapshot = SqlValue::text(name.as_str());
    for table in tables(kinds) {
        let (live, saved, columns) = (table.live, table.saved, table.columns);
        let copy =
            format!("INSERT INTO {saved} (snapshot, {columns}) SELECT $1, {columns} FROM {live}");
        tx.execute(&copy, std::slice::from_ref(&snapshot)).await?;
    }
    let objects = client_objects(tx).await?;
    tx.execute(
        "INSERT INTO store_snapshots (name, created, objects) VALUES ($1, $2, $3)",
        &[
            snapshot,
            SqlValue::int(created),
            SqlValue::int(objects as i64),
        ],
    )
    .await?;
    Ok(SnapshotInfo {
        name: name.as_str().to_owned(),
        created,
        objects,
    })
}

/// Makes the state the snapshot's, and tells the events stream that `user` did; `None` when
/// there is no such snapshot.
pub async fn restore_snapshot<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    name: &SnapshotName,
    (user, now): (&str, i64),
) -> Result<Option<SnapshotInfo>, StoreError> {
    tx.lock_store().await?;
    let Some(info) = snapshot_info(tx, name).await? else {
        return Ok(None);
    };
    clear(tx, kinds).await?;
    for table in tables(kinds) {
        let (live, saved, columns) = (table.live, table.saved, table.columns);
        let copy = format!(
            "INSERT INTO {live} ({columns}) SELECT {columns} FROM {saved} WHERE snapshot = $1"
        );
        tx.execute(&copy, &[SqlValue::text(name.as_str())]).await?;
    }
    tx.recount().await?;
    let answer = serde_json::to_value(&info).expect("a snapshot's answer serializes");
    tell(tx, WholeOperation::Restore, (user, now), &answer).await?;
    Ok(Some(info))
}

pub async fn delete_snapshot<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    name: &SnapshotName,
) -> Result<(), StoreError> {
    let snapshot = [SqlValue::text(name.as_str())];
    tx.execute("DELETE FROM store_snapshots WHERE name = $1", &snapshot)
        .await?;
    for table in tables(kinds) {
        let delete = format!("DELETE FROM {} WHERE snapshot = $1", table.saved);
        tx.execute(&delete, &snapshot).await?;
    }
    Ok(())
}

/// The snapshot named `name`, if there is one.
pub async fn snapshot_info<T: Tx>(
    tx: &mut T,
    name: &SnapshotName,
) -> Result<Option<SnapshotInfo>, StoreError> {
    let rows = tx
        .rows(
            "SELECT name, created, objects FROM store_snapshots WHERE name = $1",
            &[SqlValue::text(name.as_str())],
            &[SqlType::Text, SqlType::Int, SqlType::Int],
        )
        .await?;
    Ok(rows.into_iter().next().map(|row| SnapshotInfo {
        name: row[0].as_text().unwrap_or_default().to_owned(),
        created: row[1].as_int().unwrap_or_default(),
        objects: row[2].as_int().unwrap_or_default().max(0) as u64,
    }))
}

/// The mark of the defaults a new store owes (`store_pending`).
const PENDING_DEFAULTS: &str = "seed_defaults";

/// What a start's catch-up did: how many defaults it wrote, and for how many objects a kind
/// did what it owed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CaughtUp {
    pub defaults: usize,
    pub objects: usize,
}

impl CaughtUp {
    /// Logs what was done, if anything.
    pub fn log(self) {
        if self.defaults > 0 {
            tracing::info!(objects = self.defaults, "wrote NSX's default objects");
        }
        if self.objects > 0 {
            tracing::info!(
                objects = self.objects,
                "did for stored objects what their kinds owed them"
            );
        }
    }
}

/// Does the one-off work the migrations left for this start (`store_pending`): the defaults
/// of a new store, and what each kind owes (a run for every traceflow stored before runs
/// existed). Of several instances starting together, the one that takes a mark does its
/// work; the others find the mark gone.
pub async fn catch_up<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    at: Moment,
) -> Result<CaughtUp, StoreError> {
    let mut done = CaughtUp::default();
    if take_mark(tx, PENDING_DEFAULTS).await? {
        done.defaults = seed_defaults(tx, at.stamp).await?;
        tx.recount().await?;
    }
    for side in kinds.side_states() {
        let Some(owed) = side.catch_up() else {
            continue;
        };
        if take_mark(tx, owed.mark).await? {
            // Once, after the migration that owed it: a scan of the objects it names.
            let owing = format!(
                "SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE {}",
                owed.condition
            );
            for object in tx.objects(&owing).await? {
                tx.write_side(&side.caught_up(&object, at)?).await?;
                done.objects += 1;
            }
        }
    }
    Ok(done)
}

/// Takes the mark `name` of one-off work from `store_pending`: whether it was there.
async fn take_mark<T: Tx>(tx: &mut T, name: &str) -> Result<bool, StoreError> {
    let taken = tx
        .execute(
            "DELETE FROM store_pending WHERE name = $1",
            &[SqlValue::text(name)],
        )
        .await?;
    Ok(taken > 0)
}
