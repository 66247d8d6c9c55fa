"""One real Prefect server per test session, shared by the end-to-end run and the fault drill.

Starting it and deploying `deployments/prefect.yaml` costs about two minutes on a busy machine
(docs/operations.md, "End-to-end and fault-drill tests"), so it happens once, and only when a test of
this directory is collected.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e._prefect import PrefectServer


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    server = PrefectServer(tmp_path_factory.mktemp("prefect-home")).start()
    try:
        server.setup()
        server.deploy()
        yield server
    finally:
        code = server.stop()
        assert not server.running, "the Prefect server outlived the session"
        assert code is not None
