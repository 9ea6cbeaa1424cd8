//! ApiError: every error the service answers, as NSX shapes it (API.md section 5).

use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::{Actor, Permission};
use crate::domain::{BodyError, FieldError, WriteRejection};
use crate::storage::{StoreError, WriteError};

const POLICY: &str = "Policy";
const COMMON_SERVICES: &str = "common-services";

/// NSX's error codes (API.md section 5).
mod code {
    pub const INVALID: u32 = 255;
    pub const ALREADY_EXISTS: u32 = 500127;
    pub const NOT_FOUND: u32 = 600;
    pub const METHOD_NOT_ALLOWED: u32 = 253;
    pub const REVISION_MISMATCH: u32 = 206;
    pub const SERVER: u32 = 99;
    pub const FORBIDDEN: u32 = 403;
    pub const XSRF: u32 = 98;
}

/// An error answer. Built only through the constructors below, so each case of the contract
/// has exactly one status, code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    error_code: u32,
    module_name: &'static str,
    message: String,
}

impl ApiError {
    fn policy(status: StatusCode, error_code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error_code,
            module_name: POLICY,
            message: message.into(),
        }
    }

    pub fn invalid_field(err: &FieldError) -> Self {
        Self::policy(
            StatusCode::BAD_REQUEST,
            code::INVALID,
            format!("Field level validation errors: {{{err}}}"),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::policy(StatusCode::BAD_REQUEST, code::INVALID, message)
    }

    pub fn object_not_found(path: &str) -> Self {
        Self::policy(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            format!(
                "The requested object : {path} could not be found. \
                 Object identifiers are case sensitive."
            ),
        )
    }

    pub fn uri_not_found(uri_path: &str) -> Self {
        Self::policy(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            format!("The requested URI : {uri_path} could not be found."),
        )
    }

    pub fn method_not_allowed(method: &str, uri_path: &str) -> Self {
        Self::policy(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            format!("The method {method} is not supported for the URI {uri_path}."),
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::policy(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::INVALID,
            format!("The request body is larger than the limit of {limit} bytes."),
        )
    }

    pub fn unsupported_media_type(given: Option<&str>) -> Self {
        let given = given.map_or_else(|| "none".to_owned(), |ct| format!("'{ct}'"));
        Self::policy(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::INVALID,
            format!("Content-Type {given} is not supported; send application/json."),
        )
    }

    /// No credentials, wrong ones, or an unknown or expired session.
    pub fn bad_credentials() -> Self {
        Self {
            module_name: COMMON_SERVICES,
            ..Self::policy(
                StatusCode::FORBIDDEN,
                code::FORBIDDEN,
                "The credentials were incorrect or the account specified has been locked.",
            )
        }
    }

    /// A session cookie without its `X-XSRF-TOKEN`.
    pub fn missing_xsrf_token() -> Self {
        Self {
            module_name: COMMON_SERVICES,
            ..Self::policy(
                StatusCode::FORBIDDEN,
                code::XSRF,
                "The request carries a session cookie without its X-XSRF-TOKEN header.",
            )
        }
    }

    /// An authenticated user whose role lacks the operation's permission.
    pub fn not_permitted(actor: &Actor, permission: Permission, method: &str, path: &str) -> Self {
        Self {
            module_name: COMMON_SERVICES,
            ..Self::policy(
                StatusCode::FORBIDDEN,
                code::FORBIDDEN,
                format!(
                    "User '{}' with role '{}' does not have the '{}' permission needed for \
                     {method} {path}.",
                    actor.name,
                    actor.role.as_str(),
                    permission.as_str()
                ),
            )
        }
    }

    pub fn request_timeout() -> Self {
        Self::policy(
            StatusCode::REQUEST_TIMEOUT,
            code::INVALID,
            "The request body did not arrive in time.",
        )
    }

    pub fn unavailable() -> Self {
        Self::policy(
            StatusCode::SERVICE_UNAVAILABLE,
            code::SERVER,
            "The store cannot be written right now; retry later.",
        )
    }

    pub fn internal() -> Self {
        Self::policy(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::SERVER,
            "An internal error occurred; the server log has the details.",
        )
    }

    /// The error for a status produced outside our handlers (the catch-all below).
    fn for_status(status: StatusCode, uri_path: &str, method: &str) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::uri_not_found(uri_path),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(method, uri_path),
            s if s.is_server_error() => Self {
                status,
                ..Self::internal()
            },
            s => Self::policy(
                s,
                code::INVALID,
                s.canonical_reason().unwrap_or("Invalid request"),
            ),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.error_code,
            self.message
        )
    }
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "httpStatus")]
    http_status: String,
    error_code: u32,
    module_name: &'a str,
    error_message: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let http_status = self
            .status
            .canonical_reason()
            .unwrap_or("UNKNOWN")
            .to_ascii_uppercase()
            .replace([' ', '-'], "_");
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // The rest of a late body may never come: do not wait for it.
            response.force_close();
        }
        response.json(Body {
            http_status,
            error_code: self.error_code,
            module_name: self.module_name,
            error_message: &self.message,
        })
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        Self::invalid_field(&err)
    }
}

impl From<BodyError> for ApiError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::Field(field) => Self::invalid_field(&field),
            syntax @ BodyError::Syntax(_) => Self::bad_request(syntax.to_string()),
        }
    }
}

impl From<WriteRejection> for ApiError {
    fn from(rejection: WriteRejection) -> Self {
        match rejection {
            WriteRejection::AlreadyExists { .. } => Self::policy(
                StatusCode::BAD_REQUEST,
                code::ALREADY_EXISTS,
                rejection.to_string(),
            ),
            WriteRejection::RevisionMismatch { .. } => Self::policy(
                StatusCode::PRECONDITION_FAILED,
                code::REVISION_MISMATCH,
                rejection.to_string(),
            ),
            WriteRejection::Invalid(field) => Self::invalid_field(&field),
        }
    }
}

impl From<StoreError> for ApiError {
    /// Logged here, inside the request's span, so the log line carries the request id; the
    /// client gets no internals.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %err, "store unavailable");
                Self::unavailable()
            }
            StoreError::Internal(_) => {
                tracing::error!(error = %err, "store failure");
                Self::internal()
            }
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Rejected(rejection) => rejection.into(),
            WriteError::Store(store) => store.into(),
        }
    }
}

/// Catch-all for error answers not produced by our handlers (the framework's own): anything
/// that is not already JSON becomes the ApiError for its status.
pub fn ensure_api_error<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct == HeaderValue::from_static("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, res) = res.into_parts();
    let api_error = ApiError::for_status(res.status(), req.path(), req.method().as_str());
    let res = ServiceResponse::new(req, api_error.error_response());
    Ok(ErrorHandlerResponse::Response(
        res.map_body(|_, body| EitherBody::right(body)),
    ))
}
