# Reserved for resource figures and limits (issue 26), so that helpers working at once keep one line of migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("executions", "0004_composition"),
    ]

    operations = []
