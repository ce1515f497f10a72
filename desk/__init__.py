"""The desk: a web console for agents, supervisors, the warehouse, auditors and analysts,
served by `aftersales serve` under ``/desk`` (server-rendered pages, a little JavaScript).

It is one more entry point of the application: every page and every action goes through the
same services, permission matrix and command path as the service API (api/), as the principal
the session was signed in with."""
