"""Person: birth year (clear) and the full birth date encrypted; the clear date is emptied by
0004 and dropped by 0005 (three steps: PostgreSQL will not alter a table in the transaction
that updated its rows)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_person_restricted_erased"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="birth_year",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="person",
            name="birth_date_enc",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="person",
            name="birth_date",
            field=models.DateField(null=True),
        ),
    ]
