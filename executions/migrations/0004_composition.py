# Reserved for child executions (issue 18), so that helpers working at once keep one line of migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("executions", "0003_node_run_due"),
    ]

    operations = []
