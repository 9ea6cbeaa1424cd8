//! Authentication on the wire (the README's "Authentication"): HTTP Basic on every request, or a session
//! from `POST /api/session/create` presented as a `JSESSIONID` cookie plus `X-XSRF-TOKEN`.
//! Authorization is per handler: [`Reader`] and [`Writer`] say which permission it needs.

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use super::extractors::Body;
use super::ApiError;
use crate::auth::{Actor, Credentials, Permission, SessionError, Sessions};
use crate::telemetry::metrics;

pub const SESSION_COOKIE: &str = "JSESSIONID";
pub const XSRF_HEADER: &str = "X-XSRF-TOKEN";
pub const LOGIN_PATH: &str = "/api/session/create";

/// What authentication needs at run time.
pub struct Authenticator {
    pub credentials: Credentials,
    pub sessions: Sessions,
    /// Session cookies are `Secure` when the server speaks HTTPS.
    pub secure_cookies: bool,
}

/// Middleware: every request but the login itself (and the page's files) must authenticate; the [`Actor`] goes into
/// the request's extensions for the handlers.
pub async fn authenticate<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // A browser that opens the server's address goes to the page and its login form.
    if let Some(redirect) = super::landing::landing(req.request()) {
        return Ok(req.into_response(redirect).map_into_right_body());
    }
    // The login itself, and the inspector's page: its files hold no data, and its login
    // form is how a user gets a session.
    if req.path() == LOGIN_PATH || req.path().starts_with(super::landing::UI_PATH) {
        return super::pass_on(req, next).await;
    }
    let authenticator = super::registered::<Authenticator>(&req);
    match identify(req.request(), &authenticator).await {
        Ok(actor) => {
            tracing::Span::current().record("user", actor.name.as_str());
            req.extensions_mut().insert(actor);
            super::pass_on(req, next).await
        }
        Err(error) => {
            metrics::authentication_failed(scheme(req.request()));
            Ok(req.error_response(error).map_into_right_body())
        }
    }
}

/// Which credentials a request brought, for the failed authentications' metric.
fn scheme(req: &HttpRequest) -> &'static str {
    if req.headers().contains_key(header::AUTHORIZATION) {
        "basic"
    } else if req.cookie(SESSION_COOKIE).is_some() {
        "session"
    } else {
        "none"
    }
}

/// Basic credentials win when present; otherwise the session cookie with its XSRF token.
async fn identify(req: &HttpRequest, authenticator: &Authenticator) -> Result<Actor, ApiError> {
    if let Some(authorization) = req.headers().get(header::AUTHORIZATION) {
        let (name, password) =
            basic_credentials(authorization.as_bytes()).ok_or_else(ApiError::bad_credentials)?;
        return authenticator
            .credentials
            .authenticate(&name, &password)
            .await
            .ok_or_else(ApiError::bad_credentials);
    }
    if let Some(session) = req.cookie(SESSION_COOKIE) {
        let xsrf = req
            .headers()
            .get(XSRF_HEADER)
            .and_then(|value| value.to_str().ok());
        return authenticator
            .sessions
            .resume(session.value(), xsrf)
            .map_err(|err| match err {
                SessionError::Unknown => ApiError::bad_credentials(),
                SessionError::Xsrf(problem) => ApiError::xsrf_token(problem),
            });
    }
    Err(ApiError::bad_credentials())
}

fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    let encoded = header.strip_prefix(b"Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim_ascii()).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    Some((name.to_owned(), password.to_owned()))
}

#[derive(Deserialize)]
struct LoginForm {
    j_username: Option<String>,
    j_password: Option<String>,
}

/// `POST /api/session/create`, form `j_username`, `j_password`: a session cookie and its
/// XSRF token.
pub async fn login(
    req: HttpRequest,
    authenticator: web::Data<Authenticator>,
    Body(body): Body,
) -> Result<HttpResponse, ApiError> {
    let refused = || {
        metrics::authentication_failed("login");
        ApiError::bad_credentials()
    };
    let form: LoginForm = serde_urlencoded::from_bytes(&body).map_err(|_| refused())?;
    let (Some(name), Some(password)) = (form.j_username, form.j_password) else {
        return Err(refused());
    };
    let actor = authenticator
        .credentials
        .authenticate(&name, &password)
        .await
        .ok_or_else(refused)?;
    match req.peer_addr() {
        Some(peer) => tracing::info!(user = %actor, %peer, "session created"),
        None => tracing::info!(user = %actor, "session created"),
    }
    let tokens = authenticator.sessions.create(actor);
    let cookie = Cookie::build(SESSION_COOKIE, tokens.session_id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(authenticator.secure_cookies)
        .finish();
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .cookie(cookie)
        .insert_header((XSRF_HEADER, tokens.xsrf_token))
        .finish())
}

/// `POST /api/session/destroy`: ends the caller's session, if it used one.
pub async fn logout(req: HttpRequest, authenticator: web::Data<Authenticator>) -> HttpResponse {
    if let Some(session) = req.cookie(SESSION_COOKIE) {
        authenticator.sessions.destroy(session.value());
    }
    let mut expired = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    expired.set_max_age(CookieAge::ZERO);
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .cookie(expired)
        .finish()
}

/// The authenticated user, allowed the operation's permission.
fn authorize(req: &HttpRequest, permission: Permission) -> Result<Actor, ApiError> {
    let actor = req
        .extensions()
        .get::<Actor>()
        .cloned()
        .ok_or_else(ApiError::bad_credentials)?;
    if actor.role.allows(permission) {
        Ok(actor)
    } else {
        Err(ApiError::not_permitted(
            &actor,
            permission,
            req.method().as_str(),
            req.path(),
        ))
    }
}

/// A user allowed the `read` operations.
pub struct Reader(pub Actor);

/// A user allowed the `crud` operations.
pub struct Writer(pub Actor);

impl FromRequest for Reader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize(req, Permission::Read).map(Reader))
    }
}

impl FromRequest for Writer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize(req, Permission::Crud).map(Writer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse() {
        let header = format!("Basic {}", STANDARD.encode("admin:pa:ss"));
        assert_eq!(
            basic_credentials(header.as_bytes()),
            Some(("admin".into(), "pa:ss".into()))
        );
        assert_eq!(basic_credentials(b"Bearer abc"), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
        let no_colon = format!("Basic {}", STANDARD.encode("admin"));
        assert_eq!(basic_credentials(no_colon.as_bytes()), None);
    }
}
