//! The search API (the README's "Search"): `GET /policy/api/v1/search/query?query=...`
//! answers NSX's `SearchResponse`, one page of the objects that match, of every type (read
//! through the indexes the writers keep: [`crate::domain::search::Plan`]), and of realized
//! entities and the inventory's virtual machines where the query asks for them.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::auth::Reader;
use super::extractors::JsonBody;
use super::pages::{query_pairs, NoExtra, PageBody};
use super::realization::every_entity;
use super::ApiError;
use crate::domain::inventory::VirtualMachine;
use crate::domain::json_object;
use crate::domain::paging::{Offset, Page, Params};
use crate::domain::search::Search;
use crate::domain::PolicyObject;

type Store = web::Data<dyn crate::storage::Store>;

/// One page of the objects the query matches, its cursor the number of matches up to its
/// end; with the realized entities of every object and the inventory's virtual machines
/// where the query asks for them.
pub async fn query(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let search = Search::parse(&Params::new(&pairs))?;
    if !(search.finds_realized() || search.finds_virtual_machines()) {
        let page = store.search(&search, search.offset()).await?;
        return Ok(answer(page, |object| rendered(&object)));
    }
    // What is not stored is matched in memory, beside the stored objects: every one where
    // the realized entities need them all anyway, else the search's stored matches.
    let mut served: Vec<Value> = match search.finds_realized() {
        true => {
            let objects = store.subtree("").await?;
            let mut served: Vec<Value> = objects.iter().map(PolicyObject::served).collect();
            served.extend(every_entity(&store, &objects).await?);
            served
        }
        false => {
            let stored = store.search(&search, Offset::everything()).await?;
            stored.items.iter().map(PolicyObject::served).collect()
        }
    };
    if search.finds_virtual_machines() {
        let vms = store.virtual_machines().await?;
        served.extend(vms.iter().map(VirtualMachine::served));
    }
    Ok(answer(search.page(served), |value| value))
}

/// `POST /policy/api/v1/search/aggregate`: one page of the objects of the body's
/// `primary.resource_type` that pass its `filters`, each as `{"primary": object, "related":
/// []}`, its cursor the number of matches up to its end (nsxlib's `search_all_*` pages it).
pub async fn aggregate(
    _: Reader,
    store: Store,
    req: HttpRequest,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    #[derive(Serialize)]
    struct Aggregated {
        primary: Box<RawValue>,
        related: [(); 0],
    }
    let pairs = query_pairs(&req)?;
    let body = Value::Object(json_object(&body)?);
    let search = Search::aggregate(&Params::new(&pairs), body)?;
    let page = store.search(&search, search.offset()).await?;
    Ok(answer(page, |object| Aggregated {
        primary: rendered(&object),
        related: [],
    }))
}

/// A search's answer: the page's items as `render` makes them, `result_count` every match,
/// and the cursor the number of matches up to the page's end.
fn answer<I, T: Serialize>(page: Page<I, u64>, render: impl Fn(I) -> T) -> HttpResponse {
    let body = PageBody {
        results: page.items.into_iter().map(render).collect::<Vec<_>>(),
        result_count: page.total,
        extra: NoExtra {},
        cursor: page.next.map(|end| end.to_string()),
    };
    body.response()
}

/// A stored object as GET serves it, as rendered once.
fn rendered(object: &PolicyObject) -> Box<RawValue> {
    RawValue::from_string(object.to_json()).expect("an object renders as JSON")
}
