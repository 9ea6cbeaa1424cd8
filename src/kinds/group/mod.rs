//! Groups: NSX serves a group's members beside its CRUD (`.../groups/{id}/members/...`),
//! computed from its expression when read ([`crate::domain::membership`]) over the inventory
//! and the stored segments, segment ports and groups, and the groups a virtual machine is a
//! member of (`/infra/virtual-machine-group-associations`).

use std::collections::BTreeSet;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::domain::membership::World;
use crate::domain::paging::Params;
use crate::domain::{FieldError, ObjectPath, PolicyObject};
use crate::http::auth::Reader;
use crate::http::openapi::schemas::Schemas;
use crate::http::operation::{Operation, Table};
use crate::http::operations::CORE;
use crate::http::pages::{offset_answer, query_pairs};
use crate::http::ApiError;

/// The group's own operations (`operations.toml`, in the core's table's format).
static OPERATIONS: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

static SCHEMAS: Schemas = Schemas::new(include_str!("schemas.json"));

type Store = web::Data<dyn crate::storage::Store>;

/// The group's own operations: its members ([`members`]) of each kind, below `/infra` and a
/// project's alike, and a virtual machine's groups ([`associations`]).
pub fn operations() -> Vec<Operation> {
    OPERATIONS.operations(|id| match id {
        "ListVirtualMachineGroupAssociations" => Some(web::route().to(associations)),
        _ if id.contains("Group") && id.ends_with("Members") => Some(web::route().to(members)),
        _ => None,
    })
}

/// The schema of a group's answer named `name`; `None` for another name.
pub fn schema(name: &str) -> Option<Value> {
    SCHEMAS.get(name)
}

/// `GET <group>/members/<kind>`: one page of the group's members of the kind the path's
/// last segment names, in their order (by external id, path or address); 404 while no
/// group is stored at the path.
pub async fn members(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let offset = Params::new(&pairs).offset()?;
    let asked = req.path().trim_start_matches(crate::http::POLICY_API);
    let (group_path, kind) = asked
        .rsplit_once("/members/")
        .ok_or_else(|| ApiError::object_not_found(asked))?;
    let path = ObjectPath::from_stored(group_path)?;
    let group = store
        .get(&path)
        .await?
        .ok_or_else(|| ApiError::object_not_found(group_path))?;
    let (vms, objects) = (store.virtual_machines().await?, store.subtree("").await?);
    let world = World {
        vms: &vms,
        objects: &objects,
    };
    let members = world.members(&group);
    let results: Vec<Value> = match kind {
        "virtual-machines" => vms
            .iter()
            .filter(|vm| members.vms.contains(&vm.external_id))
            .map(|vm| {
                let mut realized = vm.served();
                realized["resource_type"] = json!("RealizedVirtualMachine");
                realized["id"] = json!(vm.external_id);
                realized
            })
            .collect(),
        "ip-addresses" => world
            .ip_addresses(&members)
            .into_iter()
            .map(Value::from)
            .collect(),
        "segments" => references(&objects, &members.segments),
        "segment-ports" => references(&objects, &members.ports),
        "vifs" => world
            .member_vifs(&members)
            .into_iter()
            .map(|(_, served)| served)
            .collect(),
        _ => return Err(ApiError::object_not_found(asked)),
    };
    Ok(offset_answer(results, offset))
}

/// `PolicyGroupMemberDetails` of the stored objects at `paths`, in path order.
fn references(objects: &[PolicyObject], paths: &BTreeSet<String>) -> Vec<Value> {
    objects
        .iter()
        .filter(|object| paths.contains(object.path.as_str()))
        .map(|object| {
            json!({
                "path": object.path.as_str(),
                "id": object.id().as_str(),
                "display_name": object.config.display_name(),
            })
        })
        .collect()
}

/// `GET /infra/virtual-machine-group-associations?vm_external_id=ID`: the groups of the
/// default domain whose members include the virtual machine, as references.
pub async fn associations(
    _: Reader,
    store: Store,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let params = Params::new(&pairs);
    let external_id = params
        .get("vm_external_id")
        .ok_or_else(|| FieldError::new("vm_external_id", "required property not present"))?;
    let offset = params.offset()?;
    let (vms, objects) = (store.virtual_machines().await?, store.subtree("").await?);
    let world = World {
        vms: &vms,
        objects: &objects,
    };
    let groups: Vec<Value> = objects
        .iter()
        .filter(|object| object.resource_type() == "Group")
        .filter(|group| group.path.parent() == Some("/infra/domains/default"))
        .filter(|group| world.members(group).vms.contains(external_id))
        .map(|group| {
            json!({
                "path": group.path.as_str(),
                "target_id": group.id().as_str(),
                "target_display_name": group.config.display_name(),
                "target_type": "Group",
                "is_valid": true,
            })
        })
        .collect();
    Ok(offset_answer(groups, offset))
}
