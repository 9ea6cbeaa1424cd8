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

/// One page of the objects the query matches, its cursor the number of matches up to its
/// end. Every stored object is read and matched: a search costs a pass over the store,
/// whatever its page.
pub async fn query(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let search = Search::parse(&Params::new(&pairs))?;
    let page = search.page(store.subtree("").await?);
    let body = PageBody {
        results: page
            .items
            .iter()
            .map(|object| RawValue::from_string(object.to_json()).expect("an object is JSON"))
            .collect(),
        result_count: page.total,
        extra: NoExtra {},
        cursor: page.next.map(|end| end.to_string()),
    };
    Ok(body.response())
}
