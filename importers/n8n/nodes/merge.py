"""Merge (append, combine by key, choose branch; n inputs) → flow.merge."""

from importers.n8n.nodes import NotTranslated, Translation, option

N8N_TYPES = ("n8n-nodes-base.merge",)
VERSIONS = (1, 3.1)


def _key(params, version):
    if version >= 3:
        fields = params.get("fieldsToMatchString")
        if fields is None:
            values = option(params, "fieldsToMatch", "values", default=[]) or []
            fields = ",".join(v.get("field1", "") for v in values if v.get("field1") == v.get("field2"))
        fields = [f.strip() for f in str(fields or "").split(",") if f.strip()]
        if params.get("advanced"):
            raise NotTranslated("combining on fields with different names in each input")
    elif version >= 2:
        values = option(params, "mergeByFields", "values", default=[]) or []
        if any(v.get("field1") != v.get("field2") for v in values):
            raise NotTranslated("combining on fields with different names in each input")
        fields = [v.get("field1") for v in values if v.get("field1")]
    else:
        if params.get("propertyName1") != params.get("propertyName2"):
            raise NotTranslated("merging by keys with different names in each input")
        fields = [params.get("propertyName1")] if params.get("propertyName1") else []
    if len(fields) != 1:
        raise NotTranslated("combining on several fields (flow.merge joins on one key)")
    return fields[0]


def translate(node, ctx):
    params = node.get("parameters") or {}
    version = ctx.type_version
    mode = params.get("mode", "append")
    notes = []
    if mode == "append":
        return Translation("flow.merge", {"mode": "all", "shape": "append"},
                           ["the inputs' outputs are concatenated in input order (one list)"])
    if (version < 2 and mode in ("mergeByKey", "keyMatches")) or (mode == "combine" and (
            params.get("combinationMode", "mergeByFields") == "mergeByFields" if version < 3
            else params.get("combineBy", "combineByFields") == "combineByFields")):
        join = params.get("joinMode", "keepMatches") if version >= 3 else (params.get("joinMode", "keepMatches"))
        if join not in ("keepMatches", "keepEverything", "enrichInput1", "enrichInput2") and version >= 2:
            raise NotTranslated(f"combining with join mode {join!r}")
        notes.append(f"joined on {_key(params, version)!r}: items of every input are kept and merged by key "
                     f"(n8n's join mode was {join!r})")
        return Translation("flow.merge", {"mode": "all", "shape": "merge_by_key", "key": _key(params, version)},
                           notes)
    if mode == "chooseBranch" or (version < 2 and mode == "passThrough"):
        choice = params.get("output", "input1") if version < 3 else f"input{params.get('useDataOfInput', 1)}"
        if version < 2:
            choice = params.get("output", "input1")
        if choice == "empty" or params.get("chooseBranchMode") == "waitForAll" and params.get("output") == "empty":
            return Translation("flow.merge", {"mode": "all", "shape": "append", "fields": {}},
                               ["waits for every input and outputs nothing useful (n8n: one empty item)"])
        index = int(str(choice).replace("input", "") or 1) - 1
        inputs = ctx.input_ids
        if index >= len(inputs):
            raise NotTranslated(f"it passes on input {index + 1}, which is not connected")
        chosen = inputs[index]
        notes.append(f"waits for every input and outputs input {index + 1} (node {chosen}) under its id")
        return Translation("flow.merge", {"mode": "all", "shape": "object", "fields": {chosen: chosen}}, notes)
    if mode == "wait" and version < 2:
        return Translation("flow.merge", {"mode": "all", "shape": "object"}, ["waits for both inputs"])
    raise NotTranslated(f"merge mode {mode!r}" + (f" ({params.get('combinationMode') or params.get('combineBy')})"
                                                  if mode == "combine" else ""))
