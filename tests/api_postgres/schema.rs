//! The PostgreSQL migrations themselves, run as SQL on a database of the cluster.

use crate::postgres_cluster::Cluster;

const V1: &str = include_str!("../../migrations/postgres/V1__schema.sql");
const V2: &str = include_str!("../../migrations/postgres/V2__sharded_counts.sql");
const V3: &str = include_str!("../../migrations/postgres/V3__json_checks.sql");

fn insert(id: &str) -> String {
    insert_config(id, "{}")
}

fn insert_config(id: &str, config: &str) -> String {
    format!(
        "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id, config,
             revision, create_time, create_user, last_modified_time, last_modified_user)
         VALUES ('/infra/antrea/traceflows/{id}', '/infra', '{id}', 'AntreaTraceflowConfig',
             'u-{id}', '{config}', 0, 1, 'admin', 1, 'admin')"
    )
}

fn delete(id: &str) -> String {
    format!("DELETE FROM policy_objects WHERE id = '{id}'")
}

/// The counts a database kept in one row per resource type move into the shards, and each
/// connection (one psql each here, so a backend each) counts in its own shard from then on.
#[test]
fn counts_move_into_shards_and_stay_right() {
    let cluster = Cluster::get();
    let url = cluster.new_database();
    let database = url.rsplit('/').next().unwrap();
    let count = || cluster.psql(database, "SELECT count FROM policy_object_counts");
    cluster.psql(database, V1);
    for id in ["a", "b", "c"] {
        cluster.psql(database, &insert(id));
    }
    cluster.psql(database, &delete("b"));
    assert_eq!(count(), "2");

    cluster.psql(database, V2);
    assert_eq!(count(), "2", "the count moved");
    for id in ["d", "e"] {
        cluster.psql(database, &insert(id));
    }
    cluster.psql(database, &delete("a"));
    cluster.psql(database, &delete("d"));
    assert_eq!(count(), "2", "created and deleted through other backends");
    let shards = cluster.psql(
        database,
        "SELECT count(*) > 1 FROM policy_object_count_shards",
    );
    assert_eq!(shards, "t", "the counts are spread over shards");
    assert_eq!(
        cluster.psql(database, "SELECT count(*) FROM policy_objects"),
        count(),
        "the view agrees with the rows"
    );
}

/// The JSON columns' CHECKs, once they only validate the text (`json`, not `jsonb`), still
/// let nothing else in, and an object's `display_name` is still read from its config.
#[test]
fn json_checks_refuse_what_is_not_json() {
    let cluster = Cluster::get();
    let url = cluster.new_database();
    let database = url.rsplit('/').next().unwrap();
    for migration in [V1, V2, V3] {
        cluster.psql(database, migration);
    }
    let refused = |sql: &str| {
        let error = cluster
            .try_psql(database, sql)
            .expect_err("a CHECK refuses it");
        assert!(
            error.contains("invalid input syntax for type json"),
            "{error}"
        );
    };
    refused(&insert_config("cut", r#"{"display_name": "#));
    cluster.psql(
        database,
        &insert_config("named", r#"{"display_name": "seen"}"#),
    );
    assert_eq!(
        cluster.psql(
            database,
            "SELECT display_name FROM policy_objects WHERE id = 'named'"
        ),
        "seen"
    );
    let run = |status: &str, observations: &str| {
        format!(
            "INSERT INTO antrea_traceflow_runs (path, id, unique_id, run, started_at, ready_at,
                 status, observations)
             VALUES ('/infra/antrea/traceflows/named', 'named', 'u-named', 1, 1, 1,
                 '{status}', '{observations}')"
        )
    };
    refused(&run("{", "[]"));
    let error = cluster
        .try_psql(database, &run("{}", "{}"))
        .expect_err("observations are an array");
    assert!(error.contains("observations_check"), "{error}");
    cluster.psql(database, &run("{}", "[]"));
    refused("INSERT INTO antrea_traceflow_scripts (id, script) VALUES ('named', 'nope')");
    refused(
        "INSERT INTO policy_object_revisions
             (path, unique_id, revision, operation, object, change_time, change_user)
         VALUES ('/infra/antrea/traceflows/named', 'u-named', 0, 'create', '[', 1, 'admin')",
    );
}
