use super::*;

/// The route serving `path`, if one does.
fn route_at(path: &str) -> Option<RouteId> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    catalog().locate(&segments).map(|found| found.route)
}

fn at(path: &str) -> RouteId {
    route_at(path).unwrap_or_else(|| panic!("{path} is not served"))
}

fn located(path: &str) -> Option<&'static ObjectRoute> {
    route_at(path).map(|route| catalog().route(route))
}

fn type_of(path: &str) -> &'static str {
    let route = located(path).unwrap_or_else(|| panic!("{path} is not served"));
    &catalog().type_def(route.object_type).name
}

#[test]
fn wrappers_carry_their_objects_under_the_sdks_keys_and_find_their_routes() {
    let catalog = catalog();
    let traceflows = catalog.wrapper("ChildAntreaTraceflowConfig").unwrap();
    assert_eq!(traceflows.key, "TraceflowConfig");
    let group = catalog.wrapper("ChildGroup").unwrap();
    assert_eq!(group.key, "Group");
    let domain = at("/infra/domains/d");
    let route = catalog
        .child_route(Some(domain), group.object_type)
        .unwrap();
    assert_eq!(
        catalog.child_path(route, "/infra/domains/d", "web"),
        "/infra/domains/d/groups/web"
    );
    let route = catalog
        .child_route(Some(at("/infra")), traceflows.object_type)
        .unwrap();
    assert_eq!(
        catalog.child_path(route, "/infra", "t1"),
        "/infra/antrea/traceflows/t1"
    );
    // A subtype is carried in its base's wrapper, and lives at its base's route.
    let entry = catalog.type_named("L4PortSetServiceEntry").unwrap();
    assert_eq!(catalog.wrapper_of(entry).unwrap().name, "ChildServiceEntry");
    assert!(catalog
        .child_route(Some(at("/infra/services/s")), entry)
        .is_some());
    // Orgs hang from no route; a project's Infra is a container below its project.
    let org = catalog.wrapper("ChildOrg").unwrap();
    let route = catalog.child_route(None, org.object_type).unwrap();
    assert_eq!(catalog.child_path(route, "", "default"), "/orgs/default");
    let infra = catalog.wrapper("ChildInfra").unwrap();
    let route = catalog
        .child_route(Some(at("/orgs/o/projects/p")), infra.object_type)
        .unwrap();
    assert!(catalog.route(route).container);
    assert_eq!(
        catalog.child_path(route, "/orgs/o/projects/p", "infra"),
        "/orgs/o/projects/p/infra"
    );
}

#[test]
fn a_type_is_named_as_nsx_spells_it_and_found_by_the_sdks_class_name_too() {
    let catalog = catalog();
    let qos = catalog.type_named("QoSProfile").unwrap();
    assert_eq!(catalog.type_named("QosProfile"), Some(qos));
    assert_eq!(catalog.type_def(qos).name, "QoSProfile");
    for name in ["ChildQoSProfile", "ChildQosProfile"] {
        let wrapper = catalog.wrapper(name).unwrap();
        assert_eq!(
            (wrapper.name.as_str(), wrapper.key.as_str()),
            ("ChildQoSProfile", "QoSProfile")
        );
    }
    assert_eq!(catalog.wrapper_of(qos).unwrap().name, "ChildQoSProfile");
    // A wrapper whose key is another name than its type's (not its spelling) is no alias.
    let traceflow = catalog.type_named("AntreaTraceflowConfig").unwrap();
    assert_eq!(catalog.type_def(traceflow).name, "AntreaTraceflowConfig");
}

#[test]
fn a_route_knows_whether_children_go_with_its_objects() {
    let configured = |path: &str| catalog().route(at(path)).takes_children;
    assert!(configured("/infra/segments/s"), "its security-config");
    assert!(
        configured("/infra/tier-0s/t0/locale-services/ls"),
        "its multicast"
    );
    assert!(!configured("/infra/domains/d/groups/g"));
    assert!(!configured("/infra/domains/d"), "its groups can be deleted");
    assert!(catalog()
        .route(at("/infra/segments/s/security-config"))
        .methods
        .configuration());
}

#[test]
fn a_collection_is_counted_by_type_where_its_types_are_its_own() {
    let catalog = catalog();
    assert_eq!(
        catalog.counted_types(at("/infra/segments/s")),
        Some(vec!["Segment"])
    );
    let entries = catalog
        .counted_types(at("/infra/services/s/service-entries/e"))
        .unwrap();
    assert!(entries.contains(&"L4PortSetServiceEntry"), "{entries:?}");
    assert_eq!(catalog.counted_types(at("/infra/ip-pools/p")), None);
    assert_eq!(catalog.counted_types(at("/infra/manager-ip-pools/p")), None);
}

#[test]
fn the_embedded_catalog_parses_and_names_its_sdk() {
    assert_eq!(catalog().sdk, "vcf-nsx==9.1.1.0");
    assert!(catalog().routes().count() > 400);
}

