"""The Hierarchical API and search through VMware's official NSX Python SDK (vcf-nsx).

Usage: python hierarchy.py BASE_URL USER PASSWORD

The SDK's `Infra` client patches a tree (a domain, groups, a service with an entry, a
security policy with rules) and reads it back, whole and filtered, into the SDK's own
`Infra` type; the `Query` client of `search` finds what was written by type and by tag,
paging with cursors. Prints one line per check and a closing "N passed, M failed"; exits
non-zero if any check failed.
"""

import sys
import traceback

from sdk_support import as_json, configuration, model
from vcf.nsx import model_client
from vcf.nsx.model_client import ApiError
from vcf.nsx.policy.api.v1.search_client import Query
from vcf.nsx.policy.api.v1_client import Infra

GROUPS = 5


def child(wrapper, key, body):
    return {"resource_type": wrapper, key: body}


def tree():
    groups = [child("ChildGroup", "Group", {
        "id": f"g{n}", "resource_type": "Group",
        "tags": [{"scope": "owner", "tag": "sdk"}],
        "expression": [{"resource_type": "IPAddressExpression",
                        "ip_addresses": [f"10.9.0.{n}"]}]}) for n in range(GROUPS)]
    rules = [child("ChildRule", "Rule", {
        "id": "allow", "resource_type": "Rule", "action": "ALLOW", "sequence_number": 1,
        "source_groups": ["/infra/domains/sdk/groups/g0"],
        "destination_groups": ["/infra/domains/sdk/groups/g1"],
        "services": ["/infra/services/sdk-http"]})]
    return {"resource_type": "Infra", "children": [
        child("ChildService", "Service", {
            "id": "sdk-http", "resource_type": "Service", "children": [
                child("ChildServiceEntry", "ServiceEntry", {
                    "id": "http", "resource_type": "L4PortSetServiceEntry",
                    "l4_protocol": "TCP", "destination_ports": ["80"]})]}),
        child("ChildDomain", "Domain", {
            "id": "sdk", "resource_type": "Domain", "children": groups + [
                child("ChildSecurityPolicy", "SecurityPolicy", {
                    "id": "app", "resource_type": "SecurityPolicy",
                    "category": "Application", "children": rules})]}),
    ]}


def children(node, key):
    return [item[key] for item in node.get("children", []) if key in item]


class Driver:
    def __init__(self, base_url, user, password):
        config = configuration(base_url, user, password)
        self.infra = Infra(config)
        self.search = Query(config)

    def patch_and_read_a_tree(self):
        self.infra.policy_patch_infra(model("Infra", tree()))
        read = self.infra.policy_read_infra()
        assert isinstance(read, model_client.Infra), type(read)
        whole = as_json(read)
        domain = [d for d in children(whole, "Domain") if d["id"] == "sdk"][0]
        assert sorted(g["id"] for g in children(domain, "Group")) == [
            f"g{n}" for n in range(GROUPS)], domain
        policy = children(domain, "SecurityPolicy")[0]
        rule = children(policy, "Rule")[0]
        assert rule["path"] == "/infra/domains/sdk/security-policies/app/rules/allow", rule
        assert rule["_revision"] == 0, rule
        service = [s for s in children(whole, "Service") if s["id"] == "sdk-http"][0]
        entry = children(service, "ServiceEntry")[0]
        assert entry["resource_type"] == "L4PortSetServiceEntry", entry

    def read_filtered(self):
        groups = as_json(self.infra.policy_read_infra(
            base_path="/infra/domains/sdk", type_filter="Group"))
        domains = children(groups, "Domain")
        assert [d["id"] for d in domains] == ["sdk"], groups
        assert len(children(domains[0], "Group")) == GROUPS, domains
        assert not children(domains[0], "SecurityPolicy"), domains

    def enforce_revision_check(self):
        stale = {"resource_type": "Infra", "children": [child("ChildDomain", "Domain", {
            "id": "sdk", "resource_type": "Domain", "_revision": 9})]}
        try:
            self.infra.policy_patch_infra(model("Infra", stale), enforce_revision_check=True)
        except ApiError as error:
            assert error.get_status_code() == 412, error.to_dict()
            assert error.to_dict()["error_code"] == 206, error.to_dict()
        else:
            raise AssertionError("a stale _revision was taken")

    def search_by_type_and_tag(self):
        found = []
        cursor = None
        pages = 0
        while True:
            page = self.search.lm_policy_query_search(
                query="resource_type:Group AND tags.scope:owner AND tags.tag:sdk",
                page_size=2, cursor=cursor)
            assert isinstance(page, model_client.SearchResponse), type(page)
            assert page.result_count == GROUPS, page.result_count
            found += [as_json(result)["id"] for result in page.results]
            pages += 1
            # NSX's search cursor is on every page: the number of matches up to its end.
            cursor = page.cursor
            if int(cursor) >= page.result_count:
                break
        assert pages == 3, pages
        assert sorted(found) == [f"g{n}" for n in range(GROUPS)], found
        # The rules this script wrote, not those of NSX's default sections.
        rules = self.search.lm_policy_query_search(
            query="resource_type:Rule AND _create_user:admin")
        assert [as_json(r)["id"] for r in rules.results] == ["allow"], rules.results

    def delete_the_subtree(self):
        gone = {"resource_type": "Infra", "children": [
            {"resource_type": "ChildDomain", "marked_for_delete": True,
             "Domain": {"id": "sdk", "resource_type": "Domain"}}]}
        self.infra.policy_patch_infra(model("Infra", gone))
        left = self.search.lm_policy_query_search(query="tags.tag:sdk")
        assert left.result_count == 0, left.result_count

    def run(self):
        passed, failed = 0, 0
        for check in [self.patch_and_read_a_tree, self.read_filtered,
                      self.enforce_revision_check, self.search_by_type_and_tag,
                      self.delete_the_subtree]:
            try:
                check()
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:  # noqa: BLE001 - every failure is reported, then counted
                failed += 1
                print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
        print(f"sdk hierarchy: {passed} passed, {failed} failed")
        return failed == 0


if __name__ == "__main__":
    base_url, user, password = sys.argv[1:4]
    sys.exit(0 if Driver(base_url, user, password).run() else 1)
