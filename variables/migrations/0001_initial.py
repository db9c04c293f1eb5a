# Global variables (issue 22): values with versions, their history, trigger.variable subscriptions, chain depths.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('workflows', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='VariableChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=128)),
                ('op', models.CharField(max_length=16)),
                ('old', models.JSONField(blank=True, null=True)),
                ('new', models.JSONField(blank=True, null=True)),
                ('old_version', models.PositiveBigIntegerField(default=0)),
                ('new_version', models.PositiveBigIntegerField(default=0)),
                ('execution_id', models.UUIDField(blank=True, null=True)),
                ('node_id', models.CharField(blank=True, default='', max_length=64)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('triggers', models.CharField(choices=[('none', 'nothing to start'), ('pending', 'executions to start'), ('done', 'executions started')], default='none', max_length=8)),
                ('started', models.JSONField(blank=True, default=list)),
                ('trigger_error', models.TextField(blank=True, default='')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='VariableRun',
            fields=[
                ('execution_id', models.UUIDField(primary_key=True, serialize=False)),
                ('depth', models.PositiveSmallIntegerField()),
                ('change', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='variables.variablechange')),
            ],
        ),
        migrations.CreateModel(
            name='VariableTrigger',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('node_id', models.CharField(max_length=64)),
                ('pattern', models.CharField(max_length=130)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('workflow', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variable_triggers', to='workflows.workflow')),
            ],
        ),
        migrations.CreateModel(
            name='Variable',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=128)),
                ('value', models.JSONField(blank=True, null=True)),
                ('version', models.PositiveBigIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variables', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['key'],
                'constraints': [models.UniqueConstraint(fields=('owner', 'key'), name='unique_variable_key')],
            },
        ),
        migrations.AddIndex(
            model_name='variablechange',
            index=models.Index(fields=['owner', 'key', '-at'], name='variable_change_key'),
        ),
        migrations.AddIndex(
            model_name='variablechange',
            index=models.Index(fields=['at'], name='variable_change_at'),
        ),
        migrations.AddIndex(
            model_name='variablechange',
            index=models.Index(condition=models.Q(('triggers', 'pending')), fields=['at'], name='variable_change_pending'),
        ),
        migrations.AddIndex(
            model_name='variabletrigger',
            index=models.Index(fields=['owner'], name='variable_trigger_owner'),
        ),
        migrations.AddConstraint(
            model_name='variabletrigger',
            constraint=models.UniqueConstraint(fields=('workflow', 'node_id'), name='unique_variable_trigger'),
        ),
    ]
