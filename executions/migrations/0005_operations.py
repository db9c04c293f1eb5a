# Issue 26: concurrency limits and priorities, retention's index, resource figures of node runs.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("executions", "0004_composition"),
    ]

    operations = [
        migrations.AddField(
            model_name="execution",
            name="priority",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="execution",
            name="held",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="noderun",
            name="resources",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(fields=["finished_at"], name="execution_finished"),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(condition=models.Q(("held", ""), _negated=True), fields=["priority", "created_at"],
                               name="execution_held"),
        ),
    ]
