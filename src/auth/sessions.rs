//! Login sessions: `POST /api/session/create` hands out a `JSESSIONID` cookie and an
//! `X-XSRF-TOKEN`; later requests present both. Sessions live in memory and end on
//! `POST /api/session/destroy`, after an idle timeout, or when the process stops.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;

use super::Actor;

struct Session {
    actor: Actor,
    xsrf_token: String,
    last_used: Instant,
}

/// The two secrets of a new session. Never printed: `Debug` redacts them.
#[derive(Clone)]
pub struct SessionTokens {
    pub session_id: String,
    pub xsrf_token: String,
}

impl std::fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionTokens { [REDACTED] }")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// No such session: never created, destroyed, or expired.
    Unknown,
    /// The session exists, but the request does not carry its XSRF token.
    Xsrf(XsrfProblem),
}

/// What is wrong with a live session's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XsrfProblem {
    /// No `X-XSRF-TOKEN` header.
    Missing,
    /// A token, but not this session's.
    Wrong,
}

pub struct Sessions {
    idle_timeout: Duration,
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(idle_timeout: Duration) -> Self {
        Self {
            idle_timeout,
            live: Mutex::default(),
        }
    }

    pub fn create(&self, actor: Actor) -> SessionTokens {
        let tokens = SessionTokens {
            session_id: random_token(),
            xsrf_token: random_token(),
        };
        let now = Instant::now();
        let mut live = self.live.lock().expect("sessions lock");
        live.retain(|_, session| now.duration_since(session.last_used) < self.idle_timeout);
        live.insert(
            tokens.session_id.clone(),
            Session {
                actor,
                xsrf_token: tokens.xsrf_token.clone(),
                last_used: now,
            },
        );
        tokens
    }

    /// The session's user, if the session is live and `xsrf_token` is its token.
    pub fn resume(
        &self,
        session_id: &str,
        xsrf_token: Option<&str>,
    ) -> Result<Actor, SessionError> {
        let now = Instant::now();
        let mut live = self.live.lock().expect("sessions lock");
        let session = match live.get_mut(session_id) {
            Some(session) if now.duration_since(session.last_used) < self.idle_timeout => session,
            Some(_) => {
                live.remove(session_id);
                return Err(SessionError::Unknown);
            }
            None => return Err(SessionError::Unknown),
        };
        let Some(given) = xsrf_token else {
            return Err(SessionError::Xsrf(XsrfProblem::Missing));
        };
        if !bool::from(given.as_bytes().ct_eq(session.xsrf_token.as_bytes())) {
            return Err(SessionError::Xsrf(XsrfProblem::Wrong));
        }
        session.last_used = now;
        Ok(session.actor.clone())
    }

    pub fn destroy(&self, session_id: &str) {
        self.live.lock().expect("sessions lock").remove(session_id);
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn actor() -> Actor {
        Actor {
            name: "admin".into(),
            role: Role::EnterpriseAdmin,
        }
    }

    #[test]
    fn life_cycle() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let tokens = sessions.create(actor());
        let resume = |xsrf: Option<&str>| sessions.resume(&tokens.session_id, xsrf);
        assert_eq!(resume(Some(&tokens.xsrf_token)), Ok(actor()));
        assert_eq!(resume(None), Err(SessionError::Xsrf(XsrfProblem::Missing)));
        assert_eq!(
            resume(Some("forged")),
            Err(SessionError::Xsrf(XsrfProblem::Wrong))
        );
        sessions.destroy(&tokens.session_id);
        assert_eq!(resume(Some(&tokens.xsrf_token)), Err(SessionError::Unknown));
    }

    #[test]
    fn idle_sessions_expire() {
        let sessions = Sessions::new(Duration::from_millis(20));
        let tokens = sessions.create(actor());
        std::thread::sleep(Duration::from_millis(40));
        let resumed = sessions.resume(&tokens.session_id, Some(&tokens.xsrf_token));
        assert_eq!(resumed, Err(SessionError::Unknown));
    }
}
