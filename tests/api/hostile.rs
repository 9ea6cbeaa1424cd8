//! Hostile input through the real server: generated and mutated bodies, ids and query strings
//! (deep nesting, huge numbers, invalid UTF-8, duplicate keys, random bytes). Every answer is
//! a 200 or a 4xx ApiError, the server stays up, and no 4xx changes anything stored.

use crate::support::{seed_request, Client, Server, Workspace, TRACEFLOWS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

/// Cases per test; thousands in all across the file.
const CASES: u32 = 1000;

/// One server, and a runtime to drive requests from proptest.
struct Harness {
    _workspace: Workspace,
    server: Server,
    runtime: tokio::runtime::Runtime,
}

/// The objects a hostile request could target.
const TARGETS: [&str; 2] = ["t14", "existing"];

/// What any change to the store would move, as the API serves it: every object (with its
/// revision and times), and the history of the targets.
#[derive(Debug, PartialEq)]
struct StoreState {
    objects: Vec<Value>,
    histories: Vec<Vec<Value>>,
}

impl Harness {
    fn start() -> Self {
        let workspace = Workspace::new();
        let server = workspace.start();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let harness = Self {
            _workspace: workspace,
            server,
            runtime,
        };
        // Something to damage.
        for id in TARGETS {
            let reply = harness.block_on(harness.client().put(id, &seed_request()));
            assert_eq!(reply.status, 200);
        }
        harness
    }

    fn client(&self) -> &Client {
        &self.server.client
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn state(&self) -> StoreState {
        self.block_on(async {
            let client = self.client();
            let mut histories = Vec::new();
            for id in TARGETS {
                histories.push(
                    client
                        .history(&format!("/infra/antrea/traceflows/{id}"))
                        .await,
                );
            }
            StoreState {
                objects: client.all_objects().await,
                histories,
            }
        })
    }

    /// Sends one request; checks the answer's shape, and that a 4xx changed nothing.
    fn check(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<(), TestCaseError> {
        self.check_as(method, path, body, "application/json")
    }

    /// [`Harness::check`] with a body of another media type.
    fn check_as(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Result<(), TestCaseError> {
        let before = self.state();
        let client = self.client();
        let mut request = client.request(method, path);
        if let Some(body) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = self.block_on(request.send());
        let response = response.map_err(|err| TestCaseError::fail(format!("no answer: {err}")))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let text = self.block_on(response.text()).unwrap_or_default();
        prop_assert!(
            status == 200 || (400..500).contains(&status),
            "{method} {path}: {status} {text}"
        );
        prop_assert_eq!(content_type.as_deref(), Some("application/json"));
        if status != 200 {
            let error: Value = serde_json::from_str(&text)
                .map_err(|_| TestCaseError::fail(format!("not an ApiError: {text}")))?;
            prop_assert!(error["error_code"].is_u64() && error["error_message"].is_string());
            prop_assert_eq!(
                self.state(),
                before,
                "{} {} answered {} yet changed the store",
                method,
                path,
                status
            );
        }
        Ok(())
    }

    fn assert_alive(&self) {
        let reply = self.block_on(self.client().get("t14"));
        assert_eq!(reply.status, 200, "the server still serves");
    }
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Names the contract knows, so that generated objects often hit real fields.
const FIELD_NAMES: &[&str] = &[
    "container_cluster_id",
    "source_external_id",
    "destination_external_id",
    "packet",
    "is_transient",
    "timeout",
    "display_name",
    "description",
    "tags",
    "scope",
    "tag",
    "resourceType",
    "transportType",
    "frameSize",
    "payload",
    "ipHeader",
    "ipv6Header",
    "transportHeader",
    "srcIp",
    "dstIp",
    "protocol",
    "ttl",
    "flags",
    "nextHeader",
    "hopLimit",
    "icmpEchoRequestHeader",
    "tcpHeader",
    "udpHeader",
    "id",
    "sequence",
    "srcPort",
    "dstPort",
    "tcpFlags",
    "resource_type",
    "_revision",
    "path",
    "unique_id",
    "_create_user",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(FIELD_NAMES).prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0i64..300).prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        ".{0,20}".prop_map(Value::String),
        proptest::sample::select(vec![
            "172.16.14.11",
            "::1",
            "UNICAST",
            "FIELDS_PACKET_DATA",
            ""
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// The seed with a few fields replaced, removed or added at any depth.
fn mutated_seed() -> impl Strategy<Value = Value> {
    let edit = (
        proptest::sample::select(vec![
            "",
            "/packet",
            "/packet/ipHeader",
            "/packet/transportHeader",
            "/packet/transportHeader/icmpEchoRequestHeader",
        ]),
        key(),
        prop::option::of(json_value()),
    );
    prop::collection::vec(edit, 1..4).prop_map(|edits| {
        let mut body = seed_request();
        for (parent, key, value) in edits {
            if let Some(Value::Object(object)) = body.pointer_mut(parent) {
                match value {
                    Some(value) => object.insert(key, value),
                    None => object.remove(&key),
                };
            }
        }
        body
    })
}

/// Bytes a well-behaved client would never send.
fn raw_body() -> impl Strategy<Value = Vec<u8>> {
    let seed = seed_request().to_string().into_bytes();
    let byte_edits =
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..12).prop_map(
            move |edits| {
                let mut bytes = seed.clone();
                for (at, byte, kind) in edits {
                    let i = at.index(bytes.len().max(1));
                    match kind {
                        0 if !bytes.is_empty() => bytes[i] = byte,
                        1 => bytes.insert(i.min(bytes.len()), byte),
                        _ if !bytes.is_empty() => {
                            bytes.remove(i);
                        }
                        _ => {}
                    }
                }
                bytes
            },
        );
    prop_oneof![
        byte_edits,
        prop::collection::vec(any::<u8>(), 0..200),
        (1usize..200_000).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
        (1usize..5_000).prop_map(|depth| {
            let open = "{\"packet\":".repeat(depth);
            format!("{open}1{}", "}".repeat(depth)).into_bytes()
        }),
        proptest::sample::select(vec![
            "1e999999", "-1e999999", "123456789012345678901234567890", "1.0e-400", "-0",
            "18446744073709551616", "9223372036854775808",
        ])
        .prop_map(|n| {
            format!(r#"{{"container_cluster_id":"c","source_external_id":"s","timeout":{n},"packet":{{"ipHeader":{{"ttl":{n}}}}}}}"#)
                .into_bytes()
        }),
        (key(), ".{0,10}", ".{0,10}").prop_map(|(key, a, b)| {
            format!(
                r#"{{"container_cluster_id":"c","source_external_id":"s","{key}":{},"{key}":{}}}"#,
                json!(a),
                json!(b)
            )
            .into_bytes()
        }),
        Just(b"\xff\xfe{\"a\":1}".to_vec()),
        Just(b"{\"container_cluster_id\":\"\xc3\x28\",\"source_external_id\":\"s\"}".to_vec()),
    ]
}

fn write_method() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["PUT", "PATCH"])
}

fn target_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("t14".to_owned()),
        Just("existing".to_owned()),
        "[a-z0-9]{1,8}",
    ]
}

#[test]
fn generated_json_bodies() {
    let harness = Harness::start();
    let cases = (
        write_method(),
        target_id(),
        prop_oneof![json_value(), mutated_seed()],
    );
    runner()
        .run(&cases, |(method, id, body)| {
            let body = serde_json::to_vec(&body).unwrap();
            harness.check(method, &format!("{TRACEFLOWS}/{id}"), Some(body))
        })
        .unwrap();
    harness.assert_alive();
}

#[test]
fn raw_and_malformed_bodies() {
    let harness = Harness::start();
    runner()
        .run(
            &(write_method(), target_id(), raw_body()),
            |(method, id, body)| harness.check(method, &format!("{TRACEFLOWS}/{id}"), Some(body)),
        )
        .unwrap();
    harness.assert_alive();
}

/// Any bytes as the id segment, percent-encoded, with every method.
#[test]
fn hostile_ids() {
    let harness = Harness::start();
    let id = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|bytes| {
            percent_encoding::percent_encode(&bytes, percent_encoding::NON_ALPHANUMERIC).to_string()
        }),
        proptest::sample::select(vec![
            "%", "%2", "%zz", ".", "..", "%2e%2e", "%00", "%C0%AF", "t14%2F..", "%20"
        ])
        .prop_map(str::to_owned),
        "\\PC{1,300}".prop_map(|s| percent_encoding::utf8_percent_encode(
            &s,
            percent_encoding::NON_ALPHANUMERIC
        )
        .to_string()),
    ];
    let method = proptest::sample::select(vec!["GET", "PUT", "PATCH", "DELETE", "POST"]);
    runner()
        .run(&(method, id), |(method, id)| {
            let path = format!("{TRACEFLOWS}/{id}");
            let body =
                matches!(method, "PUT" | "PATCH").then(|| seed_request().to_string().into_bytes());
            if method == "DELETE" && (id == "t14" || id == "existing") {
                return Ok(()); // a legitimate delete is allowed to change the store
            }
            harness.check(method, &path, body)
        })
        .unwrap();
    harness.assert_alive();
}

/// Query strings for the list, the history extension and retrace.
#[test]
fn hostile_query_strings() {
    let harness = Harness::start();
    let name = prop_oneof![
        proptest::sample::select(vec![
            "page_size",
            "sort_by",
            "sort_ascending",
            "cursor",
            "included_fields",
            "include_mark_for_delete_objects",
            "path",
            "action",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ];
    let value = prop_oneof![
        ".{0,40}",
        number().prop_map(|n| n.to_string()),
        proptest::sample::select(vec![
            "true",
            "false",
            "id",
            "display_name",
            "retrace",
            "eyJzIjoiaWQifQ",
            "%ff",
            "%"
        ])
        .prop_map(str::to_owned),
    ];
    let pairs = prop::collection::vec((name, value), 0..5);
    let endpoint = proptest::sample::select(vec![
        ("GET", TRACEFLOWS.to_owned()),
        ("GET", "/store/v1/revisions".to_owned()),
        ("POST", format!("{TRACEFLOWS}/t14")),
    ]);
    runner()
        .run(&(endpoint, pairs), |((method, path), pairs)| {
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| {
                    let encode = |s: &str| {
                        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                            .to_string()
                    };
                    format!("{}={}", encode(k), encode(v))
                })
                .collect();
            harness.check(method, &format!("{path}?{}", query.join("&")), None)
        })
        .unwrap();
    harness.assert_alive();
}

/// The extension's bodies (scripts, fault rules, imports) and snapshot names, generated: a
/// 200 or a 4xx ApiError, never a 5xx, and the server stays up. Fault rules that were
/// accepted are cleared after each case, so that none of them injects into the next.
#[test]
fn generated_bodies_for_the_extension() {
    let harness = Harness::start();
    let endpoint = proptest::sample::select(vec!["script", "fault", "import", "snapshot"]);
    let cases = (
        endpoint,
        target_id(),
        json_value(),
        prop::collection::vec(json_value(), 0..4),
    );
    runner()
        .run(&cases, |(endpoint, id, body, lines)| {
            let json = serde_json::to_vec(&body).unwrap();
            let outcome = match endpoint {
                "script" => harness.check(
                    "PUT",
                    &format!("/store/v1/traceflows/{id}/result"),
                    Some(json),
                ),
                "fault" => harness.check("POST", "/store/v1/faults", Some(json)),
                "import" => {
                    let ndjson: Vec<String> = lines.iter().map(Value::to_string).collect();
                    let body = ndjson.join("\n").into_bytes();
                    harness.check_as(
                        "POST",
                        "/store/v1/import",
                        Some(body),
                        "application/x-ndjson",
                    )
                }
                _ => harness.check("PUT", &format!("/store/v1/snapshots/{id}"), None),
            };
            let client = harness.client();
            let cleared =
                harness.block_on(client.send(client.request("DELETE", "/store/v1/faults")));
            prop_assert_eq!(cleared.status, 200);
            outcome
        })
        .unwrap();
    harness.assert_alive();
}

/// Objects of catalog types that generated bodies aim at, with a valid body of each: nested
/// structs, lists of them, and polymorphic members chosen by `resource_type`.
fn catalog_seeds() -> Vec<(&'static str, Value)> {
    vec![
        (
            "/policy/api/v1/infra/segments/web",
            json!({"subnets": [{"gateway_address": "10.0.0.1/24", "dhcp_ranges": ["10.0.0.10-10.0.0.20"]}],
                   "admin_state": "UP", "advanced_config": {"connectivity": "ON"},
                   "tags": [{"scope": "tier", "tag": "web"}]}),
        ),
        (
            "/policy/api/v1/infra/domains/default/groups/web",
            json!({"expression": [{"resource_type": "Condition", "member_type": "VirtualMachine",
                   "key": "Tag", "operator": "EQUALS", "value": "web"},
                  {"resource_type": "ConjunctionOperator", "conjunction_operator": "OR"},
                  {"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.0/24"]}]}),
        ),
        (
            "/policy/api/v1/infra/services/http",
            json!({"service_entries": [{"resource_type": "L4PortSetServiceEntry", "id": "tcp-80",
                   "l4_protocol": "TCP", "destination_ports": ["80"]}]}),
        ),
        (
            "/policy/api/v1/infra/tier-1s/t1",
            json!({"route_advertisement_types": ["TIER1_CONNECTED"], "ha_mode": "ACTIVE_STANDBY",
                   "route_advertisement_rules": [{"name": "r", "action": "PERMIT", "subnets": ["10.0.0.0/8"]}]}),
        ),
    ]
}

/// A catalog seed with a few members replaced, removed or added at any depth.
fn mutated_catalog_body() -> impl Strategy<Value = (usize, Value)> {
    let seeds = catalog_seeds();
    let count = seeds.len();
    let edit = (
        proptest::sample::select(vec![
            "",
            "/subnets/0",
            "/advanced_config",
            "/tags/0",
            "/expression/0",
            "/expression/2",
            "/service_entries/0",
            "/route_advertisement_rules/0",
        ]),
        prop_oneof![
            3 => proptest::sample::select(vec![
                "resource_type", "id", "display_name", "admin_state", "gateway_address",
                "connectivity", "member_type", "operator", "value", "ip_addresses",
                "l4_protocol", "destination_ports", "ha_mode", "action", "subnets", "tags",
                "scope", "expression", "service_entries", "_revision", "path",
            ])
            .prop_map(str::to_owned),
            1 => ".{0,12}",
        ],
        prop::option::of(json_value()),
    );
    (0..count, prop::collection::vec(edit, 1..4)).prop_map(move |(index, edits)| {
        let mut body = seeds[index].1.clone();
        for (parent, key, value) in edits {
            if let Some(Value::Object(object)) = body.pointer_mut(parent) {
                match value {
                    Some(value) => object.insert(key, value),
                    None => object.remove(&key),
                };
            }
        }
        (index, body)
    })
}

/// Generated bodies of catalog types, PUT and PATCH, on stored objects and on new paths:
/// every answer is a 200 or NSX's 4xx, a refusal names a field and changes nothing.
#[test]
fn generated_bodies_of_catalog_types() {
    let harness = Harness::start();
    let seeds = catalog_seeds();
    let client = harness.client();
    let call = |method: &str, path: &str, body: &Value| {
        let request = client
            .request(method, path)
            .header("content-type", "application/json")
            .body(body.to_string());
        harness.block_on(client.send(request))
    };
    for (path, body) in &seeds {
        assert_eq!(call("PUT", path, body).status, 200, "{path}");
    }
    let state = || -> Vec<Value> {
        harness.block_on(async {
            let mut state = Vec::new();
            for (path, _) in &seeds {
                state.push(client.get_path(path).await.body);
                let stored = path.trim_start_matches("/policy/api/v1");
                state.push(Value::Array(client.history(stored).await));
            }
            state.push(client.get_path("/policy/api/v1/infra/segments").await.body);
            state
        })
    };
    let cases = (write_method(), any::<bool>(), mutated_catalog_body());
    runner()
        .run(&cases, |(method, fresh, (index, body))| {
            let stored = seeds[index].0;
            let path = if fresh {
                format!("{}-new", stored)
            } else {
                stored.to_owned()
            };
            let before = state();
            let reply = call(method, &path, &body);
            prop_assert!(
                reply.status == 200 || (400..500).contains(&reply.status),
                "{method} {path}: {reply:#?}"
            );
            if reply.status != 200 {
                prop_assert!(reply.body["error_code"].is_u64(), "{reply:#?}");
                if reply.status == 400 && reply.body["error_code"] == 255 {
                    let message = reply.body["error_message"].as_str().unwrap_or_default();
                    prop_assert!(
                        message.starts_with("Field level validation errors: {"),
                        "{message}"
                    );
                }
                prop_assert_eq!(state(), before, "{} {} changed the store", method, path);
            } else if !fresh {
                // Put the stored object back, so that the next case starts from the seed.
                let current = client_revision(&harness, stored);
                let mut seed = seeds[index].1.clone();
                seed["_revision"] = json!(current);
                let reply = call("PUT", stored, &seed);
                prop_assert_eq!(reply.status, 200, "{:#?}", reply);
            }
            Ok(())
        })
        .unwrap();
    harness.assert_alive();
}

fn client_revision(harness: &Harness, path: &str) -> i64 {
    harness.block_on(harness.client().get_path(path)).body["_revision"]
        .as_i64()
        .expect("a stored object has a revision")
}
