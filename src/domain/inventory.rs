//! The inventory NSX discovers from its compute managers (the README's "Inventory"): virtual
//! machines with their network interfaces (VIFs), tags, guest OS and computer names. A VIF is
//! attached to a segment port by its `lport_attachment_id`, the port's `attachment.id`, as
//! NSX links them. None of it is written through the Policy API: a store ships a small lab's
//! (`config/inventory.json`, or the file the setting `nsx.inventory` names) at its first start
//! and after a reset, tests change it through `/store/v1/inventory`, and clients read it on
//! NSX's paths, as NSX answers (`VirtualMachine`, `VirtualNetworkInterface`).

use std::net::IpAddr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::FieldError;

/// A virtual machine's `resource_type`, and the kind of its key in the store's inventory.
pub const VIRTUAL_MACHINE: &str = "VirtualMachine";

/// A virtual machine as the inventory keeps it: what `/store/v1/inventory` takes, in NSX's
/// field names, and its external id (vSphere's `instanceUuid`, as NSX's inventory uses it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualMachine {
    #[serde(default)]
    pub external_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub guest_info: GuestInfo,
    #[serde(default)]
    pub power_state: PowerState,
    /// The host transport node it runs on.
    #[serde(default = "default_host")]
    pub host_id: String,
    #[serde(default)]
    pub vifs: Vec<Vif>,
}

/// A tag, as NSX's bodies carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    #[serde(default)]
    pub scope: String,
    pub tag: String,
}

/// What VMware Tools reports of the guest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computer_name: Option<String>,
}

/// NSX's `VirtualMachine.power_state`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PowerState {
    #[default]
    #[serde(rename = "VM_RUNNING")]
    Running,
    #[serde(rename = "VM_STOPPED")]
    Stopped,
    #[serde(rename = "VM_SUSPENDED")]
    Suspended,
    #[serde(rename = "UNKNOWN")]
    Unknown,
}

/// A virtual machine's network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vif {
    /// The id of the segment port's attachment it is connected to (`attachment.id`); none
    /// while it is connected to no port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lport_attachment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(default)]
    pub ip_addresses: Vec<IpAddr>,
}

fn default_host() -> String {
    "host-1".to_owned()
}

impl VirtualMachine {
    /// The virtual machine a `/store/v1/inventory/virtual-machines/{external_id}` body gives;
    /// an error names the field.
    pub fn from_body(external_id: &str, body: Value) -> Result<Self, FieldError> {
        if external_id.is_empty() {
            return Err(FieldError::new("external_id", "must not be empty"));
        }
        let mut vm: Self = serde_json::from_value(body)
            .map_err(|error| FieldError::new("body", error.to_string()))?;
        if !vm.external_id.is_empty() && vm.external_id != external_id {
            return Err(FieldError::new(
                "external_id",
                format!("is {external_id} in the path"),
            ));
        }
        check_tags(&vm.tags)?;
        vm.external_id = external_id.to_owned();
        if vm.display_name.is_empty() {
            vm.display_name = external_id.to_owned();
        }
        Ok(vm)
    }

