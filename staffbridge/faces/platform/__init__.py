"""Platform mode: the Celery app and tasks (app.py), the shared rate budget (budget.py) and the
per-tenant lock and queue guard (guards.py). Nothing here is imported by `import staffbridge`."""
