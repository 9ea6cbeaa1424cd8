"""Drives nsx-policy-store through VMware's official NSX Python SDK (vcf-nsx).

Usage: python traceflows.py BASE_URL USER PASSWORD [CA_CERTIFICATE]

With an https BASE_URL, CA_CERTIFICATE is the PEM file the server's certificate is checked
against.

Every operation goes through the SDK's generated `Traceflows` class, as an NSX automation suite
would use it; each check asserts on what the SDK hands back. Prints one line per check and a
closing "N passed, M failed"; exits non-zero if any check failed.
"""

import json
import sys
import traceback

import requests
from vmware.vapi.bindings.converter import RestConverter, TypeConverter
from vmware.vapi.data.serializers.cleanjson import DataValueConverter
from vmware.vapi.lib.connect import get_requests_connector
from vmware.vapi.security.user_password import create_user_password_security_context
from vmware.vapi.stdlib.client.factories import StubConfigurationFactory

from vcf.nsx.model_client import ApiError, AntreaTraceflowConfig
from vcf.nsx.policy.api.v1.infra.antrea_client import Traceflows
from vcf.nsx.policy.api.v1.infra.antrea.traceflows_client import Observations, Status

SEED = {
    "container_cluster_id": "3abe1a62-156c-46be-a70f-ea237344f1c3",
    "source_external_id": "4abe1a62-156c-46be-a70f-ea237344f1c3",
    "destination_external_id": "5abe1a62-156c-46be-a70f-ea237344f1c3",
    "packet": {
        "ipHeader": {"srcIp": "172.16.14.11", "dstIp": "172.16.16.13",
                     "protocol": 1, "ttl": 64, "flags": 0},
        "transportHeader": {"icmpEchoRequestHeader": {"id": 0, "sequence": 0}},
        "frameSize": 255,
        "resourceType": "FIELDS_PACKET_DATA",
        "payload": "123",
        "transportType": "UNICAST",
    },
    "timeout": 10,
}


def config(body):
    """An AntreaTraceflowConfig built from JSON, so that fields outside the published schema
    (`timeout`) survive: the typed constructors drop it."""
    data = DataValueConverter.convert_to_data_value(json.dumps(body))
    return TypeConverter.convert_to_python(
        data, AntreaTraceflowConfig.get_binding_type(),
        rest_converter_mode=RestConverter.SWAGGER_REST)


def as_json(struct):
    return json.loads(struct.to_json())


def api_error_of(call):
    """Runs `call`, which must raise the SDK's ApiError; returns (status, body)."""
    try:
        call()
    except ApiError as error:
        return error.get_status_code(), error.to_dict()
    raise AssertionError("expected the SDK to raise ApiError")


