# Child executions (issue 18): a group's run, a loop's iterations and a sub-workflow call are
# executions with a parent (COMPOSITION.md).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("executions", "0003_node_run_due"),
    ]

    operations = [
        migrations.AddField(
            model_name="execution",
            name="parent",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="children", to="executions.execution"),
        ),
        migrations.AddField(
            model_name="execution",
            name="parent_node_id",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="execution",
            name="parent_index",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="execution",
            name="depth",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(fields=["parent", "parent_node_id", "parent_index"], name="execution_child"),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(condition=models.Q(("parent__isnull", True)), fields=["owner", "-created_at"],
                               name="execution_top_level"),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(condition=models.Q(("last_seq", 0), ("status", "queued")),
                               fields=["parent", "parent_node_id", "parent_index"], name="execution_unstarted_child"),
        ),
    ]
