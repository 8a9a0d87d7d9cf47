"""Data: encrypt every birth date (row-bound) and rebind NIK, phone, No. KK and account
ciphertexts to their row (tepat.registry.at_rest). A data migration, not a command: the code
after this migration opens only row-bound values, so the data must change in the same step
as the code that reads it (there is no window where old tokens meet new code)."""

from django.db import migrations


def forward(apps, schema_editor):
    from tepat.registry import at_rest

    models = {n: apps.get_model("registry", n) for n in ("Person", "Household", "FinancialAddress")}
    at_rest.seal_birth_dates(models["Person"])
    report = at_rest.bind_rows(models)
    unreadable = {k: v for k, v in report.unreadable.items() if v}
    if unreadable:
        print(f"\n  registry 0004: left as they were (no configured key opens them): {unreadable}")


def backward(apps, schema_editor):
    from tepat.registry import at_rest

    models = {n: apps.get_model("registry", n) for n in ("Person", "Household", "FinancialAddress")}
    at_rest.unbind_rows(models)
    at_rest.unseal_birth_dates(models["Person"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_person_birth_year_birth_date_enc"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
