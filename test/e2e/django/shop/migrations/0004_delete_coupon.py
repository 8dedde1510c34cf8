from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0003_alter_item_price"),
    ]

    operations = [
        migrations.DeleteModel(
            name="Coupon",
        ),
    ]
