"""The load script, bounded, against a real server: every request answered, none lost."""

import json
import os
import subprocess
import sys

from tests.server_process import running_server


def test_bounded_load(seed_settings, tmp_path):
    with running_server(seed_settings) as base:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.load", "--url", base, "--requests", "60",
             "--concurrency", "8", "--name", "load-test"],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["completed"] == 60 and result["errors"] == 0 and result["lost"] == 0
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] <= result["latency_ms"]["p99"]
    assert result["throughput_rps"] > 0
