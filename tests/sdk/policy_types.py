"""Drives objects of many Policy types through VMware's official NSX Python SDK (vcf-nsx).

Usage: python policy_types.py BASE_URL USER PASSWORD

Each type goes through the SDK's own generated client for its path (`Segments`, `Ports`,
`Tier1s`, `Rules`, `Vpcs`, ...), found by the operation's REST metadata (its method and URL
template), as an automation suite would call it: create by PUT, read, replace by `_revision`,
the 412 of a stale `_revision`, PATCH, the list of its collection, and, at the end, delete
(children first). Every answer is read into the SDK's own types. Prints one line per type and
a closing "N passed, M failed"; exits non-zero if any check failed.
"""

import importlib
import re
import sys
import traceback

from sdk_support import as_json, configuration, model
from vmware.vapi.bindings import stub
from vcf.nsx import model_client
from vcf.nsx.model_client import ApiError

API = "/policy/api/v1"

# The types whose `resource_type` NSX spells otherwise than the SDK's class name: the store
# answers NSX's spelling, as nsxlib and terraform-provider-nsxt send it.
NSX_SPELLING = {"QosProfile": "QoSProfile"}

# (URL template below /policy/api/v1, the values of its variables, the SDK type, a body),
# parents before their children.
TYPES = [
    ("/infra/tier-0s/{tier0Id}", ["sdk-t0"], "Tier0", {"ha_mode": "ACTIVE_STANDBY"}),
    ("/infra/tier-0s/{tier0Id}/locale-services/{localeServicesId}", ["sdk-t0", "ls"],
     "LocaleServices", {}),
    ("/infra/tier-1s/{tier1Id}", ["sdk-t1"], "Tier1",
     {"tier0_path": "/infra/tier-0s/sdk-t0", "route_advertisement_types": ["TIER1_CONNECTED"]}),
    ("/infra/tier-1s/{tier1Id}/locale-services/{localeServicesId}", ["sdk-t1", "ls"],
     "LocaleServices", {}),
    ("/infra/tier-1s/{tier1Id}/nat/{natId}/nat-rules/{natRuleId}", ["sdk-t1", "USER", "snat"],
     "PolicyNatRule", {"action": "SNAT", "translated_network": "192.0.2.10"}),
    ("/infra/segments/{segmentId}", ["sdk-seg"], "Segment",
     {"connectivity_path": "/infra/tier-1s/sdk-t1",
      "subnets": [{"gateway_address": "10.10.0.1/24"}]}),
    ("/infra/segments/{segmentId}/ports/{portId}", ["sdk-seg", "p1"], "SegmentPort",
     {"attachment": {"id": "vif-1"}}),
    ("/infra/tier-1s/{tier1Id}/segments/{segmentId}", ["sdk-t1", "t1-seg"], "Segment",
     {"subnets": [{"gateway_address": "10.20.0.1/24"}]}),
    ("/infra/domains/{domainId}", ["sdk-dom"], "Domain", {}),
    ("/infra/domains/{domainId}/groups/{groupId}", ["sdk-dom", "web"], "Group",
     {"expression": [{"resource_type": "Condition", "member_type": "VirtualMachine",
                      "key": "Tag", "operator": "EQUALS", "value": "web"}]}),
    ("/infra/services/{serviceId}", ["sdk-http"], "Service",
     {"service_entries": [{"resource_type": "L4PortSetServiceEntry", "id": "tcp-8080",
                           "l4_protocol": "TCP", "destination_ports": ["8080"]}]}),
    ("/infra/domains/{domainId}/security-policies/{securityPolicyId}", ["sdk-dom", "sp"],
     "SecurityPolicy", {"category": "Application", "sequence_number": 10}),
    ("/infra/domains/{domainId}/security-policies/{securityPolicyId}/rules/{ruleId}",
     ["sdk-dom", "sp", "allow-web"], "Rule",
     {"action": "ALLOW", "source_groups": ["ANY"],
      "destination_groups": ["/infra/domains/sdk-dom/groups/web"],
      "services": ["/infra/services/sdk-http"], "sequence_number": 1}),
    ("/infra/domains/{domainId}/gateway-policies/{gatewayPolicyId}", ["sdk-dom", "gp"],
     "GatewayPolicy", {"category": "LocalGatewayRules"}),
    ("/infra/domains/{domainId}/gateway-policies/{gatewayPolicyId}/rules/{ruleId}",
     ["sdk-dom", "gp", "drop-all"], "Rule",
     {"action": "DROP", "scope": ["/infra/tier-1s/sdk-t1"]}),
    ("/infra/context-profiles/{contextProfileId}", ["sdk-cp"], "PolicyContextProfile",
     {"attributes": [{"key": "APP_ID", "value": ["SSL"], "datatype": "STRING"}]}),
    ("/infra/ip-pools/{ipPoolId}", ["sdk-pool"], "IpAddressPool", {}),
    ("/infra/ip-blocks/{ipBlockId}", ["sdk-block"], "IpAddressBlock", {"cidr": "10.128.0.0/16"}),
    ("/infra/dhcp-server-configs/{dhcpServerConfigId}", ["sdk-dhcp"], "DhcpServerConfig",
     {"server_address": "10.10.0.2/24", "lease_time": 86400}),
    ("/infra/dhcp-relay-configs/{dhcpRelayConfigId}", ["sdk-relay"], "DhcpRelayConfig",
     {"server_addresses": ["10.0.0.53"]}),
    ("/infra/dns-forwarder-zones/{dnsForwarderZoneId}", ["sdk-dns"], "PolicyDnsForwarderZone",
     {"upstream_servers": ["10.0.0.53"], "dns_domain_names": ["example.test"]}),
    ("/infra/lb-pools/{lbPoolId}", ["sdk-lb-pool"], "LBPool",
     {"members": [{"ip_address": "10.10.0.10", "port": "80"}], "algorithm": "ROUND_ROBIN"}),
    ("/infra/lb-services/{lbServiceId}", ["sdk-lb"], "LBService",
     {"connectivity_path": "/infra/tier-1s/sdk-t1", "size": "SMALL"}),
    ("/infra/lb-virtual-servers/{lbVirtualServerId}", ["sdk-vs"], "LBVirtualServer",
     {"ip_address": "192.0.2.80", "ports": ["80"], "pool_path": "/infra/lb-pools/sdk-lb-pool",
      "lb_service_path": "/infra/lb-services/sdk-lb",
      "application_profile_path": "/infra/lb-app-profiles/default-http-lb-app-profile"}),
    ("/infra/ip-discovery-profiles/{ipDiscoveryProfileId}", ["sdk-ipd"], "IPDiscoveryProfile",
     {}),
    ("/infra/mac-discovery-profiles/{macDiscoveryProfileId}", ["sdk-macd"],
     "MacDiscoveryProfile", {"mac_learning_enabled": True}),
    ("/infra/segment-security-profiles/{segmentSecurityProfileId}", ["sdk-ssp"],
     "SegmentSecurityProfile", {"bpdu_filter_enable": True}),
    ("/infra/spoofguard-profiles/{spoofguardProfileId}", ["sdk-sg"], "SpoofGuardProfile",
     {"address_binding_allowlist": True}),
    ("/infra/qos-profiles/{qosProfileId}", ["sdk-qos"], "QosProfile", {"class_of_service": 2}),
    ("/orgs/{orgId}/projects/{projectId}", ["default", "sdk-proj"], "Project",
     {"short_id": "sdkproj"}),
    ("/orgs/{orgId}/projects/{projectId}/infra/segments/{segmentId}",
     ["default", "sdk-proj", "proj-seg"], "Segment",
     {"subnets": [{"gateway_address": "10.30.0.1/24"}]}),
    ("/orgs/{orgId}/projects/{projectId}/vpcs/{vpcId}", ["default", "sdk-proj", "vpc1"], "Vpc",
     {"private_ips": ["172.16.0.0/16"]}),
    ("/orgs/{orgId}/projects/{projectId}/vpcs/{vpcId}/subnets/{subnetId}",
     ["default", "sdk-proj", "vpc1", "subnet1"], "VpcSubnet",
     {"ip_addresses": ["172.16.1.0/24"], "access_mode": "Private"}),
]


