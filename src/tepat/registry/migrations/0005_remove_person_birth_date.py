from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_seal_birth_dates_bind_rows"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="person",
            name="birth_date",
        ),
        migrations.AlterField(
            model_name="person",
            name="birth_year",
            field=models.PositiveSmallIntegerField(),
        ),
    ]
