//! The body of a paged answer, and the query string a request was asked with.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::ApiError;
use crate::domain::paging::{CursorKey, Offset, Page};

/// A list result: NSX's `results`, `result_count` and, while more pages remain, `cursor`.
#[derive(Serialize)]
pub struct PageBody<T, E: Serialize = NoExtra> {
    pub results: Vec<T>,
    pub result_count: u64,
    #[serde(flatten)]
    pub extra: E,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// No fields beyond the standard ones.
#[derive(Serialize)]
pub struct NoExtra {}

impl<T: Serialize, E: Serialize> PageBody<T, E> {
    /// The answer for `page`, its cursor sealed under `cursors` for the query `scope`.
    pub fn new<I, P: Serialize>(
        page: Page<I, P>,
        (cursors, scope): (&CursorKey, &str),
        extra: E,
        render: impl Fn(I) -> T,
    ) -> Self {
        let cursor = page.next.as_ref().map(|next| cursors.seal(scope, next));
        Self {
            results: page.items.into_iter().map(render).collect(),
            result_count: page.total,
            extra,
            cursor,
        }
    }

    /// The answer for a page that holds everything (the command line's history).
    pub fn unpaged<I, P>(page: Page<I, P>, extra: E, render: impl Fn(I) -> T) -> Self {
        assert!(page.next.is_none(), "an unpaged answer holds every item");
        Self {
            results: page.items.into_iter().map(render).collect(),
            result_count: page.total,
            extra,
            cursor: None,
        }
    }

    pub fn response(&self) -> HttpResponse {
        let body = serde_json::to_string(self).expect("a page always serializes");
        HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(body)
    }
}

/// An answer paged by offset ([`Offset`]) of `items` (every result, in order): NSX's list
/// shape, its `cursor` while more remain.
pub fn offset_answer<T: Serialize>(items: Vec<T>, offset: Offset) -> HttpResponse {
    let page = offset.page(items);
    let cursor = page.next.filter(|end| *end < page.total);
    PageBody {
        results: page.items,
        result_count: page.total,
        extra: NoExtra {},
        cursor: cursor.map(|end| end.to_string()),
    }
    .response()
}

/// Checks that the query asks for `supported`, the one `action` a POST on the path takes
/// (`retrace` on an object, `restore` on a snapshot).
pub fn require_action(req: &HttpRequest, supported: &str) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct ActionQuery {
        action: Option<String>,
    }
    let query = web::Query::<ActionQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::invalid_query_string())?;
    match query.action.as_deref() {
        Some(action) if action == supported => Ok(()),
        other => Err(ApiError::unsupported_action(other, supported)),
    }
}

/// The query string as name-value pairs.
pub fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| ApiError::invalid_query_string())
}
