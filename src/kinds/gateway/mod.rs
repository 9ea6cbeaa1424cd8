//! Gateways and VPCs: NSX creates each with its NAT sections, `USER`, `INTERNAL` and
//! `DEFAULT` (`<gateway>/nat/USER`, which clients read but cannot write or delete: the
//! bindings give the route only a GET), under which clients write their NAT rules; a delete
//! of the gateway takes them along, refused while one of them still holds a rule. NSX's API
//! reference names the sections so (a NAT rule's `nat-id`: "USER, INTERNAL, DEFAULT"), and
//! terraform-provider-nsxt and nsxlib write their rules under `nat/USER` (`DEFAULT` for
//! default rules). NSX also serves a gateway's state on its enforcement point ([`state`]).

pub mod state;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::catalog::catalog;
use crate::domain::kind::{Companion, Kind};
use crate::domain::relations::shipped_with;
use crate::domain::{Applied, ObjectPath, Operation};

/// The types of this kind: every gateway and the VPC, each with NAT sections below it.
pub const RESOURCE_TYPES: [&str; 4] = ["Tier0", "Tier1", "Vpc", "TransitGateway"];

/// The sections NSX creates, each its `nat_type` too.
const SECTIONS: [&str; 3] = ["USER", "INTERNAL", "DEFAULT"];

/// The gateway kind.
pub struct Gateways;

impl Kind for Gateways {
    fn has_companions(&self) -> bool {
        true
    }

    fn companions(&self, applied: &Applied) -> Vec<Companion> {
        let gateway = &applied.object;
        let sections = SECTIONS.iter().filter_map(|section| {
            let path = format!("{}/nat/{section}", gateway.path);
            // Where the catalog has no NAT below this gateway (a project's tier-0), none.
            Some((ObjectPath::from_stored(&path).ok()?, *section))
        });
        match applied.operation {
            Operation::Create => sections
                .map(|(path, section)| {
                    let resource_type = catalog().route(path.route()).object_type;
                    let mut members = Map::new();
                    members.insert("display_name".into(), Value::from(section));
                    members.insert("nat_type".into(), Value::from(section));
                    // Its own unique id, the same for the same gateway.
                    let unique_id = Uuid::new_v5(&gateway.meta.unique_id, path.as_str().as_bytes());
                    let now = gateway.meta.create_time;
                    Companion::Create(shipped_with(path, resource_type, members, now, unique_id))
                })
                .collect(),
            Operation::Delete => sections.map(|(path, _)| Companion::Delete(path)).collect(),
            Operation::Replace | Operation::Patch => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::kind::{CatalogOnly, Kinds};
    use crate::domain::relations::{defaults, is_system_owned};
    use crate::domain::Config;

    fn applied(path: &str, operation: Operation) -> Applied {
        let path = ObjectPath::from_stored(path).unwrap();
        let document = CatalogOnly.document(Default::default(), &path).unwrap();
        let mut object = defaults(0).remove(0).object.as_ref().clone();
        object.config = Config::create(document, path.id());
        object.path = path;
        Applied {
            operation,
            object: Arc::new(object),
        }
    }

    #[test]
    fn a_gateway_brings_its_nat_sections_and_takes_them_away() {
        for gateway in [
            "/infra/tier-1s/t1",
            "/infra/tier-0s/t0",
            "/orgs/default/projects/p/vpcs/v",
            "/orgs/default/projects/p/transit-gateways/tgw",
        ] {
            let created = Gateways.companions(&applied(gateway, Operation::Create));
            let paths: Vec<String> = created
                .iter()
                .map(|companion| match companion {
                    Companion::Create(section) => {
                        assert!(is_system_owned(&section.object));
                        let nat_type = &section.object.config.members()["nat_type"];
                        assert_eq!(section.object.id().as_str(), nat_type.as_str().unwrap());
                        section.object.path.to_string()
                    }
                    Companion::Delete(_) => panic!("a create deletes nothing"),
                })
                .collect();
            assert_eq!(
                paths,
                SECTIONS.map(|section| format!("{gateway}/nat/{section}")),
                "{gateway}"
            );
            let deleted = Gateways.companions(&applied(gateway, Operation::Delete));
            assert_eq!(deleted.len(), 3, "{gateway}");
            assert!(Gateways
                .companions(&applied(gateway, Operation::Patch))
                .is_empty());
        }
    }
}
