"""vmware-nsxlib's policy layer (the library OpenStack's NSX plugin writes NSX with),
unchanged, against the store: each check creates objects through nsxlib's resource APIs,
updates them, reads them back and deletes them, as the plugin and its LBaaS and VPNaaS
drivers do.

Usage: python policy_layer.py BASE_URL USER PASSWORD
"""

import logging
import sys

import traceback
import warnings

warnings.filterwarnings("ignore")  # eventlet's deprecation notice, at import
# nsxlib logs every 404 as an error, those its reads of deleted objects expect too; a failed
# check prints its own traceback.
logging.getLogger("vmware_nsxlib").setLevel(logging.CRITICAL)

import requests  # noqa: E402
from vmware_nsxlib.v3 import config  # noqa: E402
from vmware_nsxlib.v3 import exceptions  # noqa: E402
from vmware_nsxlib.v3 import policy  # noqa: E402
from vmware_nsxlib.v3.policy import constants  # noqa: E402
from vmware_nsxlib.v3.policy import lb_defs  # noqa: E402
from vmware_nsxlib.v3.policy import transaction  # noqa: E402

DOMAIN = "default"


def gone(read, *args):
    """Asserts that nsxlib finds nothing where `read(*args)` looks."""
    try:
        found = read(*args)
    except exceptions.ResourceNotFound:
        return
    raise AssertionError(f"still there: {found}")


def ids(objects):
    return sorted(item["id"] for item in objects)


