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


def _combines_by_key(params, version, mode):
    if version < 2:
        return mode in ("mergeByKey", "keyMatches")
    if mode != "combine":
        return False
    if version < 3:
        return params.get("combinationMode", "mergeByFields") == "mergeByFields"
    return params.get("combineBy", "combineByFields") == "combineByFields"


def translate(node, ctx):
    params = node.get("parameters") or {}
    version = ctx.type_version
    mode = params.get("mode", "append")
    if mode == "append":
        return Translation("flow.merge", {"mode": "all", "shape": "append"},
                           ["the inputs' outputs are concatenated in input order (one list)"])
    if _combines_by_key(params, version, mode):
        join = params.get("joinMode", "keepMatches")
        if join not in ("keepMatches", "keepEverything", "enrichInput1", "enrichInput2"):
            raise NotTranslated(f"combining with join mode {join!r}")
        key = _key(params, version)
        notes = [f"joined on {key!r}: the items of every input are kept and merged by key (n8n's join mode was "
                 f"{join!r})"]
        if params.get("outputDataFrom") or (params.get("options") or {}).get("clashHandling"):
            notes.append("n8n's choice of output data and clash handling are not imported: later inputs' fields win")
        return Translation("flow.merge", {"mode": "all", "shape": "merge_by_key", "key": key}, notes)
    if mode == "chooseBranch" or (version < 2 and mode == "passThrough"):
        if version >= 3:
            choice = "empty" if params.get("chooseBranchMode") == "waitForAll" and params.get("output") == "empty" \
                else f"input{params.get('useDataOfInput', 1)}"
        else:
            choice = params.get("output", "input1")
        if choice == "empty":
            return Translation("flow.merge", {"mode": "all", "shape": "append", "fields": {}},
                               ["waits for every input and outputs nothing useful (n8n: one empty item)"])
        index = int(str(choice).replace("input", "") or 1) - 1
        inputs = ctx.input_ids
        if index >= len(inputs):
            raise NotTranslated(f"it passes on input {index + 1}, which is not connected")
        chosen = inputs[index]
        return Translation("flow.merge", {"mode": "all", "shape": "object", "fields": {chosen: chosen}},
                           [f"waits for every input and outputs input {index + 1} (node {chosen}) under its id"])
    if mode == "wait" and version < 2:
        return Translation("flow.merge", {"mode": "all", "shape": "object"}, ["waits for both inputs"])
    detail = params.get("combinationMode") or params.get("combineBy") if mode == "combine" else None
    raise NotTranslated(f"merge mode {mode!r}" + (f" ({detail})" if detail else ""))
