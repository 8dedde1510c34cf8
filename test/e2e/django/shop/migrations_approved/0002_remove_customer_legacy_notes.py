from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        # Django runs this migration in one transaction on PostgreSQL, so the
        # approval holds for this migration only.
        migrations.RunSQL(
            "SET LOCAL migsafe.approve = 'public.shop_customer.legacy_notes'",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            "SET LOCAL migsafe.reason = 'e2e: legacy notes are not used any more'",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RemoveField(
            model_name="customer",
            name="legacy_notes",
        ),
    ]
