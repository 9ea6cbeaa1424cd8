//! A group's members (the README's "Inventory"), computed from its expression when read, as
//! NSX evaluates it: over the inventory's virtual machines and their interfaces, and the
//! stored segments, segment ports and groups.
//!
//! An expression list alternates expressions and conjunctions; `AND` binds before `OR`, and
//! each expression gives the members it selects of each kind:
//! - a `Condition` of a member type (`VirtualMachine`, `Segment`, `SegmentPort`) by `Tag`
//!   (`scope|tag`; `|tag` for any scope; `scope|` for any tag of a scope; a value without
//!   `|` names the tag), `Name`, `OSName` or `ComputerName`, with NSX's operators, every
//!   comparison case-insensitive (NSX's: "Evaluation of the condition expression will be
//!   case insensitive");
//! - a `NestedExpression`, its conditions joined as it joins them;
//! - an `IPAddressExpression`, a `MACAddressExpression`: its addresses;
//! - a `PathExpression`: the segments, segment ports and groups (their members) it names;
//! - an `ExternalIDExpression`: virtual machines, or interfaces, by external id.
//!
//! A group's IP addresses are those its expressions give and those of its virtual machines'
//! interfaces and of the interfaces attached to its segment ports and to the ports of its
//! segments; its interfaces likewise.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::inventory::{Tag, Vif, VirtualMachine};
use super::PolicyObject;

/// How deep groups may nest in each other: deeper (or a cycle) adds no members.
const NESTING: usize = 8;

/// What membership is computed over: the inventory, and every stored object.
pub struct World<'a> {
    pub vms: &'a [VirtualMachine],
    pub objects: &'a [PolicyObject],
}

/// A group's members of each kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Members {
    /// Virtual machines, by external id.
    pub vms: BTreeSet<String>,
    /// Segments, by path.
    pub segments: BTreeSet<String>,
    /// Segment ports, by path.
    pub ports: BTreeSet<String>,
    /// IP addresses, ranges and networks, as given.
    pub ips: BTreeSet<String>,
    pub macs: BTreeSet<String>,
    /// Interfaces, by external id.
    pub vifs: BTreeSet<String>,
}

impl Members {
    fn union(mut self, other: Members) -> Members {
        self.vms.extend(other.vms);
        self.segments.extend(other.segments);
        self.ports.extend(other.ports);
        self.ips.extend(other.ips);
        self.macs.extend(other.macs);
        self.vifs.extend(other.vifs);
        self
    }

    fn intersection(self, other: &Members) -> Members {
        let keep = |mine: BTreeSet<String>, theirs: &BTreeSet<String>| {
            mine.into_iter().filter(|m| theirs.contains(m)).collect()
        };
        Members {
            vms: keep(self.vms, &other.vms),
            segments: keep(self.segments, &other.segments),
            ports: keep(self.ports, &other.ports),
            ips: keep(self.ips, &other.ips),
            macs: keep(self.macs, &other.macs),
            vifs: keep(self.vifs, &other.vifs),
        }
    }
}

