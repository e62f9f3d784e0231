from tests.contract.conftest import pg_cluster, redis_server  # noqa: F401  (session fixtures)
