//! Every validation class of a body: a 400 that names the field by its dotted path,
//! and nothing stored.

use crate::support::{minimal, seed_request, Workspace};
use serde_json::{json, Value};

/// The seed request with `pointer` (a JSON pointer) set to `value`.
fn with(pointer: &str, value: Value) -> Value {
    let mut body = seed_request();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut body
    } else {
        body.pointer_mut(parent).unwrap()
    };
    target[key] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = seed_request();
    body.as_object_mut().unwrap().remove(field);
    body
}

fn long(chars: usize) -> Value {
    json!("é".repeat(chars))
}

/// (case, body, the field the message must name)
fn invalid_bodies() -> Vec<(&'static str, Value, &'static str)> {
    let tags = |n: usize| json!(vec![json!({"scope": "s", "tag": "t"}); n]);
    vec![
        (
            "missing required",
            without("container_cluster_id"),
            "container_cluster_id",
        ),
        (
            "missing required",
            without("source_external_id"),
            "source_external_id",
        ),
        (
            "null required",
            with("/source_external_id", Value::Null),
            "source_external_id",
        ),
        (
            "empty required",
            with("/container_cluster_id", json!("")),
            "container_cluster_id",
        ),
        (
            "wrong type",
            with("/container_cluster_id", json!(7)),
            "container_cluster_id",
        ),
        (
            "wrong type",
            with("/is_transient", json!("yes")),
            "is_transient",
        ),
        ("wrong type", with("/packet", json!([])), "packet"),
        (
            "wrong type",
            with("/packet/frameSize", json!("255")),
            "packet.frameSize",
        ),
        ("wrong type", with("/tags", json!({})), "tags"),
        (
            "bad enum",
            with("/packet/resourceType", json!("RAW")),
            "packet.resourceType",
        ),
        (
            "bad enum",
            with("/packet/transportType", json!("unicast")),
            "packet.transportType",
        ),
        (
            "range",
            with("/packet/ipHeader/ttl", json!(256)),
            "packet.ipHeader.ttl",
        ),
        (
            "range",
            with("/packet/ipHeader/protocol", json!(-1)),
            "packet.ipHeader.protocol",
        ),
        (
            "range",
            with("/packet/ipHeader/flags", json!(8)),
            "packet.ipHeader.flags",
        ),
        (
            "range",
            with("/packet/frameSize", json!(-5)),
            "packet.frameSize",
        ),
        (
            "range",
            with("/packet/frameSize", json!(1.5)),
            "packet.frameSize",
        ),
        ("range", with("/timeout", json!(-1)), "timeout"),
        ("range", with("/timeout", json!(1e300)), "timeout"),
        (
            "range",
            with(
                "/packet/transportHeader",
                json!({"tcpHeader": {"srcPort": 65536}}),
            ),
            "packet.transportHeader.tcpHeader.srcPort",
        ),
        (
            "range",
            with(
                "/packet/transportHeader",
                json!({"tcpHeader": {"tcpFlags": 512}}),
            ),
            "packet.transportHeader.tcpHeader.tcpFlags",
        ),
        (
            "range",
            with(
                "/packet/transportHeader/icmpEchoRequestHeader/sequence",
                json!(70000),
            ),
            "packet.transportHeader.icmpEchoRequestHeader.sequence",
        ),
        (
            "address",
            with("/packet/ipHeader/srcIp", json!("172.16.14")),
            "packet.ipHeader.srcIp",
        ),
        (
            "address",
            with("/packet/ipHeader/dstIp", json!("::1")),
            "packet.ipHeader.dstIp",
        ),
        (
            "address",
            with("/packet", json!({"ipv6Header": {"srcIp": "10.0.0.1"}})),
            "packet.ipv6Header.srcIp",
        ),
        (
            "range",
            with("/packet", json!({"ipv6Header": {"hopLimit": 300}})),
            "packet.ipv6Header.hopLimit",
        ),
        ("length", with("/display_name", long(256)), "display_name"),
        ("length", with("/description", long(1025)), "description"),
        (
            "length",
            with("/tags", json!([{"scope": "s".repeat(129)}])),
            "tags[0].scope",
        ),
        (
            "length",
            with("/tags", json!([{}, {"tag": "t".repeat(257)}])),
            "tags[1].tag",
        ),
        ("count", with("/tags", tags(31)), "tags"),
        ("unknown field", with("/colour", json!("red")), "colour"),
        (
            "unknown field",
            with("/packet/ipHeader/srcIP", json!("1.2.3.4")),
            "packet.ipHeader.srcIP",
        ),
        (
            "unknown field",
            with("/tags", json!([{"key": "k"}])),
            "tags[0].key",
        ),
        (
            "unknown field",
            with(
                "/packet/transportHeader/icmpEchoRequestHeader/seq",
                json!(1),
            ),
            "packet.transportHeader.icmpEchoRequestHeader.seq",
        ),
        ("disagreeing id", with("/id", json!("t15")), "id"),
        ("disagreeing id", with("/id", json!(14)), "id"),
        (
            "disagreeing type",
            with("/resource_type", json!("Segment")),
            "resource_type",
        ),
        ("bad revision", with("/_revision", json!("0")), "_revision"),
        (
            "combination",
            with("/packet/ipv6Header", json!({"hopLimit": 3})),
            "packet.ipv6Header",
        ),
        (
            "combination",
            with("/packet/transportHeader/udpHeader", json!({"srcPort": 53})),
            "packet.transportHeader",
        ),
        ("not an object", json!(["container_cluster_id"]), "."),
    ]
}

