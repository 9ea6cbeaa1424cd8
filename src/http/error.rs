//! ApiError: every error the service answers, as NSX shapes it (the README's "Errors").

use std::borrow::Cow;

use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use serde::Serialize;

use super::request_id::RequestId;
use crate::auth::{Actor, Permission, XsrfProblem};
use crate::domain::fault::ErrorSpec;
use crate::domain::{BodyError, FieldError, WriteRejection};
use crate::storage::{StoreError, WriteError};

const POLICY: &str = "Policy";
const GENERAL_ERROR: &str = "General error has occurred.";
const COMMON_SERVICES: &str = "common-services";

/// NSX's error codes.
mod code {
    pub const INVALID: u32 = 255;
    pub const ALREADY_EXISTS: u32 = 500127;
    pub const NOT_FOUND: u32 = 600;
    pub const METHOD_NOT_ALLOWED: u32 = 253;
    pub const REVISION_MISMATCH: u32 = 206;
    /// A delete of an object with children (nsx-operator reads 400/500030 as "resource in
    /// use").
    pub const IN_USE: u32 = 500030;
    /// The store cannot be written now. Not for other server errors: NSX clients such as
    /// `vmware-nsxlib` read 500/99 as an untrusted client certificate and log in again.
    pub const UNAVAILABLE: u32 = 99;
    /// NSX's "General error has occurred."
    pub const GENERAL: u32 = 100;
    /// Bad credentials. Not for role denials: `vmware-nsxlib` reads 403/403 as failed
    /// credentials, logs in again and re-sends the refused write.
    pub const BAD_CREDENTIALS: u32 = 403;
    /// A role without the operation's permission (NSX's `MP401`).
    pub const NOT_PERMITTED: u32 = 401;
    pub const XSRF: u32 = 98;
    /// A change to an object another principal owns (here: a delete of the system's).
    pub const NOT_OWNED: u32 = 289;
}

/// An error answer. Built only through the constructors below, so each case of the contract
/// has exactly one status, code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    error_code: u32,
    module_name: Cow<'static, str>,
    message: String,
    /// What went wrong inside, for a server error: logged with the request id by
    /// [`ensure_api_error`], never answered.
    cause: Option<String>,
}

