//! The plain answers every handler family shares: a JSON body, or an empty one.

use actix_web::http::header::ContentType;
use actix_web::HttpResponse;
use serde::Serialize;

/// 200 with `value` as its JSON body.
pub fn json_response<T: Serialize + ?Sized>(value: &T) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(serde_json::to_string(value).expect("an answer always serializes"))
}

/// 200 with an empty body, still `Content-Type: application/json` as NSX answers a PATCH or
/// a DELETE.
pub fn empty_response() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .finish()
}