class Checks:
    def __init__(self, base_url, user, password, ca_certificate=None):
        session = requests.Session()
        session.trust_env = False  # ignore a machine-wide REQUESTS_CA_BUNDLE or proxy
        if ca_certificate:
            session.verify = ca_certificate
        connector = get_requests_connector(session=session, msg_protocol="rest", url=base_url)
        connector.set_security_context(create_user_password_security_context(user, password))
        configuration = StubConfigurationFactory.new_std_configuration(connector)
        self.traceflows = Traceflows(configuration)
        self.status = Status(configuration)
        self.observations = Observations(configuration)
        # The store's own extension (scripted results) is outside the SDK: plain HTTP.
        self.session, self.base_url, self.credentials = session, base_url, (user, password)

    def create_the_seed(self):
        created = as_json(self.traceflows.policy_lm_update_antrea_traceflow_config(
            "t14", config(SEED)))
        for field, value in SEED.items():
            assert created[field] == value, (field, created[field])
        assert created["id"] == "t14" and created["display_name"] == "t14"
        assert created["path"] == "/infra/antrea/traceflows/t14"
        assert created["resource_type"] == "AntreaTraceflowConfig"
        assert created["_revision"] == 0 and created["_create_user"] == "admin"

    def read_it_back(self):
        read = self.traceflows.policy_lm_read_antrea_traceflow_config("t14")
        assert isinstance(read, AntreaTraceflowConfig)
        assert read.revision == 0 and read.container_cluster_id == SEED["container_cluster_id"]
        assert read.packet.ip_header.ttl == 64
        assert as_json(read)["timeout"] == 10

    def a_second_create_is_api_error_500127(self):
        status, body = api_error_of(lambda: self.traceflows.policy_lm_update_antrea_traceflow_config(
            "t14", config(SEED)))
        assert status == 400, status
        assert body["error_code"] == 500127, body
        assert "already exists" in body["error_message"], body

    def a_stale_revision_is_412(self):
        stale = dict(SEED, _revision=5)
        status, body = api_error_of(lambda: self.traceflows.policy_lm_update_antrea_traceflow_config(
            "t14", config(stale)))
        assert status == 412, status
        assert body["error_code"] == 206, body

    def get_modify_put(self):
        read = self.traceflows.policy_lm_read_antrea_traceflow_config("t14")
        read.description = "replaced through the SDK"
        replaced = self.traceflows.policy_lm_update_antrea_traceflow_config("t14", read)
        assert replaced.revision == 1, replaced.revision
        assert replaced.description == "replaced through the SDK"
        assert replaced.unique_id == read.unique_id

    def list_with_paging_and_sorting(self):
        for n in range(25):
            body = dict(SEED, display_name="flow %02d" % (24 - n))
            self.traceflows.policy_lm_update_antrea_traceflow_config("p%02d" % n, config(body))
        expected_ids = sorted(["t14"] + ["p%02d" % n for n in range(25)])
        for sort_by, ascending in [("id", True), ("id", False), ("display_name", True)]:
            seen, cursor, pages = [], None, 0
            while True:
                page = self.traceflows.policy_lm_list_antrea_traceflow_config(
                    cursor=cursor, page_size=10, sort_by=sort_by, sort_ascending=ascending)
                pages += 1
                assert page.result_count == 26, page.result_count
                assert len(page.results) <= 10
                seen += [item.id for item in page.results]
                cursor = page.cursor
                if cursor is None:
                    break
            assert pages == 3, pages
            if sort_by == "id":
                assert seen == (expected_ids if ascending else expected_ids[::-1]), seen
            else:
                names = [self.traceflows.policy_lm_read_antrea_traceflow_config(i).display_name
                         for i in seen]
                assert names == sorted(names), names
                assert sorted(seen) == expected_ids

    def patch_merges(self):
        result = self.traceflows.policy_lm_patch_antrea_traceflow_config(
            "t14", config({"description": "patched", "tags": [{"scope": "team", "tag": "net"}]}))
        assert result is None
        read = self.traceflows.policy_lm_read_antrea_traceflow_config("t14")
        assert read.description == "patched" and read.revision == 2
        assert read.tags[0].scope == "team" and read.tags[0].tag == "net"
        assert read.packet.ip_header.src_ip == "172.16.14.11", "unpatched fields stay"

    def retrace(self):
        retraced = self.traceflows.policy_lm_restart_antrea_traceflow("t14", action="retrace")
        assert retraced.id == "t14" and retraced.revision == 2
        status, body = api_error_of(
            lambda: self.traceflows.policy_lm_restart_antrea_traceflow("absent", action="retrace"))
        assert status == 404 and body["error_code"] == 600, (status, body)

    def results_of_a_simulated_run(self):
        status = self.status.policy_lm_read_antrea_traceflow_status("t14")
        assert status.phase == "SUCCEEDED", as_json(status)
        observations = self.observations.policy_lm_list_antrea_traceflow_observations(
            "t14", enforcement_point_path="/infra/sites/default/enforcement-points/default")
        assert observations.result_count == len(observations.results) > 0
        first, last = observations.results[0], observations.results[-1]
        assert first.component_type == "ANTREA_SPOOFGUARD", as_json(first)
        assert first.observation_type == "AntreaTraceflowObservationForwarded"
        assert last.component_type == "ANTREA_FORWARDING", as_json(last)
        assert last.observation_type == "AntreaTraceflowObservationDelivered"
        assert all(o.container_node_id and o.timestamp > 0 for o in observations.results)

    def results_of_a_scripted_run(self):
        script = {"status": {"phase": "FAILED", "reason": "dropped by policy"},
                  "observations": [
                      {"component_type": "ANTREA_SPOOFGUARD", "container_node_id": "n1",
                       "observation_type": "AntreaTraceflowObservationForwarded"},
                      {"component_type": "ANTREA_DFW", "container_node_id": "n1",
                       "observation_type": "AntreaTraceflowObservationDropped"}]}
        answer = self.session.put(self.base_url + "/store/v1/traceflows/t14/result",
                                  json=script, auth=self.credentials)
        assert answer.status_code == 200, answer.text
        self.traceflows.policy_lm_restart_antrea_traceflow("t14", action="retrace")
        status = self.status.policy_lm_read_antrea_traceflow_status("t14")
        assert status.phase == "FAILED" and status.reason == "dropped by policy", as_json(status)
        observations = self.observations.policy_lm_list_antrea_traceflow_observations("t14")
        kinds = [(o.component_type, o.observation_type) for o in observations.results]
        assert kinds == [("ANTREA_SPOOFGUARD", "AntreaTraceflowObservationForwarded"),
                         ("ANTREA_DFW", "AntreaTraceflowObservationDropped")], kinds
        deleted = self.session.delete(self.base_url + "/store/v1/traceflows/t14/result",
                                      auth=self.credentials)
        assert deleted.status_code == 200, deleted.text

    def results_of_an_absent_traceflow_are_404(self):
        for call in (self.status.policy_lm_read_antrea_traceflow_status,
                     self.observations.policy_lm_list_antrea_traceflow_observations):
            status, body = api_error_of(lambda: call("absent"))
            assert status == 404 and body["error_code"] == 600, (status, body)
            assert "/infra/antrea/traceflows/absent" in body["error_message"], body

    def delete_is_idempotent(self):
        assert self.traceflows.policy_lm_delete_antrea_traceflow_config("t14") is None
        status, body = api_error_of(
            lambda: self.traceflows.policy_lm_read_antrea_traceflow_config("t14"))
        assert status == 404 and body["error_code"] == 600, (status, body)
        assert self.traceflows.policy_lm_delete_antrea_traceflow_config("t14") is None


def main():
    checks = Checks(*sys.argv[1:5])
    names = [name for name in vars(Checks) if not name.startswith("_")]
    passed = failed = 0
    for name in names:
        try:
            getattr(checks, name)()
            passed += 1
            print("ok   " + name)
        except Exception:  # report every failing check, not only the first
            failed += 1
            print("FAIL " + name)
            traceback.print_exc(file=sys.stdout)
    print("sdk: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
