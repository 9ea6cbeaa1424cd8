//! The PostgreSQL migrations themselves, run as SQL on a database of the cluster.

use crate::postgres_cluster::Cluster;

const V1: &str = include_str!("../../migrations/postgres/V1__schema.sql");
const V2: &str = include_str!("../../migrations/postgres/V2__sharded_counts.sql");

fn insert(id: &str) -> String {
    format!(
        "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id, config,
             revision, create_time, create_user, last_modified_time, last_modified_user)
         VALUES ('/infra/antrea/traceflows/{id}', '/infra', '{id}', 'AntreaTraceflowConfig',
             'u-{id}', '{{}}', 0, 1, 'admin', 1, 'admin')"
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
