"""Settings of the migsafe end-to-end Django project.

The database comes from the environment (E2E_PGHOST is the server's socket
directory).  SHOP_MIGRATIONS picks the migration module of the shop app:
"shop.migrations" has the migrations as a developer first writes them,
"shop.migrations_approved" the same ones with the migsafe approval added
as their first operation.  Both have the same migration names, so either
can continue what the other applied.
"""
import os

SECRET_KEY = "migsafe-e2e-not-secret"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["shop"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ["E2E_PGHOST"],
        "PORT": os.environ["E2E_PGPORT"],
        "NAME": os.environ["E2E_PGDATABASE"],
        "USER": os.environ["E2E_PGUSER"],
    }
}

MIGRATION_MODULES = {"shop": os.environ.get("SHOP_MIGRATIONS", "shop.migrations")}
