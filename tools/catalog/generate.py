#!/usr/bin/env python3
"""Writes catalog/policy.json, the catalog of Policy object types the store serves.

Everything in it is read from VMware's Python SDK (`vcf-nsx`, pinned in
tests/python/requirements.txt), never typed by hand:

- the REST metadata of every operation of the SDK's `vcf.nsx.policy` clients (method, URL
  template, path variables, query parameters, body and answer types): an object type is served
  where the SDK has a PUT or PATCH of one struct at a URL under `/infra`, under a project's
  `/infra`, under a VPC or in a project's own collections (transit gateways, VPC profiles,
  IP address allocations), or at an org, a project or a VPC itself; read-only where the SDK
  only lists the objects that routes hang below (a gateway's NAT sections);
- the type bindings of `vcf.nsx.model_client` (`StructType` fields, their types, optional or
  required, nested and polymorphic types), and the constraints the bindings' docstrings state
  (read-only, enum values, ranges, string lengths);
- the Hierarchical API's `Child*` wrappers of those bindings: which object type each wraps,
  and the key it carries the object under (`ChildGroup` under `Group`,
  `ChildAntreaTraceflowConfig` under `TraceflowConfig`).

Run it with the test virtualenv's Python (the README's "The catalog" says how):

    target/test-venv/bin/python tools/catalog/generate.py            # writes catalog/policy.json
    target/test-venv/bin/python tools/catalog/generate.py --stdout   # prints it instead

The output is deterministic (sorted, one type per line), so that a test can compare the
committed file with what this script writes.
"""

import argparse
import importlib
import importlib.metadata
import json
import os
import pkgutil
import re
import sys

from vmware.vapi.bindings import stub
from vmware.vapi.bindings import type as bt

SDK = "vcf-nsx"
OUTPUT = os.path.join(os.path.dirname(__file__), "..", "..", "catalog", "policy.json")
API = "/policy/api/v1"

# Where served objects live, as URL templates with their variables renamed to `{}`.
ROOTS = (
    re.compile(r"^/infra(/|$)"),
    re.compile(r"^/orgs/\{\}(/projects/\{\}(/infra(/|$)|/vpcs/\{\}(/|$)|$))?$"),
    re.compile(r"^/orgs/\{\}/projects/\{\}/(infra|vpcs/\{\})/"),
    # A project's own collections: its transit gateways, VPC profiles, IP allocations.
    re.compile(r"^/orgs/\{\}/projects/\{\}/[a-z0-9-]+/\{\}(/|$)"),
)

# The query parameters every list takes (the README's "Listing"); a list's others are kept.
LIST_PARAMS = {
    "cursor",
    "include_mark_for_delete_objects",
    "included_fields",
    "page_size",
    "sort_ascending",
    "sort_by",
}


def operations():
    """Every operation of the SDK's Policy clients: (method, url, body type, answer type,
    query parameter names), read from the stubs' REST metadata without a connection."""
    captured = []

    def record(self, iface_name, config, operations, rest_metadata=None, is_vapi_rest=True):
        captured.append((operations, rest_metadata or {}))

    stub.ApiInterfaceStub.__init__ = record
    import vcf.nsx.policy as policy

    for module in pkgutil.walk_packages(policy.__path__, "vcf.nsx.policy."):
        if not module.name.endswith("_client"):
            continue
        loaded = importlib.import_module(module.name)
        for name in sorted(vars(loaded)):
            cls = vars(loaded)[name]
            if (
                isinstance(cls, type)
                and name.endswith("Stub")
                and issubclass(cls, stub.ApiInterfaceStub)
                and cls is not stub.ApiInterfaceStub
            ):
                cls(None)
    for ops, metadata in captured:
        for name, rest in metadata.items():
            op = ops[name]
            inputs = op["input_type"]
            body = None
            if rest.request_body_parameter:
                body = referenced(inputs.get_field(rest.request_body_parameter))
            query = sorted(rest.get_query_parameter_field_names())
            yield rest.http_method, rest._url_template, body, referenced(op["output_type"]), query


