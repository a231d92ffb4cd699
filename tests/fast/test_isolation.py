"""The fast tier really is light: the service path over the fakes (rebuild, answers, an LLM answer,
the HTTP API) loads no model library and no Chroma, and connects nowhere."""

import json
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

HEAVY = ("torch", "chromadb", "sentence_transformers", "transformers", "llama_cpp")

SCRIPT = textwrap.dedent("""
    import json, sys, tempfile
    from pathlib import Path
    sys.argv = ["no_network", sys.argv[1]]
    import tests.helpers.no_network  # blocks and logs every non-loopback connection
    from tests.conftest import OFF_TOPIC_QUESTION, SEED_QUESTION
    from tests.fakes import FakeLlm
    from tests.fast.conftest import SeedIndex, http_client

    seed = SeedIndex(Path(tempfile.mkdtemp()))
    service = seed.service()
    answers = [service.answer(SEED_QUESTION), service.answer(OFF_TOPIC_QUESTION),
               seed.service(llm=FakeLlm("Xiaomi targets 400,000 deliveries [1].")).answer(SEED_QUESTION)]
    reply = http_client(service).post("/api/answer", json={"question": SEED_QUESTION})
    print(json.dumps({"modes": [a.mode for a in answers], "http": reply.status_code,
                      "loaded": [m for m in HEAVY if m in sys.modules]}))
""")


def test_the_service_path_over_fakes_loads_no_model_no_chroma_and_stays_offline(tmp_path):
    log = tmp_path / "attempts.log"
    log.write_text("")
    code = f"HEAVY = {HEAVY!r}\n{SCRIPT}"
    proc = subprocess.run([sys.executable, "-c", code, str(log)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"modes": ["extractive", "refusal", "llm"], "http": 200, "loaded": []}
    assert log.read_text() == "", f"outbound attempts: {log.read_text()}"
