"""A local GGUF chat model behind an OpenAI-compatible server on loopback (xllamacpp's prebuilt
llama.cpp: no source build). `make run LLM_GGUF=path/to/model.gguf` starts it beside the
product, and the tests serve a real model with it. Optional: `pip install newsrag[local-llm]`.

    python -m rag.llm_server --model PATH --port 8081 [--threads 2] [--ctx 4096]

Prints "READY <url>" once it answers, then serves until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m rag.llm_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a GGUF chat model file")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="generation threads: no more than the idle cores (oversubscribing "
                             "slowed generation 30x here)")
    parser.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    parser.add_argument("--alias", default="local", help="the model name clients ask for")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not os.path.isfile(args.model):
        print(f"llm_server: {args.model} is not a file", file=sys.stderr)
        return 2
    try:
        import xllamacpp
    except ImportError:
        print("llm_server: xllamacpp is not installed (pip install 'newsrag[local-llm]')", file=sys.stderr)
        return 2
    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}  # a set of names, not a string (a string gives one per letter)
    params.hostnames = ["127.0.0.1"]  # loopback only: the product's LLM, not a public service
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.n_gpu_layers = 0
    params.warmup = False
    params.use_jinja = True  # the chat template inside the GGUF
    params.ui = False
    server = xllamacpp.Server(params)
    print(f"READY {server.listening_address}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.2):
        pass
    sys.stdout.flush()
    os._exit(0)  # the native server threads end with the process; their destructors may hang


if __name__ == "__main__":
    sys.exit(main())
