//! What a type does beyond what the catalog says of it: its kind. The core serves every type
//! alike and asks an object's kind only what this trait names, each with a default that is
//! the catalog's own behaviour; a type with behaviour of its own is a module of `kinds/` that
//! overrides what it needs (the traceflow kind checks its fields itself and keeps runs; the
//! project kind writes its default domain). Which kind a type has is the registry's
//! ([`Kinds`]), built once at start.

use serde_json::{Map, Value};

use super::catalog::{catalog, TypeId};
use super::change::Applied;
use super::document::{Document, Envelope};
use super::embedded;
use super::path::ObjectPath;
use super::schema::check_members;
use super::{FieldError, ObjectId};

/// An object's members: its client's fields, by name.
pub type Members = Map<String, Value>;

/// What a type does beyond the catalog. Every method has the catalog's behaviour as its
/// default.
pub trait Kind: Send + Sync {
    /// The members a body gives an object of `resource_type` (its type decided by the
    /// envelope, [`Envelope`]), as they are stored: by default, checked against the
    /// catalog's schema. A refusal names the field by its dotted path.
    fn check(&self, resource_type: TypeId, members: Members) -> Result<Members, FieldError> {
        check_members(catalog(), resource_type, members, "")
    }

    /// Checks the members of a whole object (a create's, a replace's, what a PATCH leaves):
    /// by default nothing more, as the catalog has no required field.
    fn complete(&self, members: &Members) -> Result<(), FieldError> {
        let _ = members;
        Ok(())
    }

    /// Whether another object may name an object of this kind by its path (which then keeps
    /// it from being deleted).
    fn referable(&self) -> bool {
        true
    }

    /// What the system writes beside a client's write of an object of this kind, in the
    /// same transaction: none by default.
    fn companions(&self, applied: &Applied) -> Vec<Companion> {
        let _ = applied;
        Vec::new()
    }

    /// Whether [`Kind::companions`] may answer any: a write of such an object writes several
    /// rows, which an engine must write in one transaction.
    fn has_companions(&self) -> bool {
        false
    }
}

/// What NSX writes beside a client's write, in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Companion {
    /// Created after the client's object (whose child it is), where nothing is stored yet.
    Create(Applied),
    /// Deleted before the client's object, if the system's own object is stored there (its
    /// delete has the checks of any delete: it may have children of its own).
    Delete(ObjectPath),
}

/// The kind of every type without behaviour of its own.
pub struct CatalogKind;

impl Kind for CatalogKind {}

pub const CATALOG_KIND: CatalogKind = CatalogKind;

/// Which kind each type has: the registry the core asks.
pub trait Kinds: Send + Sync {
    /// The kind of objects of `resource_type` (a route's declared type).
    fn of(&self, resource_type: TypeId) -> &dyn Kind;

    /// The type of the objects an import's line may name by its `id` alone (no path, no
    /// `resource_type`); `None` where no kind takes such lines.
    fn bare_id_type(&self) -> Option<&'static str>;

    /// Where an import's line that names only an `id` goes ([`Kinds::bare_id_type`]).
    fn path_of_bare_id(&self, id: &ObjectId) -> Option<ObjectPath>;

    /// The kind of the object at `path`: its route's.
    fn at(&self, path: &ObjectPath) -> &dyn Kind {
        self.of(catalog().route(path.route()).object_type)
    }

    /// The document a body's members make for the object at `path`: its embedded lists
    /// taken out, each item read as its own object's body; its envelope read, its fields
    /// checked by its kind.
    fn document(
        &self,
        object: Map<String, Value>,
        path: &ObjectPath,
    ) -> Result<Document, FieldError> {
        let mut object = object;
        let embedded = embedded::take(&mut object, path, |item, at| self.document(item, at))?;
        let mut document = Envelope::open(object, path)?
            .checked(|resource_type, members| self.at(path).check(resource_type, members))?;
        document.embedded = embedded;
        Ok(document)
    }
}

/// Every type of the catalog's own kind: what the domain's tests use.
#[cfg(test)]
pub struct CatalogOnly;

#[cfg(test)]
impl Kinds for CatalogOnly {
    fn of(&self, _: TypeId) -> &dyn Kind {
        &CATALOG_KIND
    }

    fn bare_id_type(&self) -> Option<&'static str> {
        None
    }

    fn path_of_bare_id(&self, _: &ObjectId) -> Option<ObjectPath> {
        None
    }
}
