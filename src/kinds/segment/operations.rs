//! The handler of the segment's own operation, bound by operation id to the table that
//! writes it, `operations.toml`.

use actix_web::{web, Route};

use crate::http::operation::{Operation, Table};
use crate::http::operations::CORE;

static TABLE: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

/// Every operation of the segment's own.
pub fn operations() -> Vec<Operation> {
    TABLE.operations(handler)
}

fn handler(id: &str) -> Option<Route> {
    let route = web::route();
    Some(match id {
        "ReadSegmentState" => route.to(super::state),
        _ => return None,
    })
}
