//! What only several instances on one PostgreSQL database can show: concurrent creates and
//! `_revision` races spread over instances, a write read back at once through another, a
//! change committed after a later one told in its place by the events stream, a SIGKILL of
//! one instance under load with nothing acknowledged lost, and PostgreSQL itself stopped and
//! started under load: 503/99 while it is down, healed by itself after.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::events::Events;
use crate::postgres_cluster::Cluster;
use crate::support::{minimal, Client, Server, Workspace, TRACEFLOWS};

const INSTANCES: usize = 3;

fn instances(workspace: &Workspace) -> Vec<Server> {
    (0..INSTANCES).map(|_| workspace.start()).collect()
}

#[tokio::test]
async fn concurrent_creates_of_one_id_through_different_instances_give_one_200() {
    let workspace = Workspace::new();
    let servers = instances(&workspace);
    let mut creates = tokio::task::JoinSet::new();
    for round in 0..20 {
        for server in &servers {
            let client = server.client.clone();
            creates.spawn(async move {
                let id = format!("shared-{round}");
                (id.clone(), client.put(&id, &minimal()).await)
            });
        }
    }
    let mut answers: HashMap<String, Vec<u16>> = HashMap::new();
    while let Some(done) = creates.join_next().await {
        let (id, reply) = done.unwrap();
        if reply.status == 400 {
            assert_eq!(reply.body["error_code"], 500127, "{reply:#?}");
        }
        answers.entry(id).or_default().push(reply.status);
    }
    for (id, mut statuses) in answers {
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400, 400], "{id}");
    }
    workspace.check_storage();
}

#[tokio::test]
async fn a_revision_race_over_instances_has_one_winner() {
    let workspace = Workspace::new();
    let servers = instances(&workspace);
    for round in 0..10 {
        let id = format!("race-{round}");
        assert_eq!(servers[0].client.put(&id, &minimal()).await.status, 200);
        let mut replaces = tokio::task::JoinSet::new();
        for (n, server) in servers.iter().enumerate() {
            let client = server.client.clone();
            let id = id.clone();
            replaces.spawn(async move {
                let mut body = minimal();
                body["_revision"] = json!(0);
                body["description"] = json!(format!("instance {n}"));
                client.put(&id, &body).await
            });
        }
        let mut statuses = Vec::new();
        let mut winner = None;
        while let Some(done) = replaces.join_next().await {
            let reply = done.unwrap();
            if reply.status == 200 {
                winner = Some(reply.body["description"].clone());
            } else {
                reply.api_error(412, 206);
            }
            statuses.push(reply.status);
        }
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412, 412], "{id}");
        // Every instance reads the winner's write, at revision 1.
        for server in &servers {
            let read = server.client.get(&id).await;
            assert_eq!(read.body["_revision"], 1);
            assert_eq!(Some(read.body["description"].clone()), winner);
        }
    }
}

#[tokio::test]
async fn a_write_reads_back_at_once_through_another_instance() {
    let workspace = Workspace::new();
    let servers = instances(&workspace);
    for n in 0..30 {
        let (writer, reader) = (
            &servers[n % INSTANCES].client,
            &servers[(n + 1) % INSTANCES].client,
        );
        let id = format!("read-back-{}", n % 5);
        let mut body = minimal();
        body["description"] = json!(format!("write {n}"));
        let current = reader.get(&id).await;
        if current.status == 200 {
            body["_revision"] = current.body["_revision"].clone();
        }
        let written = writer.put(&id, &body).await;
        assert_eq!(written.status, 200, "{written:#?}");
        let read = reader.get(&id).await;
        assert_eq!(
            read.body,
            written.body,
            "instance {} reads what {} wrote",
            (n + 1) % INSTANCES,
            n % INSTANCES
        );
        // The list and the history agree too.
        let listed = reader.get_path(TRACEFLOWS).await;
        let found = listed.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|object| object["id"] == id.as_str())
            .cloned();
        assert_eq!(found, Some(written.body.clone()));
    }
    // A delete through one instance is gone for the others.
    assert_eq!(servers[0].client.delete("read-back-0").await.status, 200);
    for server in &servers[1..] {
        assert_eq!(server.client.get("read-back-0").await.status, 404);
    }
}

