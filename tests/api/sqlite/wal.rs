//! The WAL file stays near its bound (`storage.sqlite.wal_checkpoint_pages`) while writes keep
//! coming: the writer waits for the checkpointer now and then, so the WAL starts over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::support::{minimal, Workspace};

const WRITERS: usize = 16;
const CREATES_EACH: usize = 200;
/// Each create writes its object twice (its row and its history row).
const FILLER_BYTES: usize = 1_000;
/// The bound configured: 64 pages of 4 KiB.
const BOUND_PAGES: u64 = 64;

#[tokio::test]
async fn the_wal_stays_near_its_bound_under_sustained_concurrent_writes() {
    let workspace = Workspace::new();
    workspace.configure(&format!(
        "[storage.sqlite]\nwal_checkpoint_pages = {BOUND_PAGES}\n"
    ));
    let server = workspace.start();
    let wal = workspace.wal();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut largest = 0;
            while !stop.load(Ordering::Relaxed) {
                largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
                std::thread::sleep(Duration::from_millis(2));
            }
            largest
        })
    };
    let filler = "x".repeat(FILLER_BYTES);
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let client = server.client.clone();
        let filler = filler.clone();
        writers.spawn(async move {
            for n in 0..CREATES_EACH {
                let mut body = minimal();
                body["description"] = json!(filler);
                let reply = client.put(&format!("w{w}-{n}"), &body).await;
                assert_eq!(reply.status, 200, "{reply:#?}");
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let largest = sampler.join().unwrap();

    // Without starting over, the WAL would hold at least every filler twice.
    let written = (WRITERS * CREATES_EACH * FILLER_BYTES * 2) as u64;
    // Past the bound by what commits until a pass has found it and another has copied
    // everything: a few batches, some 1.5 MB in a debug build (60 MB when the WAL never
    // starts over).
    let allowed = 16 * BOUND_PAGES * 4096;
    assert!(
        written > allowed,
        "the test writes more than the WAL may hold"
    );
    assert!(
        largest <= allowed,
        "the WAL grew to {largest} bytes, past {allowed} ({written} bytes written)"
    );
    assert_eq!(
        server.client.all_objects().await.len(),
        WRITERS * CREATES_EACH
    );
}
