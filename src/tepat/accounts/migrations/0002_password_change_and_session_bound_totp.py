from django.db import migrations, models


def forget_pending_secrets(apps, schema_editor):
    # A secret that was never confirmed was shared by every session that saw the enrolment page;
    # from now on a pending secret lives only in the session enrolling it.
    User = apps.get_model("accounts", "User")
    User.objects.filter(totp_confirmed_at__isnull=True).exclude(totp_secret_enc="").update(
        totp_secret_enc=""
    )


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(forget_pending_secrets, migrations.RunPython.noop),
    ]
