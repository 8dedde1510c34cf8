from django.db import migrations, models


def load_data(apps, schema_editor):
    """Rows that the later migrations would destroy."""
    Customer = apps.get_model("shop", "Customer")
    Item = apps.get_model("shop", "Item")
    Coupon = apps.get_model("shop", "Coupon")
    Customer.objects.bulk_create(
        Customer(name="customer %d" % i, email="c%d@example.com" % i,
                 legacy_notes="note %d" % i if i % 3 else "")
        for i in range(1, 301))
    Item.objects.bulk_create(
        Item(sku="SKU-%04d" % i, price="%d" % (i * 7 % 1000))
        for i in range(1, 201))
    Coupon.objects.bulk_create(
        Coupon(code="SAVE%03d" % i, percent=i % 50 + 1)
        for i in range(1, 101))


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Customer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("email", models.CharField(max_length=200)),
                # NOT NULL, blank allowed: Django unapplies its removal by adding
                # it back NOT NULL DEFAULT '' and then dropping the default
                ("legacy_notes", models.TextField(blank=True)),
            ],
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sku", models.CharField(max_length=20)),
                ("price", models.CharField(max_length=20)),
            ],
        ),
        migrations.CreateModel(
            name="Coupon",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=20)),
                ("percent", models.IntegerField()),
            ],
        ),
        migrations.RunPython(load_data, migrations.RunPython.noop),
    ]