/// PATCHes and retraces of one object sent at once through every instance: each lands, one
/// after another. Every PATCH makes a revision of its own, and every PATCH and retrace a
/// run of its own (a write that read the object before another changed it starts over).
#[tokio::test]
async fn concurrent_writes_and_retraces_of_one_object_all_land_one_after_another() {
    const PATCHES: usize = 12;
    const RETRACES: usize = 12;
    let workspace = Workspace::new();
    let servers = instances(&workspace);
    let id = "contended";
    assert_eq!(servers[0].client.put(id, &minimal()).await.status, 200);
    let mut changes = tokio::task::JoinSet::new();
    for n in 0..PATCHES + RETRACES {
        let client = servers[n % INSTANCES].client.clone();
        changes.spawn(async move {
            if n % 2 == 0 {
                let body = json!({"description": format!("patch {n}")});
                client.patch(id, &body).await
            } else {
                let retrace = client.request("POST", &format!("{TRACEFLOWS}/{id}?action=retrace"));
                client.send(retrace).await
            }
        });
    }
    while let Some(done) = changes.join_next().await {
        let reply = done.unwrap();
        assert_eq!(reply.status, 200, "{reply:#?}");
    }
    let read = servers[1].client.get(id).await;
    assert_eq!(read.body["_revision"], PATCHES, "{read:#?}");
    let revisions: Vec<Value> = servers[2]
        .client
        .history(&format!("/infra/antrea/traceflows/{id}"))
        .await
        .iter()
        .map(|record| record["revision"].clone())
        .collect();
    let expected: Vec<Value> = (0..=PATCHES).map(|n| json!(n)).collect();
    assert_eq!(revisions, expected);
    let run = workspace.postgres_sql(&format!(
        "SELECT run FROM antrea_traceflow_runs WHERE id = '{id}'"
    ));
    assert_eq!(run, (1 + PATCHES + RETRACES).to_string(), "one run each");
}

/// A script set through one instance while another creates its traceflow: whichever comes
/// first, the traceflow's run is the script's (the create's run takes it, or the script
/// restarts the run it finds), never the simulated one.
#[tokio::test]
async fn a_script_set_while_its_traceflow_is_created_elsewhere_is_in_its_run() {
    let workspace = Workspace::new();
    let servers = instances(&workspace);
    let script = json!({"status": {"phase": "FAILED", "reason": "dropped by policy"}});
    for round in 0..30 {
        let id = format!("scripted-{round}");
        let creator = &servers[round % INSTANCES].client;
        let scripter = &servers[(round + 1) % INSTANCES].client;
        let script_set = scripter
            .request("PUT", &format!("/store/v1/traceflows/{id}/result"))
            .header("content-type", "application/json")
            .body(script.to_string());
        let body = minimal();
        let (created, scripted) = tokio::join!(creator.put(&id, &body), scripter.send(script_set));
        assert_eq!(created.status, 200, "{created:#?}");
        assert_eq!(scripted.status, 200, "{scripted:#?}");
        let status = servers[(round + 2) % INSTANCES]
            .client
            .get_path(&format!("{TRACEFLOWS}/{id}/status"))
            .await;
        assert_eq!(status.body, script["status"], "{id}");
    }
}

