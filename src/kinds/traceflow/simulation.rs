//! The simulated result of a traceflow run: deterministic and plausible, derived from the
//! config alone (and a seed). The README's "Simulated results" states these rules.
//!
//! - A cluster has [`NODES`] nodes. A pod runs on the node its external id hashes to within
//!   its cluster, so the same pod is always on the same node, and every node has a stable
//!   id: a UUID derived from the cluster's id and the node's number.
//! - The packet leaves the source pod through SpoofGuard, then the distributed firewall, on
//!   the source's node.
//! - With a destination pod on the same node, it is delivered there by forwarding.
//! - With a destination pod on another node, it is routed and forwarded off the source's
//!   node, received by forwarding on the destination's node, passes its firewall, and is
//!   delivered.
//! - Without a destination pod (only an address), it is routed and forwarded off the
//!   source's node, and leaves the observed path there.
//! - The status is SUCCEEDED. The first observation is at the run's start; each hop takes
//!   1 to 3 ms, so timestamps never decrease.

use super::config::TraceflowConfig;
use super::results::{ComponentType, Observation, ObservationType, RunResult, TraceflowStatus};
use crate::domain::values::Ranged;

/// Nodes in every simulated cluster.
pub const NODES: u64 = 3;

/// The result of a run of `object` that started at `started` (epoch ms).
pub fn simulate(config: &TraceflowConfig, started: i64, seed: u64) -> RunResult {
    let fields = config.fields();
    let cluster = fields
        .container_cluster_id
        .as_ref()
        .map_or("", |c| c.as_str());
    let source = fields
        .source_external_id
        .as_ref()
        .map_or("", |s| s.as_str());
    let source_node = node_of(cluster, source);
    let destination_node = fields
        .destination_external_id
        .as_deref()
        .filter(|pod| !pod.is_empty())
        .map(|pod| node_of(cluster, pod));

    use ComponentType::*;
    use ObservationType::*;
    let mut hops = vec![
        (
            ANTREA_SPOOFGUARD,
            source_node,
            AntreaTraceflowObservationForwarded,
        ),
        (ANTREA_DFW, source_node, AntreaTraceflowObservationForwarded),
    ];
    let leave_source = [
        (
            ANTREA_ROUTING,
            source_node,
            AntreaTraceflowObservationForwarded,
        ),
        (
            ANTREA_FORWARDING,
            source_node,
            AntreaTraceflowObservationForwarded,
        ),
    ];
    match destination_node {
        Some(node) if node == source_node => {
            hops.push((ANTREA_FORWARDING, node, AntreaTraceflowObservationDelivered));
        }
        Some(node) => {
            hops.extend(leave_source);
            hops.push((ANTREA_FORWARDING, node, AntreaTraceflowObservationReceived));
            hops.push((ANTREA_DFW, node, AntreaTraceflowObservationForwarded));
            hops.push((ANTREA_FORWARDING, node, AntreaTraceflowObservationDelivered));
        }
        None => hops.extend(leave_source),
    }

    let mut time = u64::try_from(started).unwrap_or(0);
    // The hops' times depend on the path (its pods) and the seed; each node's id is made once.
    let destination = fields.destination_external_id.as_deref().unwrap_or("");
    let path_key = hash(&[
        cluster.as_bytes(),
        source.as_bytes(),
        destination.as_bytes(),
    ]);
    let node_ids: Vec<String> = (0..NODES).map(|node| node_id(cluster, node)).collect();
    let observations = hops
        .into_iter()
        .enumerate()
        .map(|(hop, (component, node, observation))| {
            if hop > 0 {
                let draw = hash(&[
                    &seed.to_be_bytes(),
                    &path_key.to_be_bytes(),
                    &hop.to_be_bytes(),
                ]);
                time += 1 + draw % 3;
            }
            Observation {
                component_type: Some(component),
                container_node_id: Some(node_ids[node as usize].clone()),
                observation_type: observation,
                timestamp: Ranged::new(time),
            }
        })
        .collect();
    RunResult {
        status: TraceflowStatus::succeeded(),
        observations,
    }
}

/// The node (0 to NODES - 1) a pod runs on.
fn node_of(cluster: &str, pod: &str) -> u64 {
    hash(&[b"pod", cluster.as_bytes(), pod.as_bytes()]) % NODES
}