#[tokio::test]
async fn every_invalid_body_is_a_400_naming_the_field_and_changes_nothing() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    for (n, (case, body, field)) in invalid_bodies().into_iter().enumerate() {
        let id = format!("bad-{n}");
        for method in ["PUT", "PATCH"] {
            let reply = client.json(method, &id, &body).await;
            assert_eq!(reply.status, 400, "{method} {case}: {body}\n{reply:#?}");
            let message = reply.field_error(field);
            assert!(message.ends_with('}'), "{message}");
        }
        client.get(&id).await.api_error(404, 600);
    }

    assert!(client.all_objects().await.is_empty(), "nothing stored");
    for n in 0..invalid_bodies().len() {
        let path = format!("/infra/antrea/traceflows/bad-{n}");
        assert!(
            client.history(&path).await.is_empty(),
            "{path} has no history"
        );
    }
}

#[tokio::test]
async fn messages_say_what_is_wrong() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let cases = [
        (
            with("/packet/ipHeader/ttl", json!(300)),
            "{packet.ipHeader.ttl: must be an integer between 0 and 255}",
        ),
        (
            without("container_cluster_id"),
            "{container_cluster_id: required property not present}",
        ),
        (
            with("/display_name", long(256)),
            "{display_name: must be at most 255 characters long}",
        ),
        (
            with("/packet/ipHeader/srcIp", json!("1.2.3")),
            "{packet.ipHeader.srcIp: must be an IPv4 address}",
        ),
    ];
    for (body, expected) in cases {
        let message = client.put("t", &body).await.api_error(400, 255);
        assert_eq!(
            message,
            format!("Field level validation errors: {expected}")
        );
    }
}

#[tokio::test]
async fn the_edges_of_every_range_are_accepted() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let mut body = seed_request();
    body["packet"] = json!({
        "resourceType": "BINARY_PACKET_DATA", "transportType": "BROADCAST", "frameSize": 0,
        "ipv6Header": {"srcIp": "fe80::1", "dstIp": "2001:db8::2", "nextHeader": 255,
                       "hopLimit": 0},
        "transportHeader": {"tcpHeader": {"srcPort": 0, "dstPort": 65535, "tcpFlags": 511}}
    });
    body["display_name"] = long(255);
    body["description"] = long(1024);
    body["tags"] = json!(vec![
        json!({"scope": "s".repeat(128), "tag": "t".repeat(256)});
        30
    ]);
    body["is_transient"] = json!(true);
    body["timeout"] = json!(i64::MAX);
    body["destination_external_id"] = json!("");
    let reply = server.client.put("edges", &body).await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    for field in [
        "packet",
        "display_name",
        "description",
        "tags",
        "is_transient",
        "timeout",
    ] {
        assert_eq!(reply.body[field], body[field], "{field}");
    }
    // Null is "not given".
    let mut nulls = minimal();
    nulls["description"] = Value::Null;
    nulls["packet"] = Value::Null;
    let reply = server.client.put("nulls", &nulls).await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    assert!(reply.body.get("description").is_none() && reply.body.get("packet").is_none());
}
