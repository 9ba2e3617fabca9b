#!/usr/bin/env python3
"""Reshape a `terraform show -json` plan made of terraform_data resources into the provider
resources they stand for.

A terraform_data resource whose `input` is {type = "aws_eks_cluster", values = {...}} becomes an
`aws_eks_cluster` whose attributes are `values` (plus the original `id`): its address, type,
provider, before/after values and their sensitive/unknown markers are rewritten; everything else
(actions, action_reason, replace_paths, indexes, modules, prior_state shape) stays exactly as
terraform wrote it, except that a `_forces` value names the attribute that
`triggers_replace` stands for in `replace_paths`. Reads the plan on stdin, writes it on stdout.
"""
import json
import sys

PROVIDERS = {
    "aws": "registry.terraform.io/hashicorp/aws",
    "google": "registry.terraform.io/hashicorp/google",
    "azurerm": "registry.terraform.io/hashicorp/azurerm",
    "kubernetes": "registry.terraform.io/hashicorp/kubernetes",
    "helm": "registry.terraform.io/hashicorp/helm",
}


def shape_of(values):
    """The (type, attributes) a terraform_data value stands for, or None."""
    if not isinstance(values, dict):
        return None
    inp = values.get("input")
    if isinstance(inp, dict) and isinstance(inp.get("type"), str) and "values" in inp:
        attrs = dict(inp["values"]) if isinstance(inp["values"], dict) else {}
        attrs.pop("_forces", None)
        if values.get("id") is not None:
            attrs.setdefault("id", values["id"])
        return inp["type"], attrs
    return None


def marker(markers):
    """The sensitive/unknown markers of `input.values`, in the reshaped attributes' place."""
    if isinstance(markers, dict):
        inp = markers.get("input")
        if isinstance(inp, dict):
            return inp.get("values", {})
        if inp is True:
            return True
    return {}


def rename(address, old_type, new_type):
    needle = old_type + "."
    i = address.rfind(needle)
    return address if i < 0 else address[:i] + new_type + "." + address[i + len(needle):]


def provider(new_type):
    return PROVIDERS.get(new_type.split("_", 1)[0], "registry.terraform.io/hashicorp/" + new_type.split("_", 1)[0])


def reshape_change(rc):
    change = rc["change"]
    shaped = shape_of(change.get("before")) or shape_of(change.get("after"))
    if rc.get("type") != "terraform_data" or not shaped:
        return
    new_type = shaped[0]
    # `_forces` names the provider attribute that triggers_replace stands for.
    forces = None
    for key in ("after", "before"):
        v = change.get(key)
        if isinstance(v, dict) and isinstance(v.get("input"), dict):
            forces = (v["input"].get("values") or {}).get("_forces") or forces
    if forces and change.get("replace_paths") == [["triggers_replace"]]:
        change["replace_paths"] = [[int(p) if p.isdigit() else p for p in forces.split(".")]]
    for key in ("before", "after"):
        s = shape_of(change.get(key))
        if s:
            change[key] = s[1]
    for key in ("before_sensitive", "after_sensitive", "after_unknown"):
        if key in change:
            change[key] = marker(change[key])
    for key in ("address", "previous_address"):
        if key in rc:
            rc[key] = rename(rc[key], "terraform_data", new_type)
    rc["type"] = new_type
    rc["provider_name"] = provider(new_type)


def reshape_module(module):
    for r in module.get("resources", []):
        s = shape_of(r.get("values"))
        if r.get("type") == "terraform_data" and s:
            r["address"] = rename(r["address"], "terraform_data", s[0])
            r["type"] = s[0]
            r["provider_name"] = provider(s[0])
            r["values"] = s[1]
            if "sensitive_values" in r:
                r["sensitive_values"] = marker(r["sensitive_values"])
    for child in module.get("child_modules", []):
        reshape_module(child)


def main():
    plan = json.load(sys.stdin)
    for rc in plan.get("resource_changes", []) + plan.get("resource_drift", []):
        reshape_change(rc)
    for section in (plan.get("prior_state", {}).get("values"), plan.get("planned_values")):
        if section and "root_module" in section:
            reshape_module(section["root_module"])
    json.dump(plan, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
