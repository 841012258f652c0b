"""Held-out NLL per token of melody models on Ryan's Mammoth Collection (issue 6).

Claim to reach: the shipped melody model's NLL per token on the held-out ``ryansMammoth`` tunes
is at least 10 % below the best smoothed n-gram's (orders 3–13, order picked on validation).
The model is scored through onnxruntime, one incremental step at a time, exactly as the app
runs it (``resources/models/melody/melody.onnx``; ``--model PATH`` for another file).

Run (needs the token cache; building it parses the corpus once, ~7 minutes on two cores)::

    TMPDIR=.cache/music21 python -m models.training.melody_data
    python benchmarks/bench_melody.py

Data: ``models.training.melody_data`` — every music21 ABC folk collection and the Bach chorale
soprano lines, tokenised relative to the tonic (``models.melody.tokens``); ``ryansMammoth`` is
the test set, the rest split 95/5 by tune into train and validation; train and validation tunes
identical to a test tune are dropped.

Scores: mean negative log-likelihood in nats per predicted token; BOS, meter and mode are given,
every later token (barlines, pitch slots, durations, EOS) is predicted. Methods: interpolated
modified Kneser–Ney (``models.melody.ngram``), trained on the train split in this run, orders 3
to 13; the order with the lowest validation NLL is scored on test. Time: training and scoring.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import final_json, table

from models.melody import ngram
from models.melody import runner as rn
from models.training import melody_data


def model_nll(path: Path, sequences: list[list[int]]) -> tuple[float, float]:
    """(NLL per token, seconds) of the ONNX model on ``sequences`` (BOS, meter, mode given)."""
    model = rn.MelodyModel(path)
    started = time.perf_counter()
    lp = np.concatenate([model.log_probs(seq)[2:] for seq in sequences])
    return float(-lp.mean()), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=rn.MODEL_PATH)
    args = parser.parse_args()
    data = melody_data.load()
    sizes = {k: (len(v), sum(len(s) for s in v)) for k, v in data.items()}
    for split, (tunes, count) in sizes.items():
        print(f"{split}: {tunes} tunes, {count} tokens")
    rows = []
    best_order, best_val = 0, float("inf")
    test_nll: dict[int, float] = {}
    for order in range(3, 14):
        started = time.perf_counter()
        model = ngram.KneserNey(data["train"], order)
        trained = time.perf_counter() - started
        val = model.nll(data["validation"])
        test = model.nll(data["test"])
        test_nll[order] = test
        rows.append([order, val, test, trained])
        if val < best_val:
            best_order, best_val = order, val
    print()
    print(table(["order", "validation NLL", "test NLL", "train s"], rows))
    target = 0.9 * test_nll[best_order]
    print(
        f"\nbest order on validation: {best_order}; its test NLL {test_nll[best_order]:.4f} "
        f"nats/token; a model must reach {target:.4f} or less"
    )
    model_test: float | None = None
    model_val: float | None = None
    if args.model.exists():
        model_val, _ = model_nll(args.model, data["validation"])
        model_test, seconds = model_nll(args.model, data["test"])
        gain = 1 - model_test / test_nll[best_order]
        print(
            f"model {args.model.name}: validation {model_val:.4f}, test {model_test:.4f} "
            f"nats/token ({gain:.1%} below the best n-gram; scored in {seconds:.0f} s)"
        )
    else:
        print(f"no model at {args.model}: its row is left out")
    final_json(
        {
            "bench": "melody",
            "tunes": {k: v[0] for k, v in sizes.items()},
            "tokens": {k: v[1] for k, v in sizes.items()},
            "ngram_best_order": best_order,
            "ngram_test_nll": round(test_nll[best_order], 4),
            "ngram_test_nll_by_order": {k: round(v, 4) for k, v in test_nll.items()},
            "model_target_nll": round(target, 4),
            "model_test_nll": None if model_test is None else round(model_test, 4),
            "model_validation_nll": None if model_val is None else round(model_val, 4),
            "model_beats_target": None if model_test is None else model_test <= target,
        }
    )


if __name__ == "__main__":
    main()