/// GETs that arrive together on one instance are answered from one query for their rows'
/// versions; every one of them, sent after another instance acknowledged a write, sees that
/// write or a later one, never the state it replaced.
#[tokio::test]
async fn gets_asked_together_see_every_write_acknowledged_before_them() {
    let workspace = Workspace::new();
    let servers = instances(&workspace);
    let (writer, reader) = (&servers[0].client, &servers[1].client);
    let ids: Vec<String> = (0..4).map(|n| format!("together-{n}")).collect();
    for id in &ids {
        assert_eq!(writer.put(id, &minimal()).await.status, 200);
    }
    for round in 1..=15 {
        for id in &ids {
            let mut body = minimal();
            body["_revision"] = json!(round - 1);
            body["description"] = json!(format!("round {round}"));
            assert_eq!(writer.put(id, &body).await.status, 200, "{id}");
        }
        // Forty GETs at once, ten for each object: more than one query's worth, so most
        // wait for the next.
        let mut reads = tokio::task::JoinSet::new();
        for n in 0..40 {
            let client = reader.clone();
            let id = ids[n % ids.len()].clone();
            reads.spawn(async move { (id.clone(), client.get(&id).await) });
        }
        while let Some(done) = reads.join_next().await {
            let (id, read) = done.unwrap();
            assert_eq!(read.status, 200, "{id}: {read:#?}");
            assert_eq!(read.body["_revision"], round, "{id} after round {round}");
            assert_eq!(read.body["description"], format!("round {round}"), "{id}");
        }
    }
    // A delete is seen by all of them at once too.
    assert_eq!(writer.delete(&ids[0]).await.status, 200);
    let reads = (0..20).map(|_| reader.get(&ids[0]));
    for read in futures_util::future::join_all(reads).await {
        assert_eq!(read.status, 404);
    }
}

/// Two writes of other instances, held open here on connections of their own: the first to
/// take its transaction id takes the later position and commits first, while the other,
/// the newest transaction, still holds the earlier position. A reader of the events stream
/// tells neither until both have committed, and then both, in position order: the change
/// that committed last is not skipped.
#[tokio::test]
async fn a_change_committed_after_a_later_position_is_told_in_its_place() {
    use sqlx::{Connection, PgConnection};

    async fn begin_with_an_id(url: &str) -> PgConnection {
        let mut conn = PgConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
        sqlx::query("SELECT pg_current_xact_id()")
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    }
    async fn change(conn: &mut PgConnection, path: &str) {
        sqlx::query(
            "INSERT INTO policy_object_revisions
                 (path, unique_id, revision, operation, object, change_time, change_user)
             VALUES ($1, gen_random_uuid()::text, 0, 'create', '{}', 0, 'elsewhere')",
        )
        .bind(path)
        .execute(conn)
        .await
        .unwrap();
    }
    async fn commit(mut conn: PgConnection) {
        sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    }

    let workspace = Workspace::new();
    let server = workspace.start();
    let url = workspace.store();
    let mut live = Events::open(&server.client, "", None).await;

    let mut older = begin_with_an_id(&url).await;
    let mut newest = begin_with_an_id(&url).await;
    change(&mut newest, "/infra/segments/earlier-position").await;
    change(&mut older, "/infra/segments/later-position").await;
    commit(older).await;
    // The later position has committed, the earlier one not yet: nothing may be told.
    live.quiet(Duration::from_millis(600)).await;

    commit(newest).await;
    let told = live.changes(2, Duration::from_secs(10)).await;
    let paths: Vec<&str> = told.iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "/infra/segments/earlier-position",
            "/infra/segments/later-position"
        ]
    );
    live.quiet(Duration::from_millis(300)).await;
}

