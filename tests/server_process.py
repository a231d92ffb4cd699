"""Start the real product server (`rag serve`) as a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import subprocess
import sys

from tests.conftest import ARTIFACTS_DIR, free_port, rag_env, stop_process, wait_http


@contextlib.contextmanager
def running_server(settings, host: str = "127.0.0.1", build: bool = False, ready: bool = True,
                   **env_extra: str):
    port = free_port()
    env = rag_env(settings, **env_extra)
    args = [sys.executable, "-m", "rag.cli", "serve", "--host", host, "--port", str(port)]
    if not build:
        args.append("--no-build")
    log_path = ARTIFACTS_DIR() / f"server-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(f"{base}/healthz" if ready else f"{base}/docs", timeout_s=180, proc=proc)
            yield base
        finally:
            stop_process(proc)