def referenced(binding):
    """The struct a binding names, through Optional, or None. A dynamic structure names the
    base its value is one of the subtypes of (an LB app profile's body is an `LBAppProfile`
    of any kind)."""
    while isinstance(binding, bt.OptionalType):
        binding = binding.element_type
    if isinstance(binding, bt.DynamicStructType) and binding.has_fields_of_type:
        binding = binding.has_fields_of_type[0]
    if isinstance(binding, bt.ReferenceType):
        return struct_name(binding.resolved_type)
    return None


def struct_name(struct):
    return struct.binding_class.__name__


def shape(url):
    """The URL template below /policy/api/v1 with its variables written `{}`."""
    return re.sub(r"\{[^}]*\}", "{}", url[len(API):])


class Types:
    """The struct types reachable from the served ones, encoded for the catalog."""

    def __init__(self):
        import vcf.nsx.model_client as model

        self.model = model
        self.encoded = {}

    def struct(self, name):
        return getattr(self.model, name).get_binding_type()

    def add(self, name):
        if name in self.encoded:
            return
        self.encoded[name] = None  # reserved: cycles end here
        binding = self.struct(name)
        docs = field_docs(getattr(self.model, name))
        pep = getattr(self.model, name)._canonical_to_pep_names
        fields = {}
        for field in binding.get_field_names():
            fields[field] = self.field(binding.get_field(field), docs.get(pep.get(field, field), ""),
                                       getattr(self.model, name))
        entry = {"fields": fields}
        discriminator = self.discriminator(binding)
        subtypes = self.subtypes(name, binding, discriminator)
        if subtypes:
            entry["subtypes"] = subtypes
            if discriminator != "resource_type":
                entry["discriminator"] = discriminator
        self.encoded[name] = entry

    @staticmethod
    def discriminator(binding):
        """The field that names a value's concrete type: `resource_type`, or `type` where a
        type has none (an LB rule's actions and conditions)."""
        names = binding.get_field_names()
        return "resource_type" if "resource_type" in names or "type" not in names else "type"

    def subtypes(self, name, binding, discriminator):
        """The concrete types a body declared as `name` may be, by its discriminator: the
        values its own discriminator's enum lists that name other structs."""
        if discriminator not in binding.get_field_names():
            return []
        values = enum_values(field_docs(getattr(self.model, name)).get(discriminator, ""),
                             getattr(self.model, name))
        if discriminator != "resource_type" and name in (values or []):
            return []  # a concrete type whose `type` lists itself among its siblings
        own = set(binding.get_field_names())
        found = []
        for value in values or []:
            candidate = getattr(self.model, value, None)
            if value == name or not hasattr(candidate, "get_binding_type"):
                continue
            # A subtype has every field of its base (the enum of a concrete type lists its
            # siblings too).
            if own <= set(candidate.get_binding_type().get_field_names()):
                found.append(value)
                self.add(value)
        return sorted(found)

    def field(self, binding, doc, cls):
        spec = {}
        if not isinstance(binding, bt.OptionalType):
            spec["required"] = True
        else:
            binding = binding.element_type
        spec["type"] = self.encode(binding)
        if "Property is read-only" in doc:
            spec["read_only"] = True
        values = enum_values(doc, cls)
        if values:
            spec["enum"] = values
        for key, pattern in CONSTRAINTS:
            found = pattern.search(doc)
            if found:
                spec[key] = int(found.group(1))
        if re.search(r"The minimum allowable value must be > (-?\d+)", doc):
            spec["minimum"] = int(re.search(r"must be > (-?\d+)", doc).group(1)) + 1
        return spec

    def encode(self, binding):
        """A type as one string: `string`, `integer`, `number`, `boolean`, `any`, a struct's
        name after `@`, a polymorphic struct's base after `*`, a list's items after `[`."""
        while isinstance(binding, bt.OptionalType):
            binding = binding.element_type
        if isinstance(binding, (bt.StringType, bt.SecretType, bt.DateTimeType, bt.URIType,
                                bt.IdType, bt.EnumType)):
            return "string"
        if isinstance(binding, bt.IntegerType):
            return "integer"
        if isinstance(binding, bt.DoubleType):
            return "number"
        if isinstance(binding, bt.BooleanType):
            return "boolean"
        if isinstance(binding, (bt.ListType, bt.SetType)):
            return "[" + self.encode(binding.element_type)
        if isinstance(binding, bt.DynamicStructType):
            bases = binding.has_fields_of_type or []
            if not bases:
                return "any"
            base = struct_name(bases[0].resolved_type)
            self.add(base)
            return "*" + base
        if isinstance(binding, bt.ReferenceType):
            name = struct_name(binding.resolved_type)
            self.add(name)
            return "@" + name
        if isinstance(binding, bt.StructType):
            name = struct_name(binding)
            self.add(name)
            return "@" + name
        return "any"


