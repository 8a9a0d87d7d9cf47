"""Each payment gets its own random ledger salt (issue 17: per-payment pseudonyms in the log).

AddField would give every existing row the same default value, so the column is added empty,
existing rows get one random salt each (in batches), and only then does the default apply."""

import os

from django.db import migrations, models

import tepat.payments.models

BATCH = 5000


def fill_salts(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    last = 0
    while True:
        ids = list(
            Payment.objects.filter(id__gt=last, ledger_salt="")
            .order_by("id")
            .values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return
        rows = [Payment(id=i, ledger_salt=os.urandom(16).hex()) for i in ids]
        Payment.objects.bulk_update(rows, ["ledger_salt"], batch_size=1000)
        last = ids[-1]


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_difference_kinds_paid_twice_and_paid_cancelled"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="ledger_salt",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(fill_salts, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="payment",
            name="ledger_salt",
            field=models.CharField(
                default=tepat.payments.models.new_ledger_salt, editable=False, max_length=32
            ),
        ),
    ]
