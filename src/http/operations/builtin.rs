//! The handlers of the operations built into the core, bound by operation id to the table
//! that writes them, `builtin.toml` (a kind's are in its folder).

use actix_web::{web, Route};

use crate::http::operation::Table;
use crate::http::{
    auth, events, faults, hierarchy, history, inspector, inventory, journal, probes, realization,
    search, spec, state,
};

/// The core's table; a kind's table may name its query parameters.
pub static TABLE: Table = Table::new(include_str!("builtin.toml"), None);

/// The route that serves the core's operation `id`.
pub fn handler(id: &str) -> Option<Route> {
    let route = web::route();
    Some(match id {
        "CreateSession" => route.to(auth::login),
        "DestroySession" => route.to(auth::logout),
        "ReadNodeVersion" => route.to(probes::version),
        "ReadNodeProperties" => route.to(probes::node),
        "ReadReverseProxyNodeHealth" => route.to(probes::health),
        "ReadLicensedFeatures" => route.to(probes::licensed_features),
        "ListLicenses" => route.to(probes::licenses),
        "ReadClusterRestoreStatus" => route.to(probes::restore_status),
        "ListMacPools" => route.to(probes::mac_pools),
        "ReadPolicyApiSpecification" => route.to(spec::nsx_document),
        "ReadPolicyApiSpecificationUnderPolicy" => route.to(spec::nsx_document),
        "ReadStoreApiSpecification" => route.to(spec::store_document),
        "ListRealizedEntities" => route.to(realization::realized_entities),
        "ListProjectRealizedEntities" => route.to(realization::realized_entities),
        "ReadRealizedEntity" => route.to(realization::realized_entity),
        "RefreshRealizedEntity" => route.to(realization::refresh),
        "ReadIntentStatus" => route.to(realization::status),
        "QuerySearch" => route.to(search::query),
        "QueryManagerSearch" => route.to(search::query),
        "AggregateSearch" => route.to(search::aggregate),
        "ListRealizedVirtualMachines" => route.to(inventory::virtual_machines),
        "ListEnforcementPointVirtualMachines" => route.to(inventory::virtual_machines),
        "UpdateVirtualMachineTags" => route.to(inventory::update_tags),
        "SetVirtualMachineTags" => route.to(inventory::set_tags),
        "ListEnforcementPointVifs" => route.to(inventory::vifs),
        "ListFabricVirtualMachines" => route.to(inventory::virtual_machines),
        "UpdateFabricVirtualMachineTags" => route.to(inventory::fabric_tags),
        "ListFabricVifs" => route.to(inventory::vifs),
        "ReadOrgRoot" => route.to(hierarchy::read_org_root),
        "PatchOrgRoot" => route.to(hierarchy::patch_org_root),
        "ListRevisions" => route.to(history::revisions),
        "ReadInspectorPage" => route.to(inspector::asset),
        "ReadInspectorScript" => route.to(inspector::asset),
        "ReadInspectorStyle" => route.to(inspector::asset),
        "ReadWhoAmI" => route.to(inspector::whoami),
        "ReadTreeNode" => route.to(inspector::tree),
        "ReadTreeBranches" => route.to(inspector::branches),
        "StreamEvents" => route.to(events::events),
        "ListRequests" => route.to(journal::list),
        "ClearRequests" => route.to(journal::clear),
        "StreamRequests" => route.to(journal::stream),
        "PutRealizationScript" => route.to(realization::set_script),
        "ReadRealizationScript" => route.to(realization::read_script),
        "DeleteRealizationScript" => route.to(realization::delete_script),
        "ReadInventoryVirtualMachine" => route.to(inventory::read_virtual_machine),
        "PutInventoryVirtualMachine" => route.to(inventory::put_virtual_machine),
        "DeleteInventoryVirtualMachine" => route.to(inventory::delete_virtual_machine),
        "ReadDeterminism" => route.to(inspector::determinism),
        "CreateFaultRule" => route.to(faults::create),
        "ListFaultRules" => route.to(faults::list),
        "DeleteFaultRules" => route.to(faults::delete_all),
        "DeleteFaultRule" => route.to(faults::delete),
        "Reset" => route.to(state::reset),
        "ListSnapshots" => route.to(state::list),
        "SaveSnapshot" => route.to(state::save),
        "ReadSnapshot" => route.to(state::read),
        "RestoreSnapshot" => route.to(state::restore),
        "DeleteSnapshot" => route.to(state::delete),
        "Export" => route.to(state::export),
        "Import" => route.to(state::import),
        _ => return None,
    })
}