CONSTRAINTS = (
    ("minimum", re.compile(r"The minimum allowable value must be >= (-?\d+)")),
    ("maximum", re.compile(r"The maximum allowable value must be <= (-?\d+)")),
    ("max_length", re.compile(r"The maximum length of the string must be (\d+)")),
    ("min_length", re.compile(r"The minimum length of the string must be (\d+)")),
)


def field_docs(cls):
    """The `:param name:` text of each field, from the binding class's constructor."""
    doc = cls.__init__.__doc__ or ""
    docs = {}
    for found in re.finditer(r":param (\w+):(.*?)(?=\n\s*:type |\n\s*:param |\Z)", doc, re.S):
        docs[found.group(1)] = found.group(2)
    return docs


def enum_values(doc, cls):
    """The values a docstring lists under 'Possible values for this attribute', as the
    binding class's constants say them."""
    if "Possible values for this attribute" not in doc:
        return None
    tail = doc.split("Possible values for this attribute", 1)[1]
    values = []
    for constant in re.findall(r"\*\s+vcf\.nsx\.model\.(\w+)\.(\w+)", tail):
        owner = getattr(importlib.import_module("vcf.nsx.model_client"), constant[0], cls)
        value = getattr(owner, constant[1], None)
        if isinstance(value, str) and value not in values:
            values.append(value)
    return values or None


def child_wrappers(served):
    """The `Child*` types of the Hierarchical API that wrap an object of a served type:
    {wrapper: {"key": the field the object is under, "type": its type}}. A wrapper's key is
    its one capitalised field (where it has two, the one named as the wrapper without its
    `Child`)."""
    import vcf.nsx.model_client as model

    wrappers = {}
    for name in sorted(vars(model)):
        cls = vars(model)[name]
        if not name.startswith("Child") or not hasattr(cls, "get_binding_type"):
            continue
        binding = cls.get_binding_type()
        keys = [field for field in binding.get_field_names() if field[:1].isupper()]
        if name[len("Child"):] in keys:
            keys = [name[len("Child"):]]
        if len(keys) != 1:
            continue  # ChildResourceReference, and the bases: no object of their own
        wrapped = binding.get_field(keys[0])
        while isinstance(wrapped, bt.OptionalType):
            wrapped = wrapped.element_type
        if isinstance(wrapped, bt.DynamicStructType) and wrapped.has_fields_of_type:
            wrapped = wrapped.has_fields_of_type[0]
        target = struct_name(wrapped.resolved_type) if isinstance(wrapped, bt.ReferenceType) else None
        if target in served:
            wrappers[name] = {"key": keys[0], "type": target}
    return wrappers


