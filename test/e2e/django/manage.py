#!/usr/bin/env python3
"""manage.py of the migsafe end-to-end Django project (see test/e2e/run.sh)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "e2eproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
