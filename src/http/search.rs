//! The search API (the README's "Search"): `GET /policy/api/v1/search/query?query=...`
//! answers NSX's `SearchResponse`, one page of the objects that match, of every type.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::value::RawValue;

use super::auth::Reader;
use super::pages::{query_pairs, NoExtra, PageBody};
use super::ApiError;
use crate::domain::paging::Params;
use crate::domain::search::Search;

type Store = web::Data<dyn crate::storage::Store>;

/// One page of the objects the query matches. Every stored object is read and matched:
/// a search costs a pass over the store, whatever its page.
pub async fn query(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let search = Search::parse(&Params::new(&pairs), store.cursor_key())?;
    let objects = store.subtree("").await?;
    let page = search.page(objects);
    let scope = search.cursor_scope();
    let body = PageBody::new(page, (store.cursor_key(), &scope), NoExtra {}, |object| {
        RawValue::from_string(object.to_json()).expect("an object renders as JSON")
    });
    Ok(body.response())
}
