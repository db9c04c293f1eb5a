# Reserved for pins, partial runs and breakpoints (issue 23), so that helpers working at once keep one line of migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("executions", "0005_operations"),
    ]

    operations = []
