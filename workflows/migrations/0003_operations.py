# Reserved for workflow limits and retention (issue 26), so that helpers working at once keep one line of migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0002_revisions"),
    ]

    operations = []
