//! A segment port's state on its enforcement point, which NSX serves at
//! `<segment>/ports/{id}/state` (a VPC subnet's ports too) and nsx-operator and NCP read after
//! they write a port: its attachment, and the addresses bound to it: those the port gives
//! (`address_bindings`), else those of the inventory's interface attached to it (its
//! `lport_attachment_id` is the port's `attachment.id`). Read from the same realization as
//! the port's realized entity (the README's "Realized state").

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::domain::inventory::VirtualMachine;
use crate::domain::realization::{Realization, RealizedState};
use crate::domain::PolicyObject;
use crate::http::auth::Reader;
use crate::http::realization::sub_resource_answer;
use crate::http::ApiError;

/// `GET <port>/state`: the port's `SegmentPortState`.
pub async fn state(
    _: Reader,
    store: web::Data<dyn crate::storage::Store>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let vms = store.virtual_machines().await?;
    sub_resource_answer(&store, &req, |port, realization| {
        port_state(port, realization, &vms)
    })
    .await
}

/// The `SegmentPortState` of `port`, realized as `realization` says, with the inventory's
/// virtual machines `vms` (whose interface may be attached to it).
pub fn port_state(port: &PolicyObject, realization: &Realization, vms: &[VirtualMachine]) -> Value {
    let members = port.config.members();
    let attachment_id = members
        .get("attachment")
        .and_then(|attachment| attachment.get("id"))
        .and_then(Value::as_str);
    let attached = attachment_id.and_then(|id| {
        vms.iter().find_map(|vm| {
            let vif = vm
                .vifs
                .iter()
                .find(|vif| vif.lport_attachment_id.as_deref() == Some(id))?;
            Some((vm, vif))
        })
    });
    let at = port.meta.last_modified_time;
    let given: Vec<Value> = members
        .get("address_bindings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|binding| {
            json!({
                "binding": {
                    "ip_address": binding.get("ip_address").cloned().unwrap_or(Value::Null),
                    "mac_address": binding.get("mac_address").cloned().unwrap_or(Value::Null),
                    "vlan": binding.get("vlan_id").cloned().unwrap_or(json!(0)),
                },
                "binding_timestamp": at,
                "source": "USER_DEFINED",
            })
        })
        .collect();
    let bindings = match (given.is_empty(), attached) {
        (false, _) | (true, None) => given,
        (true, Some((_, vif))) => vif
            .ip_addresses
            .iter()
            .map(|ip| {
                json!({
                    "binding": {"ip_address": ip.to_string(), "mac_address": vif.mac_address, "vlan": 0},
                    "binding_timestamp": at,
                    "source": "VM_TOOLS",
                })
            })
            .collect(),
    };
    let mut state = json!({
        "realized_bindings": bindings,
        "discovered_bindings": [],
        "duplicate_bindings": [],
        "transport_node_ids": attached.map(|(vm, _)| vec![vm.host_id.clone()]).unwrap_or_default(),
    });
    if let Some(id) = attachment_id {
        state["attachment"] = json!({"id": id, "state": attachment_state(realization.state)});
    }
    state
}

/// An attachment's state (`SegmentPortState.attachment.state`) in a realized state.
fn attachment_state(state: RealizedState) -> &'static str {
    match state {
        RealizedState::Realized => "ATTACHED",
        RealizedState::Unrealized | RealizedState::Unavailable => "ATTACHED_PENDING_CONF",
        RealizedState::Error => "DETACHED",
    }
}
