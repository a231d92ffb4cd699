"""News Q&A: cited answers over a folder of news articles."""

import os

# Offline by default: nothing below may call home or fetch models at run time.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}.items():
    os.environ.setdefault(_name, _value)


def _point_tiktoken_at_bundled_files() -> None:
    """llama-index ships tiktoken's files; without this, tiktoken (used by llama-index's splitter
    and OpenAI classes) tries to download them."""
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    for location in (spec.submodule_search_locations or []) if spec else []:
        cache = os.path.join(location, "_static", "tiktoken_cache")
        if os.path.isdir(cache):
            os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)
            return


_point_tiktoken_at_bundled_files()

__version__ = "0.1.0"
