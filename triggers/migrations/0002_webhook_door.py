# Reserved for the durable webhook door (issue 20), so that helpers working at once keep one line of migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("triggers", "0001_initial"),
    ]

    operations = []