/// Writers spread over three instances create objects until one instance is killed; the
/// others go on. Every create any instance acknowledged is there, as answered.
#[tokio::test]
async fn killing_one_instance_under_load_loses_nothing_acknowledged() {
    let workspace = Workspace::new();
    let mut servers = instances(&workspace);
    let clients: Vec<Client> = servers.iter().map(|server| server.client.clone()).collect();
    let stop_at = Instant::now() + Duration::from_secs(3);
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..9 {
        let client = clients[w % INSTANCES].clone();
        writers.spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while Instant::now() < stop_at {
                n += 1;
                let id = format!("w{w}-{n}");
                let request = client
                    .request("PUT", &format!("{TRACEFLOWS}/{id}"))
                    .json(&minimal());
                match request.send().await {
                    Ok(response) if response.status() == 200 => {
                        let answered: Value = response.json().await.unwrap();
                        acknowledged.push((id, answered));
                    }
                    Ok(response) => assert_eq!(response.status(), 503, "{id}"),
                    // The killed instance: no answer, nothing promised.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
            acknowledged
        });
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    servers.remove(0).kill();
    let mut acknowledged = Vec::new();
    while let Some(done) = writers.join_next().await {
        acknowledged.extend(done.unwrap());
    }
    assert!(
        acknowledged.len() > 50,
        "the load ran: {}",
        acknowledged.len()
    );
    let survivor = &servers[0].client;
    for (id, answered) in &acknowledged {
        let read = survivor.get(id).await;
        assert_eq!(&read.body, answered, "{id} is there as answered");
    }
    workspace.check_storage();
}

/// PostgreSQL stopped and started under load: while it is down every request answers
/// 503/99 (no hang, no 500), and the instance heals by itself once it is back, every
/// acknowledged write kept.
#[tokio::test]
async fn postgresql_stopped_and_started_under_load_answers_503_then_heals() {
    let cluster = Cluster::private();
    let workspace = Workspace::on(cluster.new_database());
    workspace.configure("[storage.postgres]\nconnect_timeout_ms = 500\n");
    let server = workspace.start();
    let client = server.client.clone();
    assert_eq!(client.put("before", &minimal()).await.status, 200);

    let load = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut last_refused = None;
            for n in 0..400 {
                let id = format!("load-{n}");
                let reply = client.put(&id, &minimal()).await;
                match reply.status {
                    200 => acknowledged.push((n, id, reply.body)),
                    503 => {
                        reply.api_error(503, 99);
                        last_refused = Some(n);
                    }
                    other => panic!("{id}: {other} {reply:#?}"),
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (acknowledged, last_refused)
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.stop();
    // Down: reads and writes are 503/99, quickly.
    let started = Instant::now();
    client.get("before").await.api_error(503, 99);
    client.put("during", &minimal()).await.api_error(503, 99);
    assert!(started.elapsed() < Duration::from_secs(5), "no hang");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    cluster.restart();

    let (acknowledged, last_refused) = load.await.unwrap();
    let last_refused = last_refused.expect("the load met the outage");
    assert!(
        acknowledged.iter().any(|(n, _, _)| *n > last_refused),
        "the load's writes went through again after the outage, by themselves"
    );
    // Healed: writes and reads work again, and nothing acknowledged is missing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.put("after", &minimal()).await.status != 200 {
        assert!(Instant::now() < deadline, "the store did not heal");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(client.get("before").await.status, 200);
    for (_, id, answered) in &acknowledged {
        assert_eq!(&client.get(id).await.body, answered, "{id}");
    }
}

/// Instances started at the same moment on a new database: one migrates under the advisory
/// lock, the others wait for it and find the schema done; every one serves.
#[tokio::test]
async fn instances_starting_together_do_not_race_their_migrations() {
    let workspace = Workspace::new();
    let store = workspace.store();
    let servers: Vec<Server> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..INSTANCES)
            .map(|_| scope.spawn(|| workspace.start()))
            .collect();
        starting
            .into_iter()
            .map(|start| start.join().unwrap())
            .collect()
    });
    for (n, server) in servers.iter().enumerate() {
        let id = format!("from-{n}");
        assert_eq!(server.client.put(&id, &minimal()).await.status, 200);
    }
    let applied = workspace.postgres_sql("SELECT count(*) FROM refinery_schema_history");
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(
        applied,
        shipped.to_string(),
        "each migration applied once ({store})"
    );
}

/// `backup` copies a SQLite file; on PostgreSQL it says to use `pg_dump`.
#[test]
fn backup_points_to_pg_dump() {
    let workspace = Workspace::new();
    let output = std::process::Command::new(crate::support::BIN)
        .args(["backup", "copy.dump", "--database"])
        .arg(workspace.store())
        .current_dir(workspace.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!workspace.path().join("copy.dump").exists());
}