def concrete(template, ids):
    values = iter(ids)
    return re.sub(r"\{[^}]+\}", lambda _: next(values), template)


def operations_of(template):
    """The SDK client class that serves `template`'s objects, and its operation names by
    (HTTP method, URL template): the module and class follow the path's literal segments
    (`/infra/segments/{s}/ports/{p}` is `...infra.segments_client.Ports`), the operations
    come from the stub's REST metadata."""
    literals = [part for part in (API + template).split("/")[1:] if not part.startswith("{")]
    module = importlib.import_module(
        "vcf.nsx." + ".".join(literals[:-1]).replace("-", "_") + "_client")
    name = "".join(word.capitalize() for word in literals[-1].split("-"))
    captured = {}
    original = stub.ApiInterfaceStub.__init__

    def record(self, iface_name, config, operations, rest_metadata=None, is_vapi_rest=True):
        captured.update(rest_metadata or {})

    stub.ApiInterfaceStub.__init__ = record
    try:
        getattr(module, "_" + name + "Stub")(None)
    finally:
        stub.ApiInterfaceStub.__init__ = original
    by_rest = {(rest.http_method, rest._url_template): (op, rest) for op, rest in captured.items()}
    return getattr(module, name), by_rest


def api_error_of(call):
    try:
        call()
    except ApiError as error:
        return error.get_status_code(), error.to_dict()
    raise AssertionError("expected the SDK to raise ApiError")