def add_sections(routes, lists):
    """The objects of a list that the bindings give no route of their own, but routes below
    them (a gateway's NAT sections: `GET .../nat` lists them, `.../nat/{natId}/nat-rules/{}`
    holds their rules): NSX creates them, clients read them. Each becomes a read-only route of
    the list's item type, its URL template taken from a route below it."""
    import vcf.nsx.model_client as model

    for collection, (answer, _) in sorted(lists.items()):
        path = collection + "/{}"
        below = [route for shaped, route in routes.items() if shaped.startswith(path + "/")]
        item = answer[: -len("ListResult")] if answer.endswith("ListResult") else None
        if path in routes or not below or not hasattr(model, item or ""):
            continue
        if "/state/" in path or not any(root.match(path) for root in ROOTS):
            continue  # an object's state is realized, not configured
        url = below[0]["url"]
        depth = path.count("/")
        template = "/".join(url[len(API):].split("/")[: depth + 1])
        routes[path] = {"url": API + template, "type": item, "methods": {"GET"}}


def catalog():
    routes = {}
    lists = {}
    for method, url, body, answer, query in operations():
        if "?" in url or not url.startswith(API):
            continue
        # One route per shape: the SDK names one path's variables differently in places.
        path = shape(url)
        route = routes.setdefault(path, {"url": url, "type": None, "methods": set()})
        if method in ("PUT", "PATCH") and body and any(root.match(path) for root in ROOTS):
            route["type"] = route["type"] or body
            route["methods"].add(method)
        if method in ("GET", "DELETE"):
            route["methods"].add(method)
        if method == "PATCH" and answer:
            route["patch_answer"] = answer
        if method == "GET" and answer and not answer.endswith("ListResult"):
            route["answer"] = answer
        if method == "GET" and answer and answer.endswith("ListResult"):
            lists[path] = (answer, [q for q in query if q not in LIST_PARAMS])
    add_sections(routes, lists)
    types = Types()
    served = []
    for path, route in sorted(routes.items()):
        if "/realized-state/" in path:
            continue  # realized state is not an object a client writes
        if route["type"] is None and path.endswith("/{}") and path[:-3] in lists:
            # Objects NSX serves but no client writes (the orgs): read-only, by their list.
            if lists[path[:-3]][0] == route.get("answer", "") + "ListResult" and any(
                    root.match(path) for root in ROOTS):
                route["type"] = route["answer"]
        if route["type"] is None:
            continue
        entry = {
            "path": route["url"][len(API):],
            "type": route["type"],
            "methods": sorted(route["methods"]),
        }
        if route.get("patch_answer") == route["type"]:
            # The bindings declare the object as the PATCH's answer (a transport zone's):
            # NSX answers it, and the SDK reads it.
            entry["patch_answers"] = True
        collection = path[: -len("/{}")] if path.endswith("/{}") else None
        if collection in lists:
            entry["list"], extra = lists[collection]
            if extra:
                entry["list_query"] = extra
            types.add(entry["list"])
        types.add(route["type"])
        served.append(entry)
    return {
        "sdk": f"{SDK}=={importlib.metadata.version(SDK)}",
        "objects": served,
        "children": child_wrappers({entry["type"] for entry in served}),
        "types": types.encoded,
    }


def render(data):
    """Sorted JSON, one object route, one child wrapper and one type a line."""
    lines = ["{", f'"sdk": {json.dumps(data["sdk"])},', '"objects": [']
    objects = [json.dumps(entry, sort_keys=True, separators=(",", ":")) for entry in data["objects"]]
    lines.append(",\n".join(objects))
    lines.append("],")
    lines.append('"children": {')
    children = [
        f"{json.dumps(name)}:{json.dumps(entry, sort_keys=True, separators=(',', ':'))}"
        for name, entry in sorted(data["children"].items())
    ]
    lines.append(",\n".join(children))
    lines.append("},")
    lines.append('"types": {')
    types = [
        f"{json.dumps(name)}:{json.dumps(entry, sort_keys=True, separators=(',', ':'))}"
        for name, entry in sorted(data["types"].items())
    ]
    lines.append(",\n".join(types))
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--stdout", action="store_true", help="print instead of writing")
    args = parser.parse_args()
    text = render(catalog())
    if args.stdout:
        sys.stdout.write(text)
    else:
        with open(OUTPUT, "w", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
