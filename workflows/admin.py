"""Django admin of workflows: a searchable list, a read-only picture of the graph, and a JSON
editor whose saves go through workflows.services (an invalid draft is saved, its problems shown)."""

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from engine.graph import MAIN, Graph
from nodeflow.api import unstorable_json
from executions.models import Execution
from nodes.registry import UnknownNodeType, registry
from workflows import services
from workflows.models import Workflow, WorkflowVersion
from nodes.validation import NODE_ID, InvalidWorkflow, api_version_problem, validate_document

MAX_DRAWN_NODES = 300
MAX_LISTED_PROBLEMS = 5


class PrettyJSONField(forms.JSONField):
    """A JSON field shown indented, for editing by hand."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class WorkflowForm(forms.ModelForm):
    definition = PrettyJSONField(
        label="Document",
        help_text="The nodeflow/v1 document. It is validated on save; a draft with problems is saved anyway.",
        widget=forms.Textarea(attrs={"rows": 32, "spellcheck": "false",
                                     "style": "font-family: monospace; width: 95%; tab-size: 2"}),
    )

    class Meta:
        model = Workflow
        fields = ["owner", "name", "definition"]

    def clean_definition(self):
        document = self.cleaned_data["definition"]
        unstorable = unstorable_json(document)
        if unstorable:
            raise forms.ValidationError(f"cannot be stored: {unstorable}", code="unstorable")
        unreadable = api_version_problem(document)
        if unreadable is not None:
            raise forms.ValidationError(unreadable["message"], code=unreadable["code"])
        limit = settings.NODEFLOW["MAX_DOCUMENT_BYTES"]
        if len(json.dumps(document, ensure_ascii=False).encode()) > limit:
            raise forms.ValidationError(f"the document is larger than {limit} bytes", code="document_too_large")
        return document


class PublishedFilter(admin.SimpleListFilter):
    title = "published"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("yes", "Published"), ("no", "Draft only")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(published_version__isnull=False)
        if self.value() == "no":
            return queryset.filter(published_version__isnull=True)
        return queryset


class WorkflowVersionInline(admin.TabularInline):
    model = WorkflowVersion
    fk_name = "workflow"
    extra = 0
    can_delete = False
    fields = ["number", "revision", "created_by", "created_at"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowForm
    list_display = ["name", "owner", "published", "revision", "last_execution_status", "updated_at"]
    list_filter = [PublishedFilter, "owner"]
    search_fields = ["name", "owner__username", "owner__email"]
    list_select_related = ["owner", "published_version"]
    readonly_fields = ["published", "revision", "created_at", "updated_at", "graph", "validation"]
    inlines = [WorkflowVersionInline]
    actions = ["publish_selected", "unpublish_selected"]
    fieldsets = [
        (None, {"fields": ["owner", "name", "published", "revision", "created_at", "updated_at"]}),
        ("Graph", {"fields": ["graph"]}),
        ("Document", {"fields": ["validation", "definition"]}),
    ]

    def get_queryset(self, request):
        last_status = Execution.objects.filter(workflow=OuterRef("pk")).order_by("-created_at").values("status")[:1]
        return super().get_queryset(request).annotate(last_execution_status=Subquery(last_status))

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, "definition": services.new_document(services.UNTITLED)}

    @admin.display(description="published version", ordering="published_version__number")
    def published(self, workflow):
        return f"v{workflow.published_version.number}" if workflow.published_version_id else "—"

    @admin.display(description="last execution", ordering="last_execution_status")
    def last_execution_status(self, workflow):
        return getattr(workflow, "last_execution_status", None) or "—"

    @admin.display(description="graph")
    def graph(self, workflow):
        return draw_graph(workflow.definition, _problems_of(workflow))

    @admin.display(description="validation")
    def validation(self, workflow):
        return problems_html(_problems_of(workflow))

    def save_model(self, request, obj, form, change):
        """Saves through the services (they bump the revision and record node versions), then shows the problems."""
        data = form.cleaned_data
        if change:
            stored = Workflow.objects.get(pk=obj.pk)
            saved, errors = services.update_workflow(
                stored,
                name=data["name"] if "name" in form.changed_data else None,
                definition=data["definition"] if "definition" in form.changed_data else None,
            )
        else:
            saved, errors = services.create_workflow(data["owner"], data["name"], data["definition"])
        obj.pk = saved.pk
        obj.refresh_from_db()
        if errors:
            self.message_user(request, format_html("Saved as a draft with {} validation problem(s); it cannot be "
                                                   "published until they are fixed:{}", len(errors),
                                                   problems_html(errors[:MAX_LISTED_PROBLEMS])), messages.WARNING)
        else:
            self.message_user(request, "The document is valid.", messages.SUCCESS)

    def delete_model(self, request, obj):
        services.delete_workflow(obj)

    @admin.action(description="Publish the selected workflows' drafts")
    def publish_selected(self, request, queryset):
        for workflow in queryset:
            try:
                version = services.publish_workflow(workflow, request.user)
            except InvalidWorkflow as exc:
                self.message_user(request, f"{workflow.name}: not published: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{workflow.name}: published as v{version.number}", messages.SUCCESS)

    @admin.action(description="Unpublish the selected workflows")
    def unpublish_selected(self, request, queryset):
        for workflow in queryset.filter(published_version__isnull=False):
            services.unpublish_workflow(workflow)
            self.message_user(request, f"{workflow.name}: unpublished", messages.SUCCESS)


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    """Published versions are immutable: viewable, never edited."""

    list_display = ["workflow", "number", "revision", "created_by", "created_at"]
    list_select_related = ["workflow", "created_by"]
    search_fields = ["workflow__name"]
    fields = ["workflow", "number", "revision", "created_by", "created_at", "graph", "document"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="graph")
    def graph(self, version):
        return draw_graph(version.definition)

    @admin.display(description="document")
    def document(self, version):
        return format_html("<pre style=\"max-height: 40em; overflow: auto\">{}</pre>",
                           json.dumps(version.definition, indent=2, ensure_ascii=False))


def _problems_of(workflow):
    """The draft's validation problems, computed once per page (two fields show them)."""
    cached = getattr(workflow, "_validation_problems", None)
    if cached is None or cached[0] is not workflow.definition:
        cached = workflow._validation_problems = (workflow.definition, validate_document(workflow.definition))
    return cached[1]