impl World<'_> {
    /// The members of `group`.
    pub fn members(&self, group: &PolicyObject) -> Members {
        self.members_at(group, 0)
    }

    fn members_at(&self, group: &PolicyObject, depth: usize) -> Members {
        match group.config.members().get("expression") {
            Some(Value::Array(expressions)) if depth < NESTING => {
                self.expressions(expressions, depth)
            }
            _ => Members::default(),
        }
    }

    /// The members of an expression list: its `AND` runs intersected, then joined.
    fn expressions(&self, expressions: &[Value], depth: usize) -> Members {
        let mut joined = Members::default();
        let mut run: Option<Members> = None;
        let mut and = false;
        for expression in expressions {
            let Value::Object(expression) = expression else {
                continue;
            };
            if expression.get("resource_type") == Some(&Value::from("ConjunctionOperator")) {
                and = text(expression, "conjunction_operator").eq_ignore_ascii_case("AND");
                continue;
            }
            let selected = self.expression(expression, depth);
            run = Some(match run {
                Some(members) if and => members.intersection(&selected),
                Some(members) => {
                    joined = joined.union(members);
                    selected
                }
                None => selected,
            });
        }
        match run {
            Some(members) => joined.union(members),
            None => joined,
        }
    }

    fn expression(&self, expression: &Map<String, Value>, depth: usize) -> Members {
        let list = |field: &str| -> BTreeSet<String> {
            strings(expression.get(field)).map(str::to_owned).collect()
        };
        match text(expression, "resource_type") {
            "Condition" => self.condition(expression),
            "NestedExpression" => match expression.get("expressions") {
                Some(Value::Array(inner)) => self.expressions(inner, depth),
                _ => Members::default(),
            },
            "IPAddressExpression" => Members {
                ips: list("ip_addresses"),
                ..Members::default()
            },
            "MACAddressExpression" => Members {
                macs: list("mac_addresses"),
                ..Members::default()
            },
            "PathExpression" => self.paths(&list("paths"), depth),
            "ExternalIDExpression" => match text(expression, "member_type") {
                "VirtualNetworkInterface" => Members {
                    vifs: list("external_ids"),
                    ..Members::default()
                },
                // NSX's default member type.
                "VirtualMachine" | "" => Members {
                    vms: list("external_ids"),
                    ..Members::default()
                },
                _ => Members::default(),
            },
            _ => Members::default(),
        }
    }

    /// What a path expression names: segments, segment ports, and the members of groups.
    fn paths(&self, paths: &BTreeSet<String>, depth: usize) -> Members {
        let mut members = Members::default();
        for object in self
            .objects
            .iter()
            .filter(|o| paths.contains(o.path.as_str()))
        {
            let path = object.path.to_string();
            match object.resource_type() {
                "Segment" => {
                    members.segments.insert(path);
                }
                "SegmentPort" => {
                    members.ports.insert(path);
                }
                "Group" => members = members.union(self.members_at(object, depth + 1)),
                _ => {}
            }
        }
        members
    }

    fn condition(&self, condition: &Map<String, Value>) -> Members {
        let test = Test::of(condition);
        let of_type = |resource_type: &'static str| {
            self.objects
                .iter()
                .filter(move |object| object.resource_type() == resource_type)
                .filter(|object| test.matches_object(object))
                .map(|object| object.path.to_string())
                .collect()
        };
        match text(condition, "member_type") {
            "VirtualMachine" => Members {
                vms: self
                    .vms
                    .iter()
                    .filter(|vm| test.matches_vm(vm))
                    .map(|vm| vm.external_id.clone())
                    .collect(),
                ..Members::default()
            },
            "Segment" => Members {
                segments: of_type("Segment"),
                ..Members::default()
            },
            "SegmentPort" => Members {
                ports: of_type("SegmentPort"),
                ..Members::default()
            },
            _ => Members::default(),
        }
    }

    /// The IP addresses of `members`: those given, and those of its interfaces.
    pub fn ip_addresses(&self, members: &Members) -> BTreeSet<String> {
        let mut ips = members.ips.clone();
        for (vif, _) in self.member_vifs(members) {
            ips.extend(vif.ip_addresses.iter().map(ToString::to_string));
        }
        ips
    }

    /// The interfaces of `members`, each as NSX serves it: those of its virtual machines,
    /// those named by external id, and those attached to its segment ports and to the ports
    /// of its segments.
    pub fn member_vifs(&self, members: &Members) -> Vec<(&Vif, Value)> {
        let attachments = self.attachments_of(members);
        let mut vifs = Vec::new();
        for vm in self.vms {
            let whole = members.vms.contains(&vm.external_id);
            for (vif, served) in vm.served_vifs() {
                let named = served["external_id"]
                    .as_str()
                    .is_some_and(|id| members.vifs.contains(id));
                let attached = vif
                    .lport_attachment_id
                    .as_ref()
                    .is_some_and(|id| attachments.contains(id));
                if whole || named || attached {
                    vifs.push((vif, served));
                }
            }
        }
        vifs
    }

    /// The attachment ids of the segment ports of `members` and of its segments' ports.
    fn attachments_of(&self, members: &Members) -> BTreeSet<String> {
        self.objects
            .iter()
            .filter(|object| object.resource_type() == "SegmentPort")
            .filter(|port| {
                members.ports.contains(port.path.as_str())
                    || port
                        .path
                        .parent()
                        .is_some_and(|segment| members.segments.contains(segment))
            })
            .filter_map(|port| {
                let attachment = port.config.members().get("attachment")?;
                Some(attachment.get("id")?.as_str()?.to_owned())
            })
            .collect()
    }
}

/// A condition's test of one member: its key, operator and value.
struct Test {
    key: String,
    operator: String,
    value: String,
    scope_differs: bool,
}

impl Test {
    fn of(condition: &Map<String, Value>) -> Self {
        let operator = match text(condition, "operator") {
            "" => "EQUALS",
            given => given,
        };
        Self {
            key: text(condition, "key").to_owned(),
            operator: operator.to_ascii_uppercase(),
            value: text(condition, "value").to_owned(),
            scope_differs: text(condition, "scope_operator").eq_ignore_ascii_case("NOTEQUALS"),
        }
    }

    fn matches_vm(&self, vm: &VirtualMachine) -> bool {
        match self.key.as_str() {
            "Tag" => self.matches_tags(&vm.tags),
            "Name" => self.compares(&vm.display_name),
            "OSName" => vm
                .guest_info
                .os_name
                .as_deref()
                .is_some_and(|os| self.compares(os)),
            "ComputerName" => vm
                .guest_info
                .computer_name
                .as_deref()
                .is_some_and(|name| self.compares(name)),
            _ => false,
        }
    }

