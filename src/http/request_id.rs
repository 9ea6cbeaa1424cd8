//! A request's id: the client's own (`X-Request-Id`) or one made for it, under which the
//! request is logged, journaled and answered.

use std::fmt;
use std::sync::Arc;

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderName, HeaderValue};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id a client may bring.
const REQUEST_ID_MAX_LEN: usize = 128;

/// The id a request is logged under and answered with (`X-Request-Id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The client's own id when it is 1–128 visible ASCII characters; otherwise a new UUID
    /// (an id that is not valid is replaced, never refused).
    pub fn of(req: &ServiceRequest) -> Self {
        req.headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| Self::parse(value.as_bytes()))
            .unwrap_or_else(|| Self(uuid::Uuid::new_v4().to_string().into()))
    }

    fn parse(value: &[u8]) -> Option<Self> {
        let visible = |byte: &u8| byte.is_ascii_graphic();
        let valid = (1..=REQUEST_ID_MAX_LEN).contains(&value.len()) && value.iter().all(visible);
        // Visible ASCII is UTF-8.
        valid.then(|| Self(String::from_utf8_lossy(value).into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as the value of the header that answers it.
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).expect("visible ASCII is a valid header value")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_request_id_is_kept_only_when_valid() {
        let kept = |value: &[u8]| RequestId::parse(value).map(|id| id.to_string());
        assert_eq!(kept(b"abc-123_XYZ:/="), Some("abc-123_XYZ:/=".into()));
        assert_eq!(kept(&[b'a'; 128]), Some("a".repeat(128)));
        assert_eq!(kept(&[b'a'; 129]), None);
        assert_eq!(kept(b""), None);
        assert_eq!(kept(b"with space"), None);
        assert_eq!(kept(b"tab\there"), None);
        assert_eq!(kept("caf\u{e9}".as_bytes()), None);
    }
}
