"""Models of the shop app, as they are after migration 0004.

Migration 0001 also created Customer.legacy_notes (removed by 0002), made
Item.price a CharField (an IntegerField since 0003) and created Coupon
(deleted by 0004).
"""
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = models.CharField(max_length=200)


class Item(models.Model):
    sku = models.CharField(max_length=20)
    price = models.IntegerField()