    fn matches_object(&self, object: &PolicyObject) -> bool {
        match self.key.as_str() {
            "Tag" => {
                let tags = object.config.members().get("tags").cloned();
                let tags: Vec<Tag> = tags
                    .and_then(|tags| serde_json::from_value(tags).ok())
                    .unwrap_or_default();
                self.matches_tags(&tags)
            }
            "Name" => self.compares(object.config.display_name()),
            _ => false,
        }
    }

    /// A tag condition's `scope|tag`: the scope compared by `scope_operator` (equal unless
    /// it says `NOTEQUALS`), the tag by `operator`; an empty side matches any.
    fn matches_tags(&self, tags: &[Tag]) -> bool {
        let (scope, tag) = match self.value.split_once('|') {
            Some((scope, tag)) => (scope, tag),
            None => ("", self.value.as_str()),
        };
        tags.iter().any(|given| {
            let scope_ok =
                scope.is_empty() || given.scope.eq_ignore_ascii_case(scope) != self.scope_differs;
            let tag_ok = tag.is_empty() || self.compares_with(&given.tag, tag);
            scope_ok && tag_ok
        })
    }

    fn compares(&self, text: &str) -> bool {
        self.compares_with(text, &self.value)
    }

    /// Whether `text` compares to `value` as the operator says, case-insensitively.
    fn compares_with(&self, text: &str, value: &str) -> bool {
        let (text, value) = (text.to_lowercase(), value.to_lowercase());
        let listed = || value.split(',').map(str::trim).any(|item| item == text);
        match self.operator.as_str() {
            "EQUALS" => text == value,
            "NOTEQUALS" => text != value,
            "CONTAINS" => text.contains(&value),
            "STARTSWITH" => text.starts_with(&value),
            "ENDSWITH" => text.ends_with(&value),
            "IN" => listed(),
            "NOTIN" => !listed(),
            "MATCHES" => regex::Regex::new(&format!("^(?:{value})$"))
                .is_ok_and(|pattern| pattern.is_match(&text)),
            _ => false,
        }
    }
}

fn text<'a>(members: &'a Map<String, Value>, field: &str) -> &'a str {
    members
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vm(id: &str, tag: (&str, &str), os: &str) -> VirtualMachine {
        let (scope, tag) = tag;
        let body = json!({"tags": [{"scope": scope, "tag": tag}], "guest_info": {"os_name": os}});
        VirtualMachine::from_body(id, body).unwrap()
    }

    /// A condition on virtual machines.
    fn on_vms(key: &str, operator: &str, value: &str) -> Value {
        json!({"resource_type": "Condition", "member_type": "VirtualMachine",
            "key": key, "operator": operator, "value": value})
    }

    fn conjunction(operator: &str) -> Value {
        json!({"resource_type": "ConjunctionOperator", "conjunction_operator": operator})
    }

    #[test]
    fn conditions_match_as_nsx_evaluates_them() {
        let vms = [
            vm("a", ("app", "web"), "Ubuntu Linux"),
            vm("b", ("app", "DB"), "CentOS"),
            vm("c", ("tier", "web"), "Windows"),
        ];
        let world = World {
            vms: &vms,
            objects: &[],
        };
        let selected = |expressions: &[Value]| -> Vec<String> {
            world.expressions(expressions, 0).vms.into_iter().collect()
        };
        let tag = |value: &str| on_vms("Tag", "EQUALS", value);
        assert_eq!(selected(&[tag("app|web")]), ["a"]);
        assert_eq!(selected(&[tag("|web")]), ["a", "c"], "any scope");
        assert_eq!(selected(&[tag("web")]), ["a", "c"], "a tag alone");
        assert_eq!(selected(&[tag("app|")]), ["a", "b"], "any tag of a scope");
        assert_eq!(selected(&[tag("app|db")]), ["b"], "case-insensitive");
        let os = on_vms("OSName", "STARTSWITH", "ubuntu");
        assert_eq!(selected(&[os]), ["a"]);
        let name = on_vms("Name", "NOTEQUALS", "b");
        assert_eq!(selected(&[name]), ["a", "c"]);
        let listed = on_vms("Name", "IN", "a, c");
        assert_eq!(selected(&[listed]), ["a", "c"]);
        let pattern = on_vms("OSName", "MATCHES", "cent.*");
        assert_eq!(selected(&[pattern]), ["b"]);

        // AND binds before OR.
        let either = [
            tag("app|web"),
            conjunction("OR"),
            tag("app|db"),
            conjunction("AND"),
            on_vms("OSName", "EQUALS", "windows"),
        ];
        assert_eq!(selected(&either), ["a"]);
    }
}