impl ApiError {
    fn policy(status: StatusCode, error_code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error_code,
            module_name: Cow::Borrowed(POLICY),
            message: message.into(),
            cause: None,
        }
    }

    pub fn invalid_field(err: &FieldError) -> Self {
        Self::policy(
            StatusCode::BAD_REQUEST,
            code::INVALID,
            format!("Field level validation errors: {{{err}}}"),
        )
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::policy(StatusCode::BAD_REQUEST, code::INVALID, message)
    }

    /// A query string that is not `name=value` pairs.
    pub fn invalid_query_string() -> Self {
        Self::bad_request("The query string is not valid.")
    }

    /// A body whose bytes could not be read off the connection.
    pub fn unreadable_body() -> Self {
        Self::bad_request("The request body could not be read.")
    }

    /// A POST without its one supported `action` (`retrace` on an object, `restore` on a
    /// snapshot).
    pub fn unsupported_action(given: Option<&str>, supported: &str) -> Self {
        let given = match given {
            Some(action) => format!("Invalid action '{action}'"),
            None => "The query parameter 'action' is required".to_owned(),
        };
        Self::bad_request(format!("{given}; the supported action is '{supported}'."))
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

    pub fn unsupported_media_type(given: Option<&str>, wanted: &str) -> Self {
        let given = given.map_or_else(|| "none".to_owned(), |ct| format!("'{ct}'"));
        Self::policy(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::INVALID,
            format!("Content-Type {given} is not supported; send {wanted}."),
        )
    }

    /// No credentials, wrong ones, or an unknown or expired session.
    pub fn bad_credentials() -> Self {
        Self {
            module_name: Cow::Borrowed(COMMON_SERVICES),
            ..Self::policy(
                StatusCode::FORBIDDEN,
                code::BAD_CREDENTIALS,
                "The credentials were incorrect or the account specified has been locked.",
            )
        }
    }

    /// A session cookie without its `X-XSRF-TOKEN`, or with another session's.
    pub fn xsrf_token(problem: XsrfProblem) -> Self {
        let message = match problem {
            XsrfProblem::Missing => {
                "The request carries a session cookie without its X-XSRF-TOKEN header."
            }
            XsrfProblem::Wrong => {
                "The request's X-XSRF-TOKEN header is not the token of its session cookie."
            }
        };
        Self {
            module_name: Cow::Borrowed(COMMON_SERVICES),
            ..Self::policy(StatusCode::FORBIDDEN, code::XSRF, message)
        }
    }

    /// An authenticated user whose role lacks the operation's permission.
    pub fn not_permitted(actor: &Actor, permission: Permission, method: &str, path: &str) -> Self {
        Self {
            module_name: Cow::Borrowed(COMMON_SERVICES),
            ..Self::policy(
                StatusCode::FORBIDDEN,
                code::NOT_PERMITTED,
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

    /// The error fault rule `rule` answers instead (the README's "Fault and latency
    /// injection"), exactly as the rule gives it.
    pub fn injected(rule: &str, error: &ErrorSpec) -> Self {
        let status =
            StatusCode::from_u16(error.status.0).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        Self {
            module_name: Cow::Owned(error.module_name.as_deref().unwrap_or(POLICY).to_owned()),
            cause: Some(format!("injected by fault rule {rule}")),
            ..Self::policy(status, error.error_code, error.error_message.clone())
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
            code::UNAVAILABLE,
            "The store cannot be written right now; retry later.",
        )
    }

    /// Anything else. The details are in the log, under the request id that
    /// [`ensure_api_error`] adds to the message.
    pub fn internal() -> Self {
        Self::policy(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::GENERAL,
            GENERAL_ERROR,
        )
    }

    /// The error for a status produced outside our handlers (the catch-all below).
    fn for_status(status: StatusCode, uri_path: &str, method: &str) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::uri_not_found(uri_path),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(method, uri_path),
            StatusCode::SERVICE_UNAVAILABLE => Self::unavailable(),
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

/// The `error_code` of an error answer, in the response's extensions: what the request
/// journal says of it.
#[derive(Debug, Clone, Copy)]
pub struct AnsweredErrorCode(pub u32);

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
            .replace('\'', "")
            .replace([' ', '-'], "_");
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // The rest of a late body may never come: do not wait for it.
            response.force_close();
        }
        let mut response = response.json(Body {
            http_status,
            error_code: self.error_code,
            module_name: &self.module_name,
            error_message: &self.message,
        });
        response
            .extensions_mut()
            .insert(AnsweredErrorCode(self.error_code));
        response
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
            WriteRejection::Missing { path } => Self::object_not_found(&path),
            WriteRejection::InUse { .. } => {
                Self::policy(StatusCode::BAD_REQUEST, code::IN_USE, rejection.to_string())
            }
            WriteRejection::NotOwned { .. } => Self {
                module_name: Cow::Borrowed(COMMON_SERVICES),
                ..Self::policy(
                    StatusCode::BAD_REQUEST,
                    code::NOT_OWNED,
                    rejection.to_string(),
                )
            },
            WriteRejection::Invalid(field) => Self::invalid_field(&field),
        }
    }
}

impl From<StoreError> for ApiError {
    /// The client gets no internals; [`ensure_api_error`] logs them with the request id.
    fn from(err: StoreError) -> Self {
        let answer = match err {
            StoreError::Unavailable(_) => Self::unavailable(),
            StoreError::Internal(_) => Self::internal(),
        };
        Self {
            cause: Some(err.to_string()),
            ..answer
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

/// Catch-all for error answers, whoever produced them: anything that is not already JSON
/// (the framework's own answers) becomes the ApiError for its status; a server error is
/// logged with its cause and the request id, which a 500's message names.
pub fn ensure_api_error<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct == HeaderValue::from_static("application/json"));
    let status = res.status();
    if status.is_server_error() {
        log_server_error(&res);
    }
    // Our own ApiErrors pass as they are, but for the general error, which names the request
    // id; an injected 500 is the rule's to word.
    let api_error = res
        .response()
        .error()
        .and_then(|err| err.as_error::<ApiError>());
    let general = api_error.is_none_or(|err| err.error_code == code::GENERAL);
    let internal = status == StatusCode::INTERNAL_SERVER_ERROR && general;
    if is_json && !internal {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, _) = res.into_parts();
    let mut api_error = ApiError::for_status(status, req.path(), req.method().as_str());
    if let Some(request_id) = req.extensions().get::<RequestId>().filter(|_| internal) {
        api_error.message = format!("{GENERAL_ERROR} Request id: {request_id}.");
    }
    let res = ServiceResponse::new(req, api_error.error_response());
    Ok(ErrorHandlerResponse::Response(
        res.map_body(|_, body| EitherBody::right(body)),
    ))
}

fn log_server_error<B>(res: &ServiceResponse<B>) {
    let request_id = res
        .request()
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let error = res.response().error();
    let cause = error
        .and_then(|err| err.as_error::<ApiError>())
        .and_then(|err| err.cause.clone())
        .or_else(|| error.map(ToString::to_string))
        .unwrap_or_default();
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(%request_id, cause, "the store is unavailable");
    } else {
        tracing::error!(%request_id, cause, "internal error");
    }
}