    /// Reads back a virtual machine the store kept.
    pub fn from_stored(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|error| format!("an inventory item: {error}"))
    }

    /// The virtual machine as the store keeps it.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("a virtual machine serializes")
    }

    /// Its key in the store's inventory.
    pub fn key(&self) -> String {
        Self::key_of(&self.external_id)
    }

    /// The key of the virtual machine of `external_id`.
    pub fn key_of(external_id: &str) -> String {
        format!("{VIRTUAL_MACHINE}/{external_id}")
    }

    /// Its BIOS UUID, which NSX lists among its compute ids beside its instance UUID (the
    /// external id), and Terraform reads: derived from the external id, so that it is the
    /// same in every store.
    fn bios_uuid(&self) -> Uuid {
        Uuid::new_v5(&Uuid::NAMESPACE_OID, self.external_id.as_bytes())
    }

    /// Its id on its host (vSphere's managed object id there).
    fn local_id(&self) -> String {
        format!("vm-{}", &self.bios_uuid().simple().to_string()[..8])
    }

    /// The virtual machine as NSX serves it (`VirtualMachine`).
    pub fn served(&self) -> Value {
        let bios = self.bios_uuid();
        let mut served = json!({
            "resource_type": VIRTUAL_MACHINE,
            "display_name": self.display_name,
            "external_id": self.external_id,
            "compute_ids": [
                format!("moIdOnHost:{}", self.local_id()),
                format!("instanceUuid:{}", self.external_id),
                format!("biosUuid:{bios}"),
                format!("uuid:{bios}"),
            ],
            "host_id": self.host_id,
            "local_id_on_host": self.local_id(),
            "power_state": self.power_state,
            "type": "REGULAR",
            "tags": self.tags,
            "source": {
                "target_id": self.host_id,
                "target_display_name": self.host_id,
                "target_type": "HostNode",
                "is_valid": true,
            },
        });
        if self.guest_info != GuestInfo::default() {
            served["guest_info"] = json!(self.guest_info);
        }
        served
    }

    /// Its network interfaces as NSX serves them (`VirtualNetworkInterface`), each with an
    /// external id and a device key of its own (NSX's `<instanceUuid>-4000`, `4001`...).
    pub fn served_vifs(&self) -> impl Iterator<Item = (&Vif, Value)> {
        self.vifs.iter().enumerate().map(|(n, vif)| {
            let device_key = 4000 + n;
            let mut served = json!({
                "resource_type": "VirtualNetworkInterface",
                "display_name": format!("Network adapter {}", n + 1),
                "external_id": format!("{}-{device_key}", self.external_id),
                "device_key": device_key.to_string(),
                "device_name": format!("Network adapter {}", n + 1),
                "owner_vm_id": self.external_id,
                "owner_vm_type": "REGULAR",
                "host_id": self.host_id,
                "vm_local_id_on_host": self.local_id(),
                "ip_address_info": [{"source": "VM_TOOLS", "ip_addresses": vif.ip_addresses}],
            });
            if let Some(attachment) = &vif.lport_attachment_id {
                served["lport_attachment_id"] = json!(attachment);
            }
            if let Some(mac) = &vif.mac_address {
                served["mac_address"] = json!(mac);
            }
            (vif, served)
        })
    }

    /// Every IP address its interfaces report.
    pub fn ip_addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.vifs
            .iter()
            .flat_map(|vif| vif.ip_addresses.iter().copied())
    }
}

/// A change of a virtual machine's tags, as NSX's actions make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagChange {
    /// `update_tags` (and `POST .../virtual-machines/{id}/tags`): the tags given, only.
    Replace,
    /// `add_tags`: the tags given beside those it has.
    Add,
    /// `remove_tags`: those it has but the tags given (scope and tag both equal).
    Remove,
}

/// A tag update's body: the virtual machine it names (`virtual_machine_id`, or the
/// manager's `external_id`), if it names one, and its tags, each as NSX bounds them.
pub fn tags_update(
    body: serde_json::Map<String, Value>,
) -> Result<(Option<String>, Vec<Tag>), FieldError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Update {
        virtual_machine_id: Option<String>,
        external_id: Option<String>,
        #[serde(default)]
        tags: Vec<Tag>,
    }
    let update: Update = serde_json::from_value(Value::Object(body))
        .map_err(|error| FieldError::new("body", error.to_string()))?;
    check_tags(&update.tags)?;
    Ok((
        update.virtual_machine_id.or(update.external_id),
        update.tags,
    ))
}

/// Refuses a tag NSX refuses: a scope over 128 characters, a tag over 256.
fn check_tags(tags: &[Tag]) -> Result<(), FieldError> {
    for (n, tag) in tags.iter().enumerate() {
        if tag.scope.chars().count() > 128 {
            return Err(FieldError::new(
                format!("tags[{n}].scope"),
                "is longer than 128",
            ));
        }
        if tag.tag.chars().count() > 256 {
            return Err(FieldError::new(
                format!("tags[{n}].tag"),
                "is longer than 256",
            ));
        }
    }
    Ok(())
}

