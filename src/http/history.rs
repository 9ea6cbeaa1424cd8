//! `GET /store/v1/revisions?path=...`: a read-only extension, outside NSX's namespaces, that
//! serves the history of one object, newest first, paged like a list.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Reader;
use super::pages::{query_pairs, NoExtra, PageBody};
use super::ApiError;
use crate::domain::history::RevisionQuery;
use crate::domain::paging::Params;
use crate::storage::Store;

pub async fn revisions(
    _: Reader,
    store: web::Data<dyn Store>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let cursors = store.cursor_key();
    let query = RevisionQuery::parse(&Params::new(&pairs), cursors)?;
    let page = store.revisions(&query).await?;
    let scope = query.cursor_scope();
    Ok(PageBody::new(page, (cursors, &scope), NoExtra {}, |record| record).response())
}