#[test]
fn paths_find_their_types_across_the_tree() {
    for (path, expected) in [
        ("/infra", "Infra"),
        ("/infra/segments/s1", "Segment"),
        ("/infra/segments/s1/ports/p1", "SegmentPort"),
        ("/infra/tier-1s/t1", "Tier1"),
        ("/infra/tier-1s/t1/locale-services/ls", "LocaleServices"),
        ("/infra/domains/default/groups/g", "Group"),
        ("/infra/domains/default/security-policies/p/rules/r", "Rule"),
        ("/infra/antrea/traceflows/t14", "AntreaTraceflowConfig"),
        ("/orgs/default", "Org"),
        ("/orgs/default/projects/p1", "Project"),
        ("/orgs/default/projects/p1/vpcs/v1", "Vpc"),
        ("/orgs/default/projects/p1/vpcs/v1/subnets/s", "VpcSubnet"),
        (
            "/orgs/default/projects/p1/infra/domains/default/groups/g",
            "Group",
        ),
    ] {
        assert_eq!(type_of(path), expected, "{path}");
    }
    assert!(located("/infra/no-such-thing/x").is_none());
    assert!(
        located("/infra/segments").is_none(),
        "a collection is not an object"
    );
}

#[test]
fn a_literal_segment_wins_over_an_id() {
    assert_eq!(
        type_of("/infra/segments/service-segments/s"),
        "ServiceSegment"
    );
    assert_eq!(type_of("/infra/segments/service-segments"), "Segment");
}

#[test]
fn collections_are_found_by_the_route_they_list() {
    let listed = |path: &str| {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        catalog().locate_collection(&segments).map(|route| {
            catalog()
                .type_def(catalog().route(route).object_type)
                .name
                .as_str()
        })
    };
    assert_eq!(listed("/infra/segments"), Some("Segment"));
    assert_eq!(listed("/infra/domains/d/groups"), Some("Group"));
    assert_eq!(
        listed("/orgs/default/projects/p/vpcs/v/subnets"),
        Some("VpcSubnet")
    );
    assert_eq!(
        listed("/infra/segments/s"),
        None,
        "an object is not a collection"
    );
    assert_eq!(listed("/infra/nothing"), None);
}

#[test]
fn parents_are_the_nearest_route_above() {
    let depth = |path: &str| {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let found = catalog().locate(&segments).unwrap();
        catalog().parent_depth(found.route)
    };
    assert_eq!(depth("/infra/antrea/traceflows/t"), Some(1));
    assert_eq!(depth("/infra/domains/d/groups/g"), Some(3));
    assert_eq!(depth("/infra/tier-1s/t1/dns-forwarder"), Some(3));
    assert_eq!(depth("/orgs/default/projects/p/vpcs/v"), Some(4));
    assert_eq!(depth("/infra"), None);
    assert_eq!(depth("/orgs/default"), None);
}

#[test]
fn polymorphic_types_know_their_subtypes() {
    let catalog = catalog();
    let entry = catalog.type_def(catalog.type_named("ServiceEntry").unwrap());
    let names: Vec<&str> = entry
        .subtypes
        .iter()
        .map(|id| catalog.type_def(*id).name.as_str())
        .collect();
    assert!(names.contains(&"L4PortSetServiceEntry"), "{names:?}");
    let group = catalog.type_def(catalog.type_named("Group").unwrap());
    assert!(matches!(
        group.fields["expression"].ty,
        FieldType::List(ref items) if matches!(**items, FieldType::Polymorphic(_))
    ));
}

#[test]
fn an_undefined_type_is_refused() {
    let text = r#"{"sdk": "x", "objects": [{"path": "/infra", "type": "Nope", "methods": ["GET"]}], "children": {}, "types": {}}"#;
    assert!(Catalog::parse(text).unwrap_err().contains("Nope"));
}

#[test]
fn embedded_lists_are_the_list_fields_whose_items_have_a_route_below() {
    let catalog = catalog();
    let mut found: Vec<(String, String)> = catalog
        .routes()
        .flat_map(|(_, route)| {
            route.embedded.iter().map(|embedded| {
                let child = &catalog.route(embedded.route).template;
                (
                    format!("{}.{}", route.template, embedded.field),
                    child.clone(),
                )
            })
        })
        .collect();
    found.sort();
    let policy = "/infra/domains/{domainId}/security-policies/{securityPolicyId}";
    assert!(found.contains(&(
        format!("{policy}.rules"),
        format!("{policy}/rules/{{ruleId}}")
    )));
    let service = "/infra/services/{serviceId}";
    assert!(found.contains(&(
        format!("{service}.service_entries"),
        format!("{service}/service-entries/{{serviceEntryId}}")
    )));
    // A group's expressions may be conditions as much as objects of four routes: no list.
    assert!(
        !found.iter().any(|(field, _)| field.contains("/groups/")),
        "{found:?}"
    );
    // The `Infra` roots are trees: their `domains` are no embedded list.
    assert!(
        !found
            .iter()
            .any(|(field, _)| field.ends_with("infra.domains")),
        "{found:?}"
    );
    assert_eq!(found.len(), 23, "{found:#?}");
    let rule = catalog.route(at("/infra/domains/d/security-policies/p/rules/r"));
    assert!(rule.goes_with_parent);
    assert!(
        catalog
            .route(at("/infra/domains/d/security-policies/p"))
            .takes_children
    );
}
