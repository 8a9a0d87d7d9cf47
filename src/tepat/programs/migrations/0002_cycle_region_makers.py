# Cycles get a region (money scope) and a recorded maker; programmes record their last change.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _created_by_from_events(apps, schema_editor):
    """Existing cycles: their maker is the actor of their `create` event. Their region stays
    national (empty), so only national roles act on them until re-created for a region."""
    Cycle = apps.get_model("programs", "Cycle")
    CycleEvent = apps.get_model("programs", "CycleEvent")
    for cycle_id, actor_id in CycleEvent.objects.filter(
        action="create", actor__isnull=False
    ).values_list("cycle_id", "actor_id"):
        Cycle.objects.filter(pk=cycle_id, created_by__isnull=True).update(created_by_id=actor_id)


class Migration(migrations.Migration):

    dependencies = [
        ('programs', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='cycle',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='cycle',
            name='region_code',
            field=models.CharField(blank=True, db_index=True, default='', max_length=10),
        ),
        migrations.AddField(
            model_name='programme',
            name='updated_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='programme',
            name='updated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(_created_by_from_events, migrations.RunPython.noop),
    ]
