"""The answer's weights are one frozen object, and the relevance gate is tied to them: a gate
trained under other sentence or span weights is refused at load, with what to do."""

import json
from dataclasses import FrozenInstanceError, replace

import pytest

from rag.answer import gate, weights
from rag.answer.refusal import RefusalPolicy
from rag.errors import ConfigError
from tests.conftest import make_settings


def test_the_weights_cannot_be_changed_in_place():
    with pytest.raises(FrozenInstanceError):
        weights.WEIGHTS.sentence.meaning = 1.0


def test_the_shipped_gate_was_trained_under_the_weights_in_use():
    recorded = json.loads(gate.MODEL_FILE.read_text())["trained_with"]
    assert recorded["answer_weights"] == weights.WEIGHTS.fingerprint()
    assert gate.load_model().threshold > 0


def test_a_gate_trained_under_other_sentence_weights_is_refused(tmp_path):
    other = replace(weights.WEIGHTS, sentence=replace(weights.WEIGHTS.sentence, meaning=0.7))
    assert other.fingerprint() != weights.WEIGHTS.fingerprint()
    with pytest.raises(ConfigError, match="answer weights .* retrain it"):
        gate.load_model(gate.MODEL_FILE, other.fingerprint())
    unmarked = json.loads(gate.MODEL_FILE.read_text())
    del unmarked["trained_with"]
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(unmarked))
    with pytest.raises(ConfigError, match="retrain"):
        gate.load_model(path)


def test_other_retrieval_settings_are_allowed_and_named_in_a_warning(tmp_path, caplog):
    RefusalPolicy(make_settings(tmp_path))
    assert "trained under other retrieval settings" not in caplog.text
    RefusalPolicy(make_settings(tmp_path, dense_weight=0.5))
    assert "dense_weight 0.3 -> 0.5" in caplog.text
