"""The service API (SPEC §4.7): every command and query over authenticated HTTP.

`aftersales serve` runs ``api.app:create_app`` on granian, which also mounts the desk (desk/).
Authentication (server/: ``auth``, ``keys``, ``oidc``) turns a bearer token into a ``Caller``;
everything after that is the application's own path: ``dispatch.commands`` for commands,
``ReadService`` for reads, the permission matrix deciding both. Nothing here decides who may
do what."""
