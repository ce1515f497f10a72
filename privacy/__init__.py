"""Personal data at the persistence boundary: the key hierarchy and crypto-shredding.

* ``kek.py``: the key-encryption keys (KEK) from settings, never stored: a primary one that
  wraps new data keys, and previous ones accepted while a rotation is under way.
* ``keys.py``: the data keys, one per data subject (a customer, or an order whose buyer is not
  known yet: ``order_subject``), wrapped by a KEK, in their own
  table of the store's database (``personal_data_keys``); erasing a subject deletes its rows.
* ``key_tables.py``: those tables in SQLite or PostgreSQL (or memory, for pure tests).
* ``sealing.py``: the mapper that seals every ``PersonalData`` value with its subject's data key
  (AES-256-GCM) before an event is stored, and opens it again when the event is read.
* ``recorders.py``: the store's recorders, which delete keys in the transaction that records
  the erasure event.
* ``subjects.py``: the index of which aggregates belong to which subject (for export and
  retention), built from the store's log.

The domain never sees any of this: it keeps holding plain ``PersonalData`` values.
"""
