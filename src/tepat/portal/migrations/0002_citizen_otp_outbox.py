"""Sign-in codes are queued by the request and sent by the worker: the code (encrypted until
sent), its state and when it went out. Codes written before were sent at once: they are "sent"."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="citizenotp",
            name="code_enc",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="citizenotp",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Existing rows were sent inside their request: "sent"; new rows start "queued".
        migrations.AddField(
            model_name="citizenotp",
            name="state",
            field=models.CharField(
                choices=[("queued", "queued"), ("sent", "sent"), ("dropped", "dropped")],
                default="sent",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="citizenotp",
            name="state",
            field=models.CharField(
                choices=[("queued", "queued"), ("sent", "sent"), ("dropped", "dropped")],
                default="queued",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="citizenotp",
            name="person_ref",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddIndex(
            model_name="citizenotp",
            index=models.Index(fields=["state", "id"], name="citizenotp_due"),
        ),
    ]