def problems_html(problems):
    if not problems:
        return format_html("<span style=\"color: #2a7d2a\">{}</span>", "valid")
    items = format_html_join("", "<li><code>{}</code> {}{}</li>", (
        (p["code"], p["message"], format_html(" <small>at {}</small>", p["path"]) if p.get("path") else "")
        for p in problems
    ))
    return format_html("<ul style=\"margin-left: 0; padding-left: 1.2em\">{}</ul>", items)


# -- the graph picture -------------------------------------------------------------------------

NODE_WIDTH, NODE_HEIGHT = 160, 46
COLUMN_GAP, ROW_GAP, MARGIN = 80, 30, 20


def graph_layout(document, problems=()):
    """Boxes and arrows of a document's graph, for drawing: canvas positions when every node has
    one, else columns by depth from the roots. Tolerates any document (drafts may be broken)."""
    raw_nodes = document.get("nodes") if isinstance(document, dict) else None
    raw_edges = document.get("edges") if isinstance(document, dict) else None
    nodes, seen = [], set()
    for node in raw_nodes if isinstance(raw_nodes, list) else []:
        if isinstance(node, dict) and isinstance(node.get("id"), str) and NODE_ID.match(node["id"]) \
                and node["id"] not in seen:
            seen.add(node["id"])
            nodes.append(node)
    edges = [e for e in (raw_edges if isinstance(raw_edges, list) else [])
             if isinstance(e, dict) and all(isinstance(e.get(end), str) and e[end] in seen for end in ("from", "to"))
             and isinstance(e.get("port", MAIN), str)]
    graph = Graph(nodes, edges)
    positions = _canvas_positions(nodes) or _layered_positions(graph)
    flagged = {p["node_id"] for p in problems if p.get("node_id")}
    boxes = []
    for node in nodes:
        x, y = positions[node["id"]]
        type_name = node.get("type") if isinstance(node.get("type"), str) else "?"
        try:
            trigger = registry.for_node(node).trigger
        except (UnknownNodeType, TypeError):
            trigger = False
        boxes.append({"id": node["id"], "type": type_name[:28], "x": x, "y": y, "trigger": trigger,
                      "invalid": node["id"] in flagged})
    ports_between = {}  # one arrow per pair of nodes, labelled with every port it stands for
    for edge in graph.edges:
        ports_between.setdefault((edge.source, edge.target), []).append(edge.port)
    arrows = []
    for (source, target), ports in ports_between.items():
        (x1, y1), (x2, y2) = positions[source], positions[target]
        label = ", ".join(port[:20] for port in ports if port != MAIN)
        arrows.append({"x1": x1 + NODE_WIDTH, "y1": y1 + NODE_HEIGHT / 2, "x2": x2, "y2": y2 + NODE_HEIGHT / 2,
                       "port": label})
    width = max((b["x"] for b in boxes), default=0) + NODE_WIDTH + MARGIN
    height = max((b["y"] for b in boxes), default=0) + NODE_HEIGHT + MARGIN
    return {"boxes": boxes, "arrows": arrows, "width": width, "height": height}


def _canvas_positions(nodes):
    points = {}
    for node in nodes:
        position = node.get("position")
        if not (isinstance(position, list) and len(position) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)):
            return None
        points[node["id"]] = position
    if not points:
        return None
    left = min(x for x, _ in points.values())
    top = min(y for _, y in points.values())
    return {node_id: (x - left + MARGIN, y - top + MARGIN) for node_id, (x, y) in points.items()}


def _layered_positions(graph):
    try:
        order = graph.topological_order
    except ValueError:  # a cycle: depth by breadth-first search from the roots instead
        order = None
    depth = {}
    if order is not None:
        for node_id in order:
            depth[node_id] = max((depth[p] + 1 for p in graph.predecessors(node_id)), default=0)
    else:
        frontier = graph.roots() or graph.order[:1]
        depth = dict.fromkeys(frontier, 0)
        while frontier:
            following = []
            for node_id in frontier:
                for child in graph.successors(node_id):
                    if child not in depth:
                        depth[child] = depth[node_id] + 1
                        following.append(child)
            frontier = following
        for node_id in graph.order:
            depth.setdefault(node_id, 0)
    rows = {}
    positions = {}
    for node_id in graph.order:
        column = depth[node_id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        positions[node_id] = (MARGIN + column * (NODE_WIDTH + COLUMN_GAP), MARGIN + row * (NODE_HEIGHT + ROW_GAP))
    return positions


def draw_graph(document, problems=()):
    """The graph as a small read-only SVG picture (HTML-safe)."""
    nodes = document.get("nodes") if isinstance(document, dict) else None
    if isinstance(nodes, list) and len(nodes) > MAX_DRAWN_NODES:
        return f"{len(nodes)} nodes: too many to draw here."
    if not nodes:
        return "No nodes yet."
    layout = graph_layout(document, problems)
    return mark_safe(render_to_string("workflows/graph.svg", {**layout, "node_width": NODE_WIDTH,
                                                               "node_height": NODE_HEIGHT}))