class Driver:
    def __init__(self, base_url, user, password):
        self.base_url, self.credentials = base_url, (user, password)
        settings = config.NsxLibConfig(
            username=user, password=password, nsx_api_managers=[base_url],
            insecure=True, allow_passthrough=True, max_attempts=1, retries=0,
            realization_max_attempts=3, realization_wait_sec=0.2)
        self.nsx = policy.NsxPolicyLib(settings)
        self.lb = self.nsx.load_balancer

    def groups(self, *names):
        for name in names:
            self.nsx.group.create_or_overwrite(
                name, DOMAIN, group_id=name, cond_val=name,
                cond_key=constants.CONDITION_KEY_TAG,
                cond_member_type=constants.CONDITION_MEMBER_PORT)

    def security_policy_with_entries(self):
        comm_map = self.nsx.comm_map
        self.groups("web", "db")
        self.nsx.service.create_or_overwrite(
            "ssh", service_id="ssh", protocol=constants.TCP, dest_ports=["22"])
        entry = comm_map.build_entry
        entries = [
            entry("r1", DOMAIN, "app", entry_id="r1", sequence_number=1,
                  source_groups=["web"], dest_groups=["db"], service_ids=["ssh"]),
            entry("r2", DOMAIN, "app", entry_id="r2", sequence_number=2,
                  source_groups=None, dest_groups=["web"],
                  action=constants.ACTION_DENY),
            entry("r3", DOMAIN, "app", entry_id="r3", sequence_number=3,
                  source_groups=["10.0.0.0/24"], dest_groups=["ANY"],
                  plain_groups=True, ip_protocol="IPV4"),
        ]
        comm_map.create_with_entries("app", DOMAIN, map_id="app", entries=entries,
                                     category=constants.CATEGORY_APPLICATION)
        policy_read = comm_map.get(DOMAIN, "app")
        assert ids(policy_read["rules"]) == ["r1", "r2", "r3"], policy_read
        assert comm_map.get_entry(DOMAIN, "app", "r2")["action"] == "DROP"

        # The plugin's update: the policy's rules replaced by a list (a PUT of the policy).
        replaced = [
            entry("r1", DOMAIN, "app", entry_id="r1", sequence_number=1,
                  source_groups=["db"], dest_groups=["web"], service_ids=["ssh"]),
            entry("r4", DOMAIN, "app", entry_id="r4", sequence_number=4,
                  source_groups=["web"], dest_groups=["web"]),
        ]
        comm_map.update_with_entries(DOMAIN, "app", entries=replaced, name="app2",
                                     category=constants.CATEGORY_APPLICATION)
        policy_read = comm_map.get(DOMAIN, "app")
        assert policy_read["display_name"] == "app2", policy_read
        assert ids(policy_read["rules"]) == ["r1", "r4"], policy_read
        assert comm_map.get_entry(DOMAIN, "app", "r1")["source_groups"] == [
            f"/infra/domains/{DOMAIN}/groups/db"]
        gone(comm_map.get_entry, DOMAIN, "app", "r2")

        # The same inside a transaction: a tree of the policy and its rules.
        with transaction.NsxPolicyTransaction():
            comm_map.update_with_entries(
                DOMAIN, "app", category=constants.CATEGORY_APPLICATION,
                entries=[entry("r5", DOMAIN, "app", entry_id="r5", sequence_number=5,
                               source_groups=["db"], dest_groups=["db"])])
        assert ids(comm_map.get(DOMAIN, "app")["rules"]) == ["r5"]

        # One rule at a time.
        comm_map.create_entry("r6", DOMAIN, "app", entry_id="r6",
                              source_groups=["web"], dest_groups=["db"])
        comm_map.update_entry(DOMAIN, "app", "r6", action=constants.ACTION_DENY)
        assert comm_map.get_entry(DOMAIN, "app", "r6")["action"] == "DROP"
        assert ids(comm_map.get(DOMAIN, "app")["rules"]) == ["r5", "r6"]
        comm_map.delete_entry(DOMAIN, "app", "r6")
        assert ids(comm_map.get(DOMAIN, "app")["rules"]) == ["r5"]

        # The policy goes with its rules.
        comm_map.delete(DOMAIN, "app")
        gone(comm_map.get, DOMAIN, "app")
        gone(comm_map.get_entry, DOMAIN, "app", "r5")
        self.nsx.service.delete("ssh")
        for name in ("web", "db"):
            self.nsx.group.delete(DOMAIN, name)

    def gateway_policy_with_entries(self):
        gateway_policy = self.nsx.gateway_policy
        self.nsx.tier1.create_or_overwrite("t1", tier1_id="gw-t1")
        self.groups("edge")
        scope = ["/infra/tier-1s/gw-t1"]
        entry = gateway_policy.build_entry
        gateway_policy.create_with_entries(
            "edge", DOMAIN, map_id="edge", category=constants.CATEGORY_LOCAL_GW,
            entries=[entry("g1", DOMAIN, "edge", entry_id="g1", sequence_number=1,
                           source_groups=["edge"], dest_groups=["edge"], scope=scope)])
        read = gateway_policy.get(DOMAIN, "edge")
        assert ids(read["rules"]) == ["g1"] and read["rules"][0]["scope"] == scope, read
        gateway_policy.update_with_entries(
            DOMAIN, "edge", category=constants.CATEGORY_LOCAL_GW,
            entries=[entry("g2", DOMAIN, "edge", entry_id="g2", sequence_number=2,
                           source_groups=["edge"], dest_groups=["edge"], scope=scope)])
        assert ids(gateway_policy.get(DOMAIN, "edge")["rules"]) == ["g2"]
        gateway_policy.delete(DOMAIN, "edge")
        gone(gateway_policy.get, DOMAIN, "edge")
        self.nsx.group.delete(DOMAIN, "edge")
        self.nsx.tier1.delete("gw-t1")

    def services_of_each_kind(self):
        nsx = self.nsx
        nsx.service.create_or_overwrite("l4", service_id="l4", protocol=constants.TCP,
                                        dest_ports=["80", "8000-8080"])
        nsx.service.update("l4", name="l4b", dest_ports=["443"], source_ports=["1000"])
        entry = nsx.service.get("l4")["service_entries"][0]
        assert entry["destination_ports"] == ["443"], entry
        assert entry["resource_type"] == "L4PortSetServiceEntry", entry

        nsx.icmp_service.create_or_overwrite("icmp", service_id="icmp", version=4,
                                             icmp_type=8, icmp_code=0)
        nsx.icmp_service.update("icmp", icmp_type=0)
        assert nsx.icmp_service.get("icmp")["service_entries"][0]["icmp_type"] == 0

        nsx.ip_protocol_service.create_or_overwrite("gre", service_id="gre",
                                                    protocol_number=47)
        nsx.ip_protocol_service.update("gre", protocol_number=50)
        entry = nsx.ip_protocol_service.get("gre")["service_entries"][0]
        assert entry["protocol_number"] == 50, entry

        entries = [
            nsx.service.build_entry("dns", "mixed", "dns", protocol="UDP",
                                    dest_ports=["53"]),
            nsx.icmp_service.build_entry("unreachable", "mixed", "unreachable",
                                         icmp_type=3, icmp_code=1),
            nsx.ip_protocol_service.build_entry("tcp", "mixed", "tcp", protocol_number=6),
        ]
        nsx.mixed_service.create_or_overwrite("mixed", "mixed", entries=entries)
        assert ids(nsx.mixed_service.get("mixed")["service_entries"]) == [
            "dns", "tcp", "unreachable"]
        nsx.mixed_service.update("mixed", name="mixed2", entries=[
            nsx.service.build_entry("dns", "mixed", "dns", protocol="TCP",
                                    dest_ports=["53"])])
        read = nsx.mixed_service.get("mixed")
        assert ids(read["service_entries"]) == ["dns"], read
        assert read["service_entries"][0]["l4_protocol"] == "TCP", read

        for service in ("l4", "icmp", "gre", "mixed"):
            nsx.service.delete(service)
            gone(nsx.service.get, service)

    def ip_pools_with_subnets(self):
        pools = self.nsx.ip_pool
        self.nsx.ip_block.create_or_overwrite("block", ip_block_id="block",
                                              cidr="10.100.0.0/16")
        pools.create_or_overwrite("pool", ip_pool_id="pool")
        pools.allocate_block_subnet("pool", "block", 256, ip_subnet_id="from-block",
                                    auto_assign_gateway=True)
        subnet = pools.get_ip_block_subnet("pool", "from-block")
        assert subnet["resource_type"] == "IpAddressPoolBlockSubnet", subnet
        assert subnet["ip_block_path"] == "/infra/ip-blocks/block", subnet
        assert len(pools.list_block_subnets("pool")) == 1

        pools.create_or_update_static_subnet(
            "pool", "10.200.0.0/24", [{"start": "10.200.0.10", "end": "10.200.0.100"}],
            ip_subnet_id="static")
        ranges = [{"start": "10.200.0.10", "end": "10.200.0.50"},
                  {"start": "10.200.0.60", "end": "10.200.0.90"}]
        pools.create_or_update_static_subnet("pool", "10.200.0.0/24", ranges,
                                             ip_subnet_id="static")
        subnet = pools.get_static_subnet("pool", "static")
        assert subnet["resource_type"] == "IpAddressPoolStaticSubnet", subnet
        assert subnet["allocation_ranges"] == ranges, subnet
        assert len(pools.list_static_subnets("pool")) == 1

        pools.release_static_subnet("pool", "static")
        pools.release_block_subnet("pool", "from-block")
        gone(pools.get_static_subnet, "pool", "static")
        pools.delete("pool")
        self.nsx.ip_block.delete("block")
        gone(pools.get, "pool")

    def load_balancer(self):
        lb = self.lb
        self.nsx.tier1.create_or_overwrite("t1", tier1_id="lb-t1")
        lb.lb_http_profile.create_or_overwrite("http", lb_app_profile_id="http",
                                               http_redirect_to_https=False)
        lb.lb_fast_tcp_profile.create_or_overwrite("tcp", lb_app_profile_id="tcp",
                                                   idle_timeout=1800)
        lb.lb_fast_udp_profile.create_or_overwrite("udp", lb_app_profile_id="udp")
        lb.lb_http_profile.update("http", idle_timeout=30)
        profile = lb.lb_http_profile.get("http")
        assert profile["resource_type"] == "LBHttpProfile", profile
        assert profile["idle_timeout"] == 30, profile

        lb.lb_monitor_profile_http.create_or_overwrite(
            lb_monitor_profile_id="health", name="health", interval=5, timeout=10,
            monitor_port=80, request_url="/health", response_status_codes=[200])
        lb.lb_monitor_profile_http.update("health", request_url="/ready")
        monitor = lb.lb_monitor_profile_http.get("health")
        assert monitor["resource_type"] == "LBHttpMonitorProfile", monitor
        assert monitor["request_url"] == "/ready", monitor
        lb.lb_monitor_profile_tcp.create_or_overwrite(lb_monitor_profile_id="tcp-check",
                                                      name="tcp-check", interval=5)
        lb.lb_monitor_profile_icmp.create_or_overwrite(lb_monitor_profile_id="ping",
                                                       name="ping")

        lb.lb_cookie_persistence_profile.create_or_overwrite(
            "cookie", persistence_profile_id="cookie", cookie_name="JSESSIONID",
            cookie_mode="INSERT")
        lb.lb_cookie_persistence_profile.update("cookie", cookie_mode="REWRITE")
        cookie = lb.lb_cookie_persistence_profile.get("cookie")
        assert cookie["cookie_mode"] == "REWRITE", cookie
        lb.lb_source_ip_persistence_profile.create_or_overwrite(
            "source-ip", persistence_profile_id="source-ip", timeout=300)

        # Octavia's driver gives a member's port as the number Neutron holds.
        lb.lb_pool.create_or_overwrite(
            "pool", lb_pool_id="pool", algorithm="ROUND_ROBIN",
            members=[lb_defs.LBPoolMemberDef("10.1.0.10", port=80, name="m1")],
            active_monitor_paths=["/infra/lb-monitor-profiles/health"],
            snat_translation={"type": "LBSnatAutoMap"})
        lb.lb_pool.create_pool_member_and_add_to_pool("pool", "10.1.0.11", port="80",
                                                      display_name="m2")
        lb.lb_pool.update_pool_member("pool", "10.1.0.11", port="80", weight=5)
        members = lb.lb_pool.get("pool")["members"]
        assert [m["ip_address"] for m in members] == ["10.1.0.10", "10.1.0.11"], members
        assert members[0]["port"] == "80" and members[1]["weight"] == 5, members
        lb.lb_pool.remove_pool_member("pool", "10.1.0.11", port="80")
        assert len(lb.lb_pool.get("pool")["members"]) == 1

        lb.lb_service.create_or_overwrite("lbs", lb_service_id="lbs", size="SMALL",
                                          connectivity_path="/infra/tier-1s/lb-t1")
        rule = lb.virtual_server.build_lb_rule(
            actions=[{"type": "LBSelectPoolAction", "pool_id": "/infra/lb-pools/pool"}],
            display_name="api",
            match_conditions=[{"type": "LBHttpRequestUriCondition", "uri": "/api",
                               "match_type": "STARTS_WITH"}],
            match_strategy="ALL", phase="HTTP_FORWARDING")
        lb.virtual_server.create_or_overwrite(
            "vs", virtual_server_id="vs", ip_address="172.24.4.100", ports=["80"],
            lb_service_id="lbs", pool_id="pool", application_profile_id="http",
            lb_persistence_profile_id="cookie", rules=[rule])
        lb.virtual_server.add_lb_rule(
            "vs", name="deny-post", phase="HTTP_ACCESS",
            actions=[{"type": "LBHttpRejectAction", "reply_status": "403"}],
            match_conditions=[{"type": "LBHttpRequestMethodCondition", "method": "POST"}])
        lb.virtual_server.update_lb_rule(
            "vs", "deny-post", phase="HTTP_ACCESS",
            actions=[{"type": "LBHttpRejectAction", "reply_status": "404"}])
        server = lb.virtual_server.get("vs")
        assert [r["display_name"] for r in server["rules"]] == ["api", "deny-post"], server
        assert server["rules"][0]["actions"][0]["pool_id"] == "/infra/lb-pools/pool"
        assert server["rules"][1]["actions"][0]["reply_status"] == "404", server
        lb.virtual_server.remove_lb_rule("vs", "deny-post")
        lb.virtual_server.update_virtual_server_with_vip("vs", "172.24.4.101")
        server = lb.virtual_server.get("vs")
        assert server["ip_address"] == "172.24.4.101" and len(server["rules"]) == 1, server

        lb.virtual_server.delete("vs")
        lb.lb_service.delete("lbs")
        lb.lb_pool.delete("pool")
        gone(lb.lb_pool.get, "pool")
        lb.lb_cookie_persistence_profile.delete("cookie")
        lb.lb_source_ip_persistence_profile.delete("source-ip")
        for monitor in ("health", "tcp-check", "ping"):
            lb.lb_monitor_profile_http.delete(monitor)
        for profile in ("http", "tcp", "udp"):
            lb.lb_http_profile.delete(profile)
        gone(lb.lb_http_profile.get, "http")
        self.nsx.tier1.delete("lb-t1")

    def dhcp_static_bindings(self):
        bindings = self.nsx.segment_dhcp_static_bindings
        self.nsx.segment.create_or_overwrite("net", segment_id="net")
        bindings.create_or_overwrite_v4(
            "vm1", "net", binding_id="v4", ip_address="10.1.0.50",
            mac_address="fa:16:3e:00:00:02", lease_time=86400,
            options={"option121": {"static_routes": [
                {"network": "169.254.169.254/32", "next_hop": "10.1.0.2"}]}})
        bindings.create_or_overwrite_v4(
            "vm1", "net", binding_id="v4", ip_address="10.1.0.51",
            mac_address="fa:16:3e:00:00:02", lease_time=3600)
        bindings.create_or_overwrite_v6(
            "vm2", "net", binding_id="v6", ip_addresses=["fd00::50"],
            mac_address="fa:16:3e:00:00:03", lease_time=86400)
        v4 = bindings.get("net", "v4")
        assert v4["resource_type"] == "DhcpV4StaticBindingConfig", v4
        assert (v4["ip_address"], v4["lease_time"]) == ("10.1.0.51", 3600), v4
        assert ids(bindings.list("net")) == ["v4", "v6"]
        for binding in ("v4", "v6"):
            bindings.delete("net", binding)
        gone(bindings.get, "net", "v4")
        self.nsx.segment.delete("net")

    def ipsec_sessions(self):
        vpn = self.nsx.ipsec_vpn
        self.nsx.tier1.create_or_overwrite("t1", tier1_id="vpn-t1")
        self.nsx.tier1.create_locale_service("vpn-t1")
        vpn.ike_profile.create_or_overwrite(
            "ike", profile_id="ike", ike_version="IKE_V2",
            encryption_algorithms=["AES_128"], digest_algorithms=["SHA2_256"],
            dh_groups=["GROUP14"], sa_life_time=21600)
        vpn.tunnel_profile.create_or_overwrite(
            "tunnel", profile_id="tunnel", enable_perfect_forward_secrecy=True,
            encryption_algorithms=["AES_GCM_128"], digest_algorithms=[],
            dh_groups=["GROUP14"], sa_life_time=3600)
        vpn.dpd_profile.create_or_overwrite("dpd", profile_id="dpd",
                                            dpd_probe_interval=60, enabled=True)
        vpn.service.create_or_overwrite("vpn", "vpn-t1", vpn_service_id="vpn",
                                        enabled=True)
        vpn.local_endpoint.create_or_overwrite(
            "local", "vpn-t1", "vpn", endpoint_id="local",
            local_address="172.24.4.50", local_id="172.24.4.50")
        rule = vpn.session.build_rule("rule", "rule1", source_cidrs=["10.1.0.0/24"],
                                      destination_cidrs=["192.168.0.0/24"])
        vpn.session.create_or_overwrite(
            "session", "vpn-t1", "vpn", session_id="session", enabled=True,
            peer_address="203.0.113.5", peer_id="203.0.113.5", psk="secret",
            rules=[rule], dpd_profile_id="dpd", ike_profile_id="ike",
            tunnel_profile_id="tunnel", local_endpoint_id="local")
        vpn.session.update("vpn-t1", "vpn", "session", peer_address="203.0.113.6")
        session = vpn.session.get("vpn-t1", "vpn", "session")
        assert session["peer_address"] == "203.0.113.6", session
        assert session["rules"][0]["id"] == "rule1", session
        assert session["resource_type"].endswith("IPSecVpnSession"), session
        vpn.session.delete("vpn-t1", "vpn", "session")
        gone(vpn.session.get, "vpn-t1", "vpn", "session")
        vpn.local_endpoint.delete("vpn-t1", "vpn", "local")
        vpn.service.delete("vpn-t1", "vpn")
        vpn.dpd_profile.delete("dpd")
        vpn.tunnel_profile.delete("tunnel")
        vpn.ike_profile.delete("ike")
        self.nsx.tier1.delete_locale_service("vpn-t1")
        self.nsx.tier1.delete("vpn-t1")

    def nat_rules_in_transactions(self):
        nsx = self.nsx
        nsx.tier1.create_or_overwrite("t1", tier1_id="nat-t1")
        nsx.tier1_nat_rule.create_or_overwrite(
            "snat", "nat-t1", nat_rule_id="snat", action=constants.NAT_ACTION_SNAT,
            source_network="10.0.0.0/24", translated_network="172.24.4.10")
        nsx.tier1_nat_rule.update("nat-t1", "snat", translated_network="172.24.4.11")
        assert nsx.tier1_nat_rule.get("nat-t1", "snat")["translated_network"] == \
            "172.24.4.11"
        # A new gateway and rules of two gateways, in one tree.
        with transaction.NsxPolicyTransaction():
            nsx.tier1.create_or_overwrite("t1b", tier1_id="nat-t1b")
            nsx.tier1_nat_rule.create_or_overwrite(
                "snat", "nat-t1b", nat_rule_id="snat", action=constants.NAT_ACTION_SNAT,
                source_network="10.1.0.0/24", translated_network="172.24.4.30")
            nsx.tier1_nat_rule.create_or_overwrite(
                "no-snat", "nat-t1", nat_rule_id="no-snat",
                action=constants.NAT_ACTION_NO_SNAT, source_network="10.2.0.0/24")
        rule = nsx.tier1_nat_rule.get("nat-t1b", "snat")
        assert rule["translated_network"] == "172.24.4.30", rule
        assert rule["parent_path"] == "/infra/tier-1s/nat-t1b/nat/USER", rule
        assert ids(nsx.tier1_nat_rule.list("nat-t1")) == ["no-snat", "snat"]
        with transaction.NsxPolicyTransaction():
            nsx.tier1_nat_rule.delete("nat-t1b", "snat")
            nsx.tier1_nat_rule.delete("nat-t1", "no-snat")
            nsx.tier1.delete("nat-t1b")
        gone(nsx.tier1.get, "nat-t1b")
        gone(nsx.tier1_nat_rule.get, "nat-t1", "no-snat")
        nsx.tier1_nat_rule.delete("nat-t1", "snat")
        nsx.tier1.delete("nat-t1")
        gone(nsx.tier1.get, "nat-t1")

    def qos_profiles_and_binding_maps(self):
        qos = self.nsx.qos_profile
        qos.create_or_overwrite(
            "qos", profile_id="qos", class_of_service=2,
            dscp=qos.build_dscp(trusted=False, priority=22),
            shaper_configurations=[
                qos.build_ingress_rate_limiter(average_bandwidth=100, peak_bandwidth=200,
                                               burst_size=1024),
                qos.build_egress_rate_limiter(average_bandwidth=50, peak_bandwidth=60,
                                              burst_size=512, enabled=False)])
        qos.update("qos", name="qos2", description="shaped")
        profile = qos.get("qos")
        assert profile["display_name"] == "qos2", profile
        assert profile["resource_type"] == "QoSProfile", profile
        assert len(profile["shaper_configurations"]) == 2, profile

        self.nsx.segment.create_or_overwrite("qos-net", segment_id="qos-net")
        self.nsx.segment_port.create_or_overwrite("port", "qos-net", port_id="port")
        port_maps = self.nsx.segment_port_qos_profiles
        port_maps.create_or_overwrite("map", "qos-net", "port", qos_profile_id="qos")
        binding = port_maps.get("qos-net", "port")
        assert binding["qos_profile_path"] == "/infra/qos-profiles/qos", binding
        assert binding["resource_type"] == "PortQoSProfileBindingMap", binding
        port_maps.delete("qos-net", "port")
        self.nsx.segment_port.delete("qos-net", "port")
        self.nsx.segment.delete("qos-net")
        qos.delete("qos")
        gone(qos.get, "qos")

    def script_realization(self, intent_path, script):
        """Sets how the store realizes `intent_path` (its extension API)."""
        answer = requests.put(f"{self.base_url}/store/v1/realized-state",
                              params={"intent_path": intent_path}, json=script,
                              auth=self.credentials, timeout=10)
        answer.raise_for_status()

    def search_and_realization(self):
        nsx = self.nsx
        tags = [{"scope": "os-project-id", "tag": "demo"}]
        for n in range(3):
            nsx.segment.create_or_overwrite(f"net{n}", segment_id=f"net{n}", tags=tags)
        # The searches behind every Neutron sync: numeric cursors, paged to the end.
        assert ids(nsx.search_all_by_tags(tags, resource_type="Segment")) == [
            "net0", "net1", "net2"]
        found = nsx.search_all_resource_by_attributes("Segment", display_name="net1")
        assert ids(found) == ["net1"], found
        filters = [{"field_names": "tags.scope", "value": "os-project-id"}]
        filtered = nsx.search_all_resource_by_filters("Segment", filters)
        assert ids(item["primary"] for item in filtered) == ["net0", "net1", "net2"], filtered

        # Realized ids: the manager's search finds no logical switch here, so nsxlib reads
        # the realized entity NSX names for a segment.
        segment = nsx.segment.get("net0")
        switch = nsx.segment.get_realized_logical_switch_id("net0")
        assert switch == segment["unique_id"]
        # And back, as Neutron's plugin goes from a port's logical switch to its network.
        paths = nsx.search_resource_by_realized_id(switch, "RealizedLogicalSwitch")
        assert paths == ["/infra/segments/net0"], paths
        nsx.tier1.create_or_overwrite("router", tier1_id="router")
        router = nsx.tier1.get_realized_id("router", entity_type="RealizedLogicalRouter")
        assert router == nsx.tier1.get("router")["unique_id"], router
        self.lb.lb_service.create_or_overwrite("lbs", lb_service_id="lbs", size="SMALL",
                                               connectivity_path="/infra/tier-1s/router")
        info = self.lb.lb_service.wait_until_realized("lbs")
        assert info["entity_type"] == "LbServiceDto" and info["state"] == "REALIZED", info
        status = self.lb.lb_service.get_status("lbs")
        assert status["results"][0]["service_status"] == "UP", status

        # A realization that fails raises at once, with the alarm's code.
        self.script_realization("/infra/segments/net2",
                                {"state": "ERROR", "error_message": "no edge cluster",
                                 "error_code": 500042})
        try:
            nsx.segment.wait_until_realized("net2")
        except exceptions.RealizationErrorStateError as error:
            assert "no edge cluster" in str(error), error
        else:
            raise AssertionError("a failed realization was taken as realized")

        self.lb.lb_service.delete("lbs")
        nsx.tier1.delete("router")
        for n in range(3):
            nsx.segment.delete(f"net{n}")

    def neutron_plugin_start(self):
        """Neutron's NSX-Policy plugin's start, as vmware-nsx 17.0.0 makes it through nsxlib
        (plugins/nsx_p/plugin.py, availability_zones.py): IPv6 forwarding on, the backend
        resources its configuration names found by id or by name, its IPv6 RA service, the
        IPv6 profile, and its group of excluded ports added to the exclude list."""
        nsx = self.nsx
        nsx.global_config.enable_ipv6()
        assert nsx.global_config.get()["l3_forwarding_mode"] == "IPV4_AND_IPV6"
        for api, configured in [(nsx.transport_zone, "nsx-overlay-transportzone"),
                                (nsx.transport_zone, "nsx-vlan-transportzone"),
                                (nsx.edge_cluster, "edge-cluster-1")]:
            api.get(configured, silent=True)
            assert api.get_by_name(configured)["id"] == configured
        assert nsx.transport_zone.get_transport_type("nsx-overlay-transportzone") == "OVERLAY"
        assert nsx.transport_zone.get_transport_type("nsx-vlan-transportzone") == "VLAN"
        assert nsx.edge_cluster.get_edge_node_ids("edge-cluster-1") == [
            "edge-node-1", "edge-node-2"]

        try:
            nsx.mixed_service.get("ipv6_ra")
        except exceptions.ResourceNotFound:
            entries = [
                nsx.icmp_service.build_entry("unicast RA", "ipv6_ra", "unicast",
                                             version=6, icmp_type=134),
                nsx.icmp_service.build_entry("multicast RA", "ipv6_ra", "multicast",
                                             version=6, icmp_type=151)]
            nsx.mixed_service.create_or_overwrite("ipv6_ra", "ipv6_ra", entries=entries)
        assert len(nsx.mixed_service.get("ipv6_ra")["service_entries"]) == 2
        nsx.ipv6_ndra_profile.get("default", silent=True)

        group = "neutron_excluded_port_nsgroup"
        condition = nsx.group.build_condition(
            cond_val="os-security-group|Exclude-Port", cond_key=constants.CONDITION_KEY_TAG,
            cond_member_type=constants.CONDITION_MEMBER_PORT)
        nsx.group.create_or_overwrite_with_conditions(
            name=group, domain_id=DOMAIN, group_id=group, conditions=[condition])
        member = nsx.group.get_path(domain_id=DOMAIN, group_id=group)
        members = nsx.exclude_list.get()["members"]
        if member not in members:
            nsx.exclude_list.create_or_overwrite(members=members + [member])
        assert member in nsx.exclude_list.get()["members"]

    def run(self):
        passed, failed = 0, 0
        for check in [self.neutron_plugin_start,
                      self.security_policy_with_entries, self.gateway_policy_with_entries,
                      self.services_of_each_kind, self.ip_pools_with_subnets,
                      self.load_balancer, self.dhcp_static_bindings, self.ipsec_sessions,
                      self.nat_rules_in_transactions, self.qos_profiles_and_binding_maps,
                      self.search_and_realization]:
            try:
                check()
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:  # noqa: BLE001 - every failure is reported, then counted
                failed += 1
                print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
        print(f"nsxlib: {passed} passed, {failed} failed")
        return failed == 0


if __name__ == "__main__":
    base_url, user, password = sys.argv[1:4]
    sys.exit(0 if Driver(base_url, user, password).run() else 1)
