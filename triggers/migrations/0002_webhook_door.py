# The durable webhook door (issue 20): requests accepted by the door, kept until their execution starts.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("triggers", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AcceptedRequest",
            fields=[
                ("id", models.UUIDField(editable=False, primary_key=True, serialize=False)),
                ("version", models.PositiveIntegerField()),
                ("input", models.JSONField()),
                ("received_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("endpoint", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                               to="triggers.webhookendpoint")),
            ],
        ),
    ]