class Driver:
    def __init__(self, base_url, user, password):
        self.configuration = configuration(base_url, user, password)

    def client(self, template):
        cls, ops = operations_of(template)
        client = cls(self.configuration)
        full = API + template
        collection = full.rsplit("/", 1)[0]

        # The metadata's operation names keep acronyms' case (`..._LB_pool`); the client's
        # methods are all lower case.
        methods = {name.lower(): name for name in dir(client) if not name.startswith("_")}

        def op(method, url):
            """The operation as a call of (the path's values, the body if any): arguments by
            name, as the SDK's order of them is its own."""
            found = ops.get((method, url))
            assert found, f"the SDK has no {method} {url} in {cls.__name__}"
            name, rest = found
            function = getattr(client, methods[name.lower()])
            variables = re.findall(r"\{([^}]+)\}", url)
            parameter_of = {variable: parameter
                            for parameter, variable in rest._path_variables.items()}

            def call(*values):
                ids, body = (values[:-1], values[-1]) if rest.request_body_parameter else (
                    values, None)
                arguments = {parameter_of[v]: value for v, value in zip(variables, ids)}
                if body is not None:
                    arguments[rest.request_body_parameter] = body
                return function(**arguments)

            return call

        return {
            "put": op("PUT", full), "patch": op("PATCH", full), "get": op("GET", full),
            "delete": op("DELETE", full), "list": op("GET", collection),
        }

    def cycle(self, template, ids, type_name, body):
        calls = self.client(template)
        path = concrete(template, ids)
        cls = getattr(model_client, type_name)

        created = calls["put"](*ids, model(type_name, body))
        assert isinstance(created, cls), type(created)
        created = as_json(created)
        assert created["path"] == path, created
        assert created["id"] == ids[-1] and created["_revision"] == 0, created
        assert created["resource_type"] == NSX_SPELLING.get(type_name, type_name), created
        for field, value in body.items():
            assert field in created, (field, created)

        read = calls["get"](*ids)
        assert isinstance(read, cls), type(read)
        assert as_json(read) == created, (as_json(read), created)

        replacement = dict(created, description="replaced")
        replaced = as_json(calls["put"](*ids, model(type_name, replacement)))
        assert replaced["_revision"] == 1 and replaced["description"] == "replaced", replaced

        stale = dict(created, description="stale")
        status, error = api_error_of(lambda: calls["put"](*ids, model(type_name, stale)))
        assert status == 412 and error["error_code"] == 206, (status, error)

        calls["patch"](*ids, model(type_name, {"display_name": "patched"}))
        patched = as_json(calls["get"](*ids))
        assert patched["_revision"] == 2 and patched["display_name"] == "patched", patched
        assert patched["description"] == "replaced", patched

        listed = calls["list"](*ids[:-1])
        paths = [as_json(result)["path"] for result in listed.results]
        assert path in paths and listed.result_count >= 1, (path, paths)
        return calls, ids

    def run(self):
        passed, failed, made = 0, 0, []
        for template, ids, type_name, body in TYPES:
            label = f"{type_name} at {concrete(template, ids)}"
            try:
                made.append(self.cycle(template, ids, type_name, body))
                passed += 1
                print(f"ok   {label}")
            except Exception:  # noqa: BLE001 - every failure is reported, then counted
                failed += 1
                print(f"FAIL {label}\n{traceback.format_exc()}")
        try:
            for calls, ids in reversed(made):
                calls["delete"](*ids)
                status, error = api_error_of(lambda: calls["get"](*ids))
                assert status == 404 and error["error_code"] == 600, (status, error)
            passed += 1
            print("ok   every object deleted, children first")
        except Exception:  # noqa: BLE001
            failed += 1
            print(f"FAIL deletes\n{traceback.format_exc()}")
        print(f"sdk types: {len(TYPES)} types, {passed} passed, {failed} failed")
        return failed == 0


if __name__ == "__main__":
    base_url, user, password = sys.argv[1:4]
    sys.exit(0 if Driver(base_url, user, password).run() else 1)