impl VirtualMachine {
    /// Changes its tags by `tags`, as `change` says.
    pub fn change_tags(&mut self, change: TagChange, tags: Vec<Tag>) {
        match change {
            TagChange::Replace => self.tags = tags,
            TagChange::Add => {
                for tag in tags {
                    if !self.tags.contains(&tag) {
                        self.tags.push(tag);
                    }
                }
            }
            TagChange::Remove => self.tags.retain(|tag| !tags.contains(tag)),
        }
    }
}

/// The inventory a store ships, as its file writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shipped {
    virtual_machines: Vec<ShippedVm>,
}

/// A shipped virtual machine: its external id beside the fields `/store/v1` takes.
#[derive(Deserialize)]
struct ShippedVm {
    external_id: String,
    #[serde(flatten)]
    fields: serde_json::Map<String, Value>,
}

static SHIPPED: OnceLock<Vec<VirtualMachine>> = OnceLock::new();

/// Ships the inventory of `json` (the file the setting `nsx.inventory` names) instead of
/// the store's own lab; before the store opens, once. An error says what is wrong with it.
pub fn ship(json: &str) -> Result<(), String> {
    let vms = parse_shipped(json)?;
    SHIPPED
        .set(vms)
        .map_err(|_| "the inventory is shipped once, before the store opens".to_owned())
}

/// The inventory a store writes at its first start and after a reset.
pub fn shipped() -> &'static [VirtualMachine] {
    SHIPPED.get_or_init(|| {
        parse_shipped(include_str!("../../config/inventory.json"))
            .expect("config/inventory.json is a valid inventory")
    })
}

fn parse_shipped(json: &str) -> Result<Vec<VirtualMachine>, String> {
    let shipped: Shipped = serde_json::from_str(json).map_err(|error| error.to_string())?;
    shipped
        .virtual_machines
        .into_iter()
        .enumerate()
        .map(|(n, vm)| {
            VirtualMachine::from_body(&vm.external_id, Value::Object(vm.fields))
                .map_err(|error| format!("virtual_machines[{n}]: {error}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lab_is_a_valid_inventory() {
        let vms = parse_shipped(include_str!("../../config/inventory.json")).unwrap();
        assert!(vms.len() >= 3);
        for vm in &vms {
            assert_eq!(VirtualMachine::from_stored(&vm.to_stored()).unwrap(), *vm);
            let served = vm.served();
            let ids = served["compute_ids"].as_array().unwrap();
            assert!(ids
                .iter()
                .any(|id| id.as_str().unwrap().starts_with("biosUuid:")));
        }
    }

    #[test]
    fn a_body_is_read_in_nsxs_field_names_and_refused_with_the_field_it_got_wrong() {
        let vm = VirtualMachine::from_body(
            "5003c9f1",
            json!({"tags": [{"scope": "app", "tag": "web"}],
                   "guest_info": {"os_name": "Ubuntu Linux (64-bit)"},
                   "vifs": [{"ip_addresses": ["10.0.0.5"], "lport_attachment_id": "a1"}]}),
        )
        .unwrap();
        assert_eq!(vm.display_name, "5003c9f1");
        assert_eq!(vm.power_state, PowerState::Running);
        let (_, vif) = vm.served_vifs().next().unwrap();
        assert_eq!(vif["external_id"], "5003c9f1-4000");
        assert_eq!(vif["lport_attachment_id"], "a1");

        let wrong = VirtualMachine::from_body("x", json!({"vifs": [{"ip_addresses": ["ten"]}]}));
        assert!(wrong.is_err());
        let other = VirtualMachine::from_body("x", json!({"external_id": "y"})).unwrap_err();
        assert_eq!(other.field, "external_id");
    }
}
