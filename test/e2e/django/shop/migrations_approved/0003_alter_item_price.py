from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0002_remove_customer_legacy_notes"),
    ]

    operations = [
        migrations.RunSQL(
            "SET LOCAL migsafe.approve = 'public.shop_item.price'",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="item",
            name="price",
            field=models.IntegerField(),
        ),
        # Going back (integer to varchar) is a type change too: approve it
        # last, so that it runs first when the migration is unapplied.
        migrations.RunSQL(
            migrations.RunSQL.noop,
            reverse_sql="SET LOCAL migsafe.approve = 'public.shop_item.price'",
        ),
    ]
