from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0003_alter_item_price"),
    ]

    operations = [
        migrations.RunSQL(
            "SET LOCAL migsafe.approve = 'public.shop_coupon'",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.DeleteModel(
            name="Coupon",
        ),
    ]
