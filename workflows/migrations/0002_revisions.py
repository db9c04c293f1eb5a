# Reserved for workflow writes with a revision check (issue 25), so that helpers working at once keep one line of migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0001_initial"),
    ]

    operations = []
