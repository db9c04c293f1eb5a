# Pins, partial runs and breakpoints (issue 23): a node run records that it completed with pinned
# data, or that it was reused from an earlier execution's run; a debug run keeps its breakpoints.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("executions", "0005_operations"),
    ]

    operations = [
        migrations.AddField(
            model_name="execution",
            name="debug",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="noderun",
            name="pinned",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="noderun",
            name="reused_from",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
