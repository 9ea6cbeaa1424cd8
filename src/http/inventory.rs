//! The inventory (the README's "Inventory"): its virtual machines and their interfaces on
//! NSX's paths, the tag actions clients take on them, and the store's own way to add,
//! change and remove them (`/store/v1/inventory`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::auth::{Reader, Writer};
use super::extractors::JsonBody;
use super::pages::{offset_answer, query_pairs, require_action};
use super::responses::{empty_response, json_response};
use super::ApiError;
use crate::domain::inventory::{tags_update, TagChange, VirtualMachine};
use crate::domain::paging::Params;
use crate::domain::search::Query;
use crate::domain::{json_object, FieldError};

type Store = web::Data<dyn crate::storage::Store>;

/// The path of the store's own virtual machine routes.
const STORE_VMS: &str = "/store/v1/inventory/virtual-machines";

/// `VirtualMachineListResult` (NSX's realized-state list, its enforcement point's, and the
/// manager's `/api/v1/fabric/virtual-machines`): every virtual machine, by external id,
/// those the filters given keep: the manager's `display_name`, `external_id` and `host_id`,
/// the enforcement point's Lucene `query`; `sort_by` a field, `sort_ascending`, and pages by
/// offset, as Terraform's VM lookups page them.
pub async fn virtual_machines(
    _: Reader,
    store: Store,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let params = Params::new(&pairs);
    let query = params.get("query").map(Query::parse).transpose()?;
    let mut served: Vec<Value> = store
        .virtual_machines()
        .await?
        .iter()
        .map(VirtualMachine::served)
        .filter(|vm| {
            ["display_name", "external_id", "host_id"]
                .iter()
                .all(|field| params.get(field).is_none_or(|wanted| vm[*field] == wanted))
        })
        .filter(|vm| query.as_ref().is_none_or(|query| query.matches(vm)))
        .collect();
    sort(&mut served, &params)?;
    Ok(offset_answer(served, params.offset()?))
}

/// Orders `served` by the field `sort_by` names (by external id without one), ascending
/// unless `sort_ascending` is `false`.
fn sort(served: &mut [Value], params: &Params<'_>) -> Result<(), ApiError> {
    let field = params.get("sort_by").unwrap_or("external_id");
    let text = |value: &Value| value[field].as_str().unwrap_or_default().to_owned();
    served.sort_by_key(text);
    if !params.flag("sort_ascending", true)? {
        served.reverse();
    }
    Ok(())
}

/// `VirtualNetworkInterfaceListResult` (the manager's `/api/v1/fabric/vifs`, the enforcement
/// point's `.../vifs`): every virtual machine's interfaces, those the filters given keep
/// (`owner_vm_id`, `lport_attachment_id`, `host_id`), in the order of their machines.
pub async fn vifs(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let params = Params::new(&pairs);
    let served: Vec<Value> = store
        .virtual_machines()
        .await?
        .iter()
        .flat_map(|vm| vm.served_vifs().map(|(_, vif)| vif).collect::<Vec<_>>())
        .filter(|vif| {
            ["owner_vm_id", "lport_attachment_id", "host_id"]
                .iter()
                .all(|field| params.get(field).is_none_or(|wanted| vif[*field] == wanted))
        })
        .collect();
    Ok(offset_answer(served, params.offset()?))
}

/// `POST .../enforcement-points/{ep}/virtual-machines?action=update_tags`: the tags of the
/// virtual machine the body's `virtual_machine_id` names become the body's; 204.
pub async fn update_tags(
    _: Writer,
    store: Store,
    req: HttpRequest,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    require_action(&req, "update_tags")?;
    change_tags(&store, TagChange::Replace, &body, None).await
}

/// `POST /infra/realized-state/virtual-machines/{id}/tags` (NSX 4.1.1 and later): the tags
/// of the virtual machine of the path's external id become the body's; 204.
pub async fn set_tags(
    _: Writer,
    store: Store,
    external_id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let external_id = external_id.into_inner();
    change_tags(&store, TagChange::Replace, &body, Some(external_id)).await
}

/// `POST /api/v1/fabric/virtual-machines?action=add_tags|remove_tags|update_tags`: the
/// manager's tag actions on the virtual machine of the body's `external_id`; 204.
pub async fn fabric_tags(
    _: Writer,
    store: Store,
    req: HttpRequest,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let change = match Params::new(&pairs).get("action") {
        Some("add_tags") => TagChange::Add,
        Some("remove_tags") => TagChange::Remove,
        Some("update_tags") => TagChange::Replace,
        other => return Err(ApiError::unsupported_action(other, "add_tags")),
    };
    change_tags(&store, change, &body, None).await
}

/// Changes the tags of the virtual machine `named` (or the body's) as `change` says; 204,
/// or 404 where there is none of that external id.
async fn change_tags(
    store: &Store,
    change: TagChange,
    body: &[u8],
    named: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let (in_body, tags) = tags_update(json_object(body)?)?;
    let external_id = named
        .or(in_body)
        .ok_or_else(|| FieldError::new("virtual_machine_id", "required property not present"))?;
    let mut vm = virtual_machine(store, &external_id).await?;
    vm.change_tags(change, tags);
    store.put_virtual_machine(vm).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The virtual machine of `external_id`; 404 naming it where there is none.
async fn virtual_machine(store: &Store, external_id: &str) -> Result<VirtualMachine, ApiError> {
    store
        .virtual_machines()
        .await?
        .into_iter()
        .find(|vm| vm.external_id == external_id)
        .ok_or_else(|| ApiError::object_not_found(&format!("VirtualMachine/{external_id}")))
}

/// `GET /store/v1/inventory/virtual-machines/{external_id}`: the virtual machine as NSX
/// serves it, with its interfaces (`vifs`) as they were given.
pub async fn read_virtual_machine(
    _: Reader,
    store: Store,
    external_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let external_id = external_id.into_inner();
    let vm = virtual_machine(&store, &external_id)
        .await
        .map_err(|_| ApiError::object_not_found(&format!("{STORE_VMS}/{external_id}")))?;
    Ok(json_response(&answer(&vm)))
}

/// `PUT /store/v1/inventory/virtual-machines/{external_id}`: adds the virtual machine, or
/// replaces the one of that external id (its tags, its guest, its interfaces and the ports
/// they are attached to); answers it.
pub async fn put_virtual_machine(
    _: Writer,
    store: Store,
    external_id: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let external_id = external_id.into_inner();
    let vm = VirtualMachine::from_body(&external_id, Value::Object(json_object(&body)?))?;
    store.put_virtual_machine(vm.clone()).await?;
    Ok(json_response(&answer(&vm)))
}

/// `DELETE /store/v1/inventory/virtual-machines/{external_id}`: removes the virtual
/// machine; idempotent.
pub async fn delete_virtual_machine(
    _: Writer,
    store: Store,
    external_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let external_id = external_id.into_inner();
    store.remove_virtual_machine(&external_id).await?;
    Ok(empty_response())
}

/// The store's answer for `vm`: as NSX serves it, with its interfaces as given.
fn answer(vm: &VirtualMachine) -> Value {
    let mut answer = vm.served();
    answer["vifs"] = serde_json::json!(vm.vifs);
    answer
}
