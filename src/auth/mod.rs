//! Who may do what (the README's "Authentication"): users and roles from the configuration, password
//! verification, and login sessions. The HTTP side of it lives in `crate::http::auth`.

mod credentials;
mod sessions;

use std::fmt;

use serde::Deserialize;

pub use credentials::{check_password_hash, hash_password, Credentials, DEFAULT_PASSWORD};
pub use sessions::{SessionError, SessionTokens, Sessions, XsrfProblem};

/// What a role is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every operation.
    EnterpriseAdmin,
    /// The `read` operations only.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::EnterpriseAdmin => "enterprise_admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Role::EnterpriseAdmin => true,
            Role::Auditor => permission == Permission::Read,
        }
    }
}

/// The permission an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Crud,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Crud => "crud",
        }
    }
}

/// An authenticated user: the name recorded in `_create_user` and `_last_modified_user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.role.as_str())
    }
}
