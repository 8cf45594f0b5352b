"""Django's PostgreSQL backend with one change: small bulk inserts use plain VALUES.

Django 5.2 sends every multi-row ``bulk_create`` on PostgreSQL as ``INSERT … SELECT * FROM
UNNEST(%s::type[], …)``, which saves the server planning time on batches of hundreds of rows.
For the two- and three-row inserts of a submission (its audit events, its outbox rows) it costs
more than it saves: psycopg escapes every value into array literals in Python (the JSON columns
through a regular expression per element), about 0.3 ms of CPU per submission. Below
``UNNEST_MIN_ROWS`` rows this backend writes ``VALUES (…), (…)`` instead; larger batches (demo
data, seeding) keep UNNEST. Selected in ``config.settings`` for any ``postgres://`` DATABASE_URL.
"""
