"""The product makes no outbound connection while indexing and answering."""

import subprocess
import sys

from tests.conftest import SEED_QUESTION, make_settings, rag_env


def run_blocked(log, env, *args):
    return subprocess.run([sys.executable, "-m", "tests.helpers.no_network", str(log), *args],
                          env=env, capture_output=True, text=True, timeout=300)


def test_index_and_ask_with_the_network_blocked(tmp_path, seeds_copy):
    log = tmp_path / "attempts.log"
    log.write_text("")
    env = rag_env(make_settings(tmp_path, seeds_dir=seeds_copy))
    built = run_blocked(log, env, "index")
    assert built.returncode == 0, built.stderr
    assert "1 added" in built.stdout
    asked = run_blocked(log, env, "ask", "--json", SEED_QUESTION)
    assert asked.returncode == 0, asked.stderr
    assert "400,000" in asked.stdout
    assert log.read_text() == "", f"outbound attempts: {log.read_text()}"


def test_the_guard_does_catch_outbound_connections(tmp_path):
    """The check above would be worthless if the guard missed connections."""
    log = tmp_path / "attempts.log"
    log.write_text("")
    code = ("import tests.helpers.no_network, urllib.request\n"
            "try:\n    urllib.request.urlopen('http://example.com', timeout=3)\nexcept Exception:\n    pass\n")
    subprocess.run([sys.executable, "-c", f"import sys; sys.argv=['x', {str(log)!r}]\n{code}"],
                   capture_output=True, timeout=60)
    assert "example.com" in log.read_text()