/// A node's stable id: UUID-shaped, from the cluster's id and the node's number.
fn node_id(cluster: &str, node: u64) -> String {
    let high = hash(&[b"node", cluster.as_bytes(), &node.to_be_bytes()]);
    let low = hash(&[b"node-low", cluster.as_bytes(), &node.to_be_bytes()]);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A stable hash of the parts, each length-prefixed so that no two lists collide: FNV-1a,
/// then a SplitMix64 finish so that nearby inputs spread. Fixed for good: the simulation's
/// node ids and times must stay the same across versions.
fn hash(parts: &[&[u8]]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut state = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            state = (state ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
    };
    for part in parts {
        feed(&(part.len() as u64).to_be_bytes());
        feed(part);
    }
    let mut z = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::traceflow::testing::traceflow_config;
    use serde_json::json;

    fn kinds(result: &RunResult) -> Vec<(ComponentType, ObservationType)> {
        result
            .observations
            .iter()
            .map(|o| (o.component_type.unwrap(), o.observation_type))
            .collect()
    }

    /// Finds a destination pod on the source's node, or on another, for `cluster`.
    fn pod_on(cluster: &str, source: &str, same_node: bool) -> String {
        (0..)
            .map(|n| format!("pod-{n}"))
            .find(|pod| (node_of(cluster, pod) == node_of(cluster, source)) == same_node)
            .unwrap()
    }

    /// The invariants every simulated run keeps, whatever the config.
    fn check_invariants(result: &RunResult, started: i64, with_destination: bool) {
        use ComponentType::*;
        use ObservationType::*;
        assert_eq!(result.status, TraceflowStatus::succeeded());
        let kinds = kinds(result);
        assert_eq!(
            kinds[0],
            (ANTREA_SPOOFGUARD, AntreaTraceflowObservationForwarded)
        );
        if with_destination {
            assert_eq!(
                kinds.last(),
                Some(&(ANTREA_FORWARDING, AntreaTraceflowObservationDelivered))
            );
        }
        let times: Vec<u64> = result
            .observations
            .iter()
            .map(|o| o.timestamp.unwrap().get())
            .collect();
        assert!(times[0] >= started as u64, "not before the run started");
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }

    #[test]
    fn every_kind_of_path_keeps_the_invariants() {
        let cluster = "c1";
        let started = 1_000;
        for (destination, with_destination, observations) in [
            (Some(pod_on(cluster, "a", true)), true, 3),
            (Some(pod_on(cluster, "a", false)), true, 7),
            (None, false, 4),
        ] {
            let mut body = json!({"container_cluster_id": cluster, "source_external_id": "a"});
            if let Some(destination) = &destination {
                body["destination_external_id"] = json!(destination);
            }
            let result = simulate(&traceflow_config(body), started, 0);
            check_invariants(&result, started, with_destination);
            assert_eq!(result.observations.len(), observations, "{destination:?}");
        }
    }

    #[test]
    fn a_path_across_nodes_is_received_on_the_second_node() {
        let destination = pod_on("c1", "a", false);
        let body = json!({"container_cluster_id": "c1", "source_external_id": "a",
                          "destination_external_id": destination});
        let result = simulate(&traceflow_config(body), 0, 0);
        let nodes: Vec<&str> = result
            .observations
            .iter()
            .map(|o| o.container_node_id.as_deref().unwrap())
            .collect();
        let received = result
            .observations
            .iter()
            .position(|o| o.observation_type == ObservationType::AntreaTraceflowObservationReceived)
            .unwrap();
        assert_ne!(nodes[0], nodes[received], "received on another node");
        assert!(nodes[received..].iter().all(|n| *n == nodes[received]));
    }

    #[test]
    fn the_same_config_gives_the_same_nodes_and_a_seed_the_same_times() {
        let body = json!({"container_cluster_id": "c9", "source_external_id": "a",
                          "destination_external_id": "b"});
        let first = simulate(&traceflow_config(body.clone()), 500, 7);
        assert_eq!(first, simulate(&traceflow_config(body), 500, 7));
        let node = first.observations[0].container_node_id.clone().unwrap();
        assert!(uuid::Uuid::parse_str(&node).is_ok(), "{node}");
    }
}
