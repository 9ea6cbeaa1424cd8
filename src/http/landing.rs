//! Where a browser lands: the inspector's page, and the redirect that sends a browser
//! opening the server's address to it.

use actix_web::http::{header, Method};
use actix_web::{HttpRequest, HttpResponse};

/// Where the page is served; no credentials are needed for its files, which hold no data.
pub const UI_PATH: &str = "/store/ui/";

/// Where a browser that opens the server's address (`/`, asking for a page) or the page
/// without its slash (`/store/ui`) is sent: to the page and its login form, as NSX Manager
/// sends a browser to its own. An API client's `GET /` (no `text/html` in `Accept`) is
/// answered as any unknown path.
pub fn landing(req: &HttpRequest) -> Option<HttpResponse> {
    let wants_page = || {
        req.headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    };
    let landing = match req.path() {
        "/" => wants_page(),
        path => path == UI_PATH.trim_end_matches('/'),
    };
    (landing && matches!(*req.method(), Method::GET | Method::HEAD)).then(|| {
        HttpResponse::Found()
            .insert_header((header::LOCATION, UI_PATH))
            .finish()
    })
}
