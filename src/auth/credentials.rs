//! Checking a user name and password against the configured users.
//!
//! Clients send Basic credentials on every request, so a password hash (argon2id, slow by
//! design) is computed only the first time a credential is seen: once verified, a keyed
//! SHA-256 digest of it is kept in memory and later requests are compared against that digest
//! in constant time. The key is random per process, so the digests are useless outside it.
//! Hash verifications run one at a time on the blocking pool, so a flood of wrong passwords
//! costs at most one core and never stalls the server's own threads.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::bail;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use super::{Actor, Role};
use crate::configuration::{UserSecret, UserSettings};

/// The password of the shipped default `admin` user. The README states it; the server refuses
/// to listen beyond loopback while any user still accepts it.
pub const DEFAULT_PASSWORD: &str = "VMware1!VMware1!";

type Digest32 = [u8; 32];

/// How a user's password is checked.
enum Secret {
    /// An argon2 PHC string (`password_hash` in the configuration).
    Hash(String),
    /// A plain password from the configuration (`password`), kept only as a keyed digest.
    Plain(Digest32),
}

struct Account {
    role: Role,
    secret: Secret,
}

/// The configured users, and the credentials verified so far.
pub struct Credentials {
    accounts: HashMap<String, Account>,
    key: [u8; 32],
    verified: RwLock<HashMap<String, Digest32>>,
    hashing: Arc<Semaphore>,
}

impl Credentials {
    /// The configured users (the configuration has parsed each one's secret); refuses a
    /// name given twice.
    pub fn new(users: &[UserSettings]) -> anyhow::Result<Self> {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        let mut accounts = HashMap::new();
        for user in users {
            let secret = match &user.secret {
                UserSecret::Hash(hash) => Secret::Hash(hash.expose_secret().to_owned()),
                UserSecret::Plain(password) => {
                    Secret::Plain(digest(&key, &user.name, password.expose_secret()))
                }
            };
            let account = Account {
                role: user.role,
                secret,
            };
            if accounts.insert(user.name.clone(), account).is_some() {
                bail!("auth.users: {:?} is configured twice", user.name);
            }
        }
        Ok(Self {
            accounts,
            key,
            verified: RwLock::default(),
            hashing: Arc::new(Semaphore::new(1)),
        })
    }

    /// The user these credentials belong to, if they are right.
    pub async fn authenticate(&self, name: &str, password: &str) -> Option<Actor> {
        let account = self.accounts.get(name)?;
        let presented = digest(&self.key, name, password);
        let actor = || Actor {
            name: name.to_owned(),
            role: account.role,
        };
        match &account.secret {
            Secret::Plain(expected) => bool::from(presented.ct_eq(expected)).then(actor),
            Secret::Hash(hash) => {
                if self.is_verified(name, &presented) {
                    return Some(actor());
                }
                let permit = Arc::clone(&self.hashing).acquire_owned().await.ok()?;
                // Many connections often bring the same new credentials at once: the first
                // to get the permit verifies them, and the others find them verified.
                if self.is_verified(name, &presented) {
                    return Some(actor());
                }
                let (hash, password) = (hash.clone(), password.to_owned());
                let matches = tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    verify(&hash, &password)
                })
                .await
                .unwrap_or(false);
                if !matches {
                    return None;
                }
                self.verified
                    .write()
                    .expect("credential cache lock")
                    .insert(name.to_owned(), presented);
                Some(actor())
            }
        }
    }

    fn is_verified(&self, name: &str, presented: &Digest32) -> bool {
        let verified = self.verified.read().expect("credential cache lock");
        verified
            .get(name)
            .is_some_and(|known| bool::from(known.ct_eq(presented)))
    }

    /// The users that still accept [`DEFAULT_PASSWORD`].
    pub fn users_with_default_password(&self) -> Vec<&str> {
        let mut users: Vec<&str> = self
            .accounts
            .iter()
            .filter(|(name, account)| match &account.secret {
                Secret::Plain(expected) => {
                    bool::from(digest(&self.key, name, DEFAULT_PASSWORD).ct_eq(expected))
                }
                Secret::Hash(hash) => verify(hash, DEFAULT_PASSWORD),
            })
            .map(|(name, _)| name.as_str())
            .collect();
        users.sort_unstable();
        users
    }
}

/// Whether `hash` is an argon2 hash in the PHC form `password_hash` takes.
pub fn check_password_hash(hash: &SecretString) -> Result<(), &'static str> {
    PasswordHash::new(hash.expose_secret())
        .map(|_| ())
        .map_err(|_| "is not an argon2 hash (make one with `nsx-policy-store hash-password`)")
}

/// An argon2id hash of `password`, in the PHC form `password_hash` takes.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A keyed digest of one user's password; the name is in it so that two users' digests never
/// match each other.
fn digest(key: &[u8; 32], name: &str, password: &str) -> Digest32 {
    let mut hasher = Sha256::new();
    hasher.update(key);
    hasher.update((name.len() as u64).to_be_bytes());
    hasher.update(name.as_bytes());
    hasher.update(password.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: Role, hash: Option<String>, password: Option<&str>) -> UserSettings {
        let secret = match (hash, password) {
            (Some(hash), None) => UserSecret::Hash(hash.into()),
            (None, Some(password)) => UserSecret::Plain(password.into()),
            _ => unreachable!("the configuration gives each user one secret"),
        };
        UserSettings {
            name: name.into(),
            role,
            secret,
        }
    }

    #[tokio::test]
    async fn hashed_and_plain_passwords() {
        let credentials = Credentials::new(&[
            user(
                "admin",
                Role::EnterpriseAdmin,
                Some(hash_password("s3cret")),
                None,
            ),
            user("audrey", Role::Auditor, None, Some("look")),
        ])
        .unwrap();
        for _ in 0..2 {
            let admin = credentials.authenticate("admin", "s3cret").await.unwrap();
            assert_eq!(admin.role, Role::EnterpriseAdmin);
        }
        assert!(credentials.authenticate("admin", "s3cret!").await.is_none());
        assert!(credentials.authenticate("admin", "look").await.is_none());
        assert_eq!(
            credentials
                .authenticate("audrey", "look")
                .await
                .unwrap()
                .role,
            Role::Auditor
        );
        assert!(credentials.authenticate("nobody", "look").await.is_none());
        assert!(credentials.users_with_default_password().is_empty());
    }

    #[test]
    fn the_default_password_is_recognised_and_bad_settings_are_refused() {
        let credentials = Credentials::new(&[
            user(
                "a",
                Role::Auditor,
                Some(hash_password(DEFAULT_PASSWORD)),
                None,
            ),
            user("b", Role::Auditor, None, Some(DEFAULT_PASSWORD)),
            user("c", Role::Auditor, None, Some("other")),
        ])
        .unwrap();
        assert_eq!(credentials.users_with_default_password(), ["a", "b"]);

        assert!(check_password_hash(&"nope".into()).is_err());
        assert!(check_password_hash(&hash_password("x").into()).is_ok());
        let twice = [
            user("x", Role::Auditor, None, Some("1")),
            user("x", Role::Auditor, None, Some("2")),
        ];
        assert!(Credentials::new(&twice).is_err());
    }
}
