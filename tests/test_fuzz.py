"""Property-based fuzzing of the HTTP API from its own OpenAPI spec (schemathesis strategies driven
by hypothesis): no 500s and no hangs, within bounded example counts and time."""

import shutil
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import SEEDS, make_settings
from tests.server_process import running_server

MAX_EXAMPLES = 30
REQUEST_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def live_schema(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SEEDS, tmp / "seeds")
    with running_server(make_settings(tmp, seeds_dir=tmp / "seeds"), build=True) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        yield schema, base


def test_every_operation_survives_fuzzing(live_schema):
    schema, base = live_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/api/answer", "/v1/chat/completions", "/api/index/rebuild", "/healthz"} <= paths
    calls = []
    for operation in operations:
        strategy = (operation.as_strategy(schemathesis.GenerationMode.POSITIVE)
                    | operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))

        @given(case=strategy)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            started = time.perf_counter()
            response = case.call(base_url=base, timeout=REQUEST_TIMEOUT_S)
            calls.append(response.status_code)
            assert time.perf_counter() - started < REQUEST_TIMEOUT_S
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")
        check()
    assert len(calls) >= len(operations)
    assert any(400 <= code < 500 for code in calls) and any(code < 300 for code in calls)
