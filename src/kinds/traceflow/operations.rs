//! The handlers of the traceflow's operations, bound by operation id to the table that
//! writes them, `operations.toml`: NSX's (its CRUD, served by the generic handlers; its
//! status, observations and retrace) and the store's (earlier runs, result scripts).

use actix_web::{web, Route};

use super::http as traceflows;
use crate::http::objects;
use crate::http::operation::{Operation, Table};
use crate::http::operations::CORE;

static TABLE: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

/// Every operation of the traceflow.
pub fn operations() -> Vec<Operation> {
    TABLE.operations(handler)
}

fn handler(id: &str) -> Option<Route> {
    let route = web::route();
    Some(match id {
        "ListAntreaTraceflowConfigs" => route.to(objects::read),
        "ReadAntreaTraceflowStatus" => route.to(traceflows::status),
        "ListAntreaTraceflowObservations" => route.to(traceflows::observations),
        "ReadAntreaTraceflowConfig" => route.to(objects::read),
        "UpdateAntreaTraceflowConfig" => route.to(objects::write),
        "PatchAntreaTraceflowConfig" => route.to(objects::write),
        "DeleteAntreaTraceflowConfig" => route.to(objects::delete),
        "RestartAntreaTraceflow" => route.to(traceflows::retrace),
        "ListEarlierTraceflowRuns" => route.to(traceflows::earlier_runs),
        "PutTraceflowScript" => route.to(traceflows::put_script),
        "ReadTraceflowScript" => route.to(traceflows::get_script),
        "DeleteTraceflowScript" => route.to(traceflows::delete_script),
        _ => return None,
    })
}
