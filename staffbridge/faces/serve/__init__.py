"""`staffbridge serve`: a SCIM 2.0 service provider in front of each system, and MOCO's signed webhooks.

    app.py        the WSGI app: /healthz, /scim/v2/{system}/..., /tenants/{tenant}/scim/v2/{system}/...,
                  /webhooks/moco/{tenant}/{system}; bearer tokens, request logs
    gateway.py    one system's SCIM application on python-scim's scim2-server
    schema.py     what each system publishes: the SCIM attributes its adapter can really hold
    convert.py    Person <-> the published User, through staffbridge.mapping.scim
    storage.py    scim2-server's storage over the adapter (list + filter + page, CRUD)
    limits.py     a spent rate budget answers 429 with Retry-After at once
    webhooks.py   MOCO webhooks: signature, freshness, replay, a debounced sync
    server.py     the production WSGI server (waitress)

Needs the `serve` extra (scim2-server, waitress); nothing here is imported by `import staffbridge`.
"""
