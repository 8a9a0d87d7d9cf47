# Differences are exposed by a random public id, never their sequential primary key.

from django.db import migrations, models

import tepat.core.ids


def _fill(apps, schema_editor):
    Difference = apps.get_model("payments", "Difference")
    for pk in Difference.objects.filter(public_id__isnull=True).values_list("pk", flat=True):
        Difference.objects.filter(pk=pk).update(public_id=tepat.core.ids.new_public_id())


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0002_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='difference',
            name='public_id',
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='difference',
            name='public_id',
            field=models.CharField(default=tepat.core.ids.new_public_id, editable=False, max_length=16, unique=True),
        ),
    ]
