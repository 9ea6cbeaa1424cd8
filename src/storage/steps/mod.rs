//! The step order of every write, written once over an engine's primitives ([`Tx`]): a write
//! of one object (with its embedded children, its configuration and its companions), a
//! hierarchical tree, a subtree's delete, an import; and in [`whole`], the defaults, a reset,
//! a snapshot's save and restore, a change of a kind's rows. What differs between the engines
//! is theirs: the transaction each step runs in, SQLite's batching, PostgreSQL's retries of a
//! step that lost a race ([`Persisted::Raced`]) and its locks.
//!
//! Each step asks the object's kind what it needs: whether the object is whole
//! ([`write::complete`]), what comes with it ([`Kind::companions`]), whether others may name
//! it, and what its write does to the kind's own rows ([`SideState::writes`]).
//!
//! [`Kind::companions`]: crate::domain::kind::Kind::companions

mod whole;

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::catalog::catalog;
use crate::domain::change::Stamp;
use crate::domain::embedded::Listed;
use crate::domain::exchange::{ImportLine, LineError};
use crate::domain::hierarchy::TreeWrite;
use crate::domain::kind::Companion;
use crate::domain::relations::{self, Check};
use crate::domain::write;
use crate::domain::{Applied, Change, ObjectPath, Operation, WriteRejection};

use super::queries;
use super::side::{SideChange, SideRead, SideWrite, StoreKinds};
use super::tx::{Current, Moment, Persisted, SqlType, SqlValue, Tx};
use super::{StoreError, WriteError};

pub use whole::{
    catch_up, delete_snapshot, reset, restore_snapshot, save_snapshot, seed_defaults, set_keyed,
    side_task, snapshot_info, tell_import, CaughtUp,
};

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

/// Whether the write of `change` at `path` may write more rows than the object's own: its
/// kind's companions, its embedded children. An engine that writes one row without a
/// transaction ([`crate::storage::PostgresStore`]'s fast path) must not take it so.
pub fn writes_several(kinds: &dyn StoreKinds, path: &ObjectPath, change: &Change) -> bool {
    let embeds = match change {
        Change::Put(document) | Change::Patch(document) => !document.embedded.is_empty(),
        Change::Delete => catalog().route(path.route()).takes_children,
    };
    embeds || kinds.at(path).has_companions()
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
    if let (true, Some(stored)) = (change.is_delete(), &current.object) {
        relations::check_deletable(stored, stamp.user)?;
    }
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
    let below = going_with(tx, path).await?;
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

/// What goes with `path` when it is deleted, deepest first: the objects right below it at
/// routes that go with their parent, and theirs, each level read by type through the
/// parents' index, so that the parent's other children, however many, are not read. Their
/// rows and the object's are held until the transaction ends.
async fn going_with<T: Tx>(tx: &mut T, path: &ObjectPath) -> Result<Vec<ObjectPath>, StoreError> {
    let mut found = Vec::new();
    let mut parents = vec![path.clone()];
    while let Some(parent) = parents.pop() {
        let types = catalog().types_going_with(parent.route());
        if types.is_empty() {
            continue;
        }
        let sql = queries::children_of_types(&types);
        let rows = tx
            .rows(&sql, &[SqlValue::text(parent.as_str())], &[SqlType::Text])
            .await?;
        for row in rows {
            let child = stored_path(row[0].as_text().unwrap_or_default())?;
            if catalog().route(child.route()).goes_with_parent {
                parents.push(child.clone());
                found.push(child);
            }
        }
    }
    // A path sorts after its parent's: the deepest come first, and are held in that order,
    // the object itself last, as a subtree's delete holds its rows.
    found.sort_by(|a, b| b.as_str().cmp(a.as_str()));
    for held in found.iter().chain([path]) {
        tx.hold(held).await?;
    }
    Ok(found)
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

/// Deletes the object at `path` (unless the system created it) and every object below it,
/// deepest first, each with its history row and its kind's rows; that nothing left names
/// what went is its tree's check ([`write_tree`]). Answers what it deleted, or `None` where
/// a row changed meanwhile.
async fn delete_tree<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    path: &ObjectPath,
    stamp: Stamp<'_>,
    at: Moment,
) -> Result<Option<Vec<Applied>>, WriteError> {
    if let Some(root) = tx.current(path, side_reads(kinds, path)).await?.object {
        relations::check_deletable(&root, stamp.user)?;
    }
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
