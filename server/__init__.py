"""One server process of `aftersales serve`, as both of its front ends use it: the service API
(api/) and the desk (desk/) build on this, never on each other.

The runtime (``runtime``: the application's services, the tables beside the store, the
authenticator, the rate limits, read-database connections), authentication (``auth``, ``keys``,
``oidc``) turning a bearer token into a ``Caller``, problem documents, body guards and rate
limits, idempotent answers, metrics, the server's settings, and what a route reads from its
request (``requests``)."""
