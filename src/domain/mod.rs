//! The domain: the policy objects the store serves ([`catalog`], generated from VMware's
//! SDK), how a request body becomes one, and what a write does to the object that is already
//! stored. Nothing here knows about HTTP or SQL, nor any type by its name.
//!
//! One core serves every type: [`path`] (where an object lives), [`object`] and [`config`]
//! (what is stored), [`document`] (a body's envelope, read once for every type), [`write`]
//! (the `_revision` rules), [`embedded`] (children a parent's body lists), [`relations`] (parents, children, references, the defaults). What
//! a type does beyond the catalog is its [`kind`]'s: the kinds themselves live in `kinds/`.
//! Parse, don't validate: a body either becomes a document or a [`field::FieldError`] naming
//! the offending field by its dotted path.

pub mod catalog;
pub mod change;
pub mod child;
pub mod cidr;
pub mod config;
pub mod document;
pub mod embedded;
pub mod exchange;
pub mod fault;
pub mod field;
pub mod fields;
pub mod hierarchy;
pub mod history;
pub mod id;
pub mod inventory;
pub mod kind;
pub mod list;
pub mod membership;
pub mod nsx_model;
pub mod object;
pub mod paging;
pub mod path;
pub mod realization;
pub mod relations;
pub mod schema;
pub mod search;
pub mod snapshot;
pub mod values;
pub mod write;

pub use change::{Applied, Change, Operation, WriteRejection};
pub use config::Config;
pub use document::Document;
pub use field::{json_object, BodyError, FieldError};
pub use id::ObjectId;
pub use object::{Metadata, PolicyObject};
pub use path::ObjectPath;
