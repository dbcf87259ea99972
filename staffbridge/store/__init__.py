"""State: the migration journal, the sync cursors and the crosswalk behind one interface.

base.py (the `Store` interface and its scope), records.py (the plain data it takes and gives),
sqlite.py (the embedded backend), backends.py (`open_store`: which backend serves a location),
journal.py (`Journal`: one migration's view) and cursors.py (`SyncState`: unify's view, and the JSON
document of earlier versions). Imports nothing here, so that importing a module of the layer stays
as light as that module.
"""
