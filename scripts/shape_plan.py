#!/usr/bin/env python3
"""Reshape a `terraform show -json` plan made of terraform_data resources into the provider
resources they stand for.

A terraform_data resource whose `input` is {type = "aws_eks_cluster", values = {...}} becomes an
`aws_eks_cluster` whose attributes are `values` (plus the original `id`): its address, type,
provider, before/after values and their sensitive/unknown markers are rewritten; everything else
(actions, action_reason, replace_paths, indexes, modules, prior_state shape) stays exactly as
terraform wrote it, except that a `_forces` value names the attribute that
`triggers_replace` stands for in `replace_paths`, and that the configuration's addresses and
references and the prior state's `depends_on` follow the new types. Reads the plan on stdin,
writes it on stdout.
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


def config_path(address):
    """The module names of an instance address: module.a["x"].module.b.t.n -> ("a", "b")."""
    names, rest = [], address
    while rest.startswith("module."):
        rest = rest[len("module."):]
        end = 0
        while end < len(rest) and rest[end] not in ".[":
            end += 1
        names.append(rest[:end])
        rest = rest[end:]
        if rest.startswith("["):
            depth, i, in_str = 0, 0, False
            for i, c in enumerate(rest):
                if in_str:
                    in_str = c != '"' or rest[i - 1] == "\\"
                elif c == '"':
                    in_str = True
                elif c == "[":
                    depth += 1
                elif c == "]":
                    depth -= 1
                    if depth == 0:
                        break
            rest = rest[i + 1:]
        rest = rest[1:]
    return tuple(names)


def rename_ref(ref, types):
    """`terraform_data.x...` in a module whose terraform_data.x was reshaped to `aws_y`."""
    if not ref.startswith("terraform_data."):
        return ref
    name = ref[len("terraform_data."):].split(".")[0].split("[")[0]
    return rename(ref, "terraform_data", types[name]) if name in types else ref


def reshape_config(module, path, renames):
    """Configuration addresses, references and depends_on follow the reshaped types."""
    types = renames.get(path, {})
    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "references" and isinstance(v, list):
                    node[k] = [rename_ref(r, types) if isinstance(r, str) else r for r in v]
                elif k != "constant_value":
                    refs(v)
        elif isinstance(node, list):
            for v in node:
                refs(v)
    for r in module.get("resources", []):
        if r.get("type") == "terraform_data" and r.get("name") in types:
            r["type"] = types[r["name"]]
            r["address"] = rename_ref(r["address"], types)
        refs(r.get("expressions", {}))
        if "depends_on" in r:
            r["depends_on"] = [rename_ref(d, types) for d in r["depends_on"]]
    for out in module.get("outputs", {}).values():
        refs(out)
    for name, call in module.get("module_calls", {}).items():
        refs(call.get("expressions", {}))
        if "module" in call:
            reshape_config(call["module"], path + (name,), renames)


def rename_dependency(address, renames):
    """An absolute configuration address (prior_state depends_on)."""
    path = config_path(address)
    rest = address.split("terraform_data.")[-1] if "terraform_data." in address else None
    if rest is None:
        return address
    name = rest.split(".")[0]
    new_type = renames.get(path, {}).get(name)
    return rename(address, "terraform_data", new_type) if new_type else address


def reshape_dependencies(module, renames):
    for r in module.get("resources", []):
        if "depends_on" in r:
            r["depends_on"] = [rename_dependency(d, renames) for d in r["depends_on"]]
    for child in module.get("child_modules", []):
        reshape_dependencies(child, renames)


def main():
    plan = json.load(sys.stdin)
    renames = {}
    for rc in plan.get("resource_changes", []):
        if rc.get("type") == "terraform_data":
            shaped = shape_of(rc["change"].get("before")) or shape_of(rc["change"].get("after"))
            if shaped:
                path = config_path(rc.get("module_address", ""))
                renames.setdefault(path, {})[rc["name"]] = shaped[0]
    for rc in plan.get("resource_changes", []) + plan.get("resource_drift", []):
        reshape_change(rc)
    # `values` is what `terraform show -json` of a state holds.
    sections = (plan.get("prior_state", {}).get("values"), plan.get("planned_values"), plan.get("values"))
    for section in sections:
        if section and "root_module" in section:
            reshape_module(section["root_module"])
    state = plan.get("prior_state", {}).get("values", {})
    if "root_module" in state:
        reshape_dependencies(state["root_module"], renames)
    if "root_module" in plan.get("configuration", {}):
        reshape_config(plan["configuration"]["root_module"], (), renames)
    json.dump(plan, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
