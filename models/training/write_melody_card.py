"""Write ``resources/models/melody/MODEL_CARD.md`` from a training run's ``training.json`` and the
benchmark's final JSON line, so the card's figures are the measured ones.

    python -m models.training.write_melody_card TRAINING_JSON BENCH_JSON [OUT]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from models.melody import tokens as tk

OUT = Path(__file__).resolve().parents[2] / "resources" / "models" / "melody" / "MODEL_CARD.md"


def card(training: dict[str, Any], bench: dict[str, Any], onnx_bytes: int) -> str:
    cfg = training["config"]
    assert isinstance(cfg, dict)
    lines = [
        "# Hookline melody model",
        "",
        "A decoder-only transformer that writes monophonic melodies one token at a time, run by",
        "the app with onnxruntime (`models/melody/runner.py`). Trained by us; no pretrained",
        "weights, nothing downloaded.",
        "",
        "## Data",
        "music21's bundled corpus (music21 10.5.1): the ABC collections essenFolksong,",
        "oneills1850, airdsAirs, miscFolk and ryansMammoth, and the soprano lines of the Bach",
        "chorales (`models/training/melody_data.py` says exactly which tunes are kept and how",
        "they are labelled). **ryansMammoth is the test set and is never trained on**; the rest",
        "is split by tune, 95 % train and 5 % validation, and tunes identical to a test tune",
        "are dropped.",
        "",
        "| split | tunes | tokens |\n| --- | ---: | ---: |\n"
        + "\n".join(
            f"| {k} | {bench['tunes'][k]} | {bench['tokens'][k]} |"
            for k in ("train", "validation", "test")
        ),
        "",
        "## Tokens",
        f"{len(tk.VOCAB)} tokens (`models/melody/tokens.py`): BOS, a meter ({len(tk.METERS)}),",
        f"a mode ({', '.join(tk.MODES)}), then per bar `BAR` and pairs of a pitch slot (REST,",
        "HOLD, or a note −24..+24 semitones from the tonic's middle-octave note) and a duration",
        "(1..48 ticks of 1/12 quarter note). Every bar adds up exactly; one sequence serves every",
        "key. The position in the bar is an input of the network, not a token.",
        "",
        "## Network",
        f"{cfg['layers']} pre-norm transformer blocks, d_model {cfg['d_model']}, {cfg['heads']}"
        f" heads, context {cfg['max_len']} tokens, dropout {cfg['dropout']};"
        f" {training['parameters']:,} parameters; ONNX file {onnx_bytes / 1e6:.1f} MB.",
        "The ONNX graph is one incremental step with the key/value cache in and out, written",
        "node by node from the trained weights (one onnxruntime `Attention` node per block) and",
        "checked against the torch model within 1e-4 before it is saved. The shipped file has",
        "its weights quantised to int8 (onnxruntime `quantize_dynamic`), which more than halves",
        "the time per token on CPU; the held-out figures below are those of the shipped file,",
        "and `benchmarks/RESULTS.md` gives the float32 graph's beside them.",
        "",
        "## Training",
        f"AdamW, {training['steps']} steps ({training['epochs']} epochs) in"
        f" {training['minutes']} minutes on two CPU threads; best validation checkpoint kept.",
        "",
        "## Held-out figures (Ryan's Mammoth, nats per token; BOS, meter and mode given)",
        "",
        "| model | test NLL |",
        "| --- | ---: |",
        f"| this model (onnxruntime, int8 weights) | {bench['model_test_nll']} |",
        f"| best Kneser–Ney n-gram (order {bench['ngram_best_order']}, chosen on validation)"
        f" | {bench['ngram_test_nll']} |",
        "",
        f"The issue's bar is 10 % below the best n-gram: {bench['model_target_nll']} —"
        f" {'met' if bench.get('model_beats_target') else 'not met'}.",
        "",
        "## Reproduce",
        "```",
        "pip install -e '.[train]'",
        "python -m models.training.build_melody",
        "```",
        "which runs, in order (each can be run alone):",
        "```",
        "TMPDIR=.cache/music21 python -m models.training.melody_data",
        f"python -m models.training.train_melody --minutes {round(float(training['minutes']))}"
        f" --eval-every {training.get('eval_every', 150)}"  # the shipped run used 150
        f" --batch-tokens {training.get('batch_tokens', 8192)} --out .cache/melody/run",
        "python -m models.training.export_melody .cache/melody/run/melody.pt"
        " resources/models/melody/melody.onnx  # int8; --float32 for the unquantised graph",
        "python benchmarks/bench_melody.py",
        "python -m models.training.write_melody_card .cache/melody/run/training.json BENCH_OUTPUT",
        "```",
        "Training is timed (a minute budget), so a rerun on another machine sees a different",
        "number of steps; seed 0 makes a rerun on this one the same up to thread timing.",
        "",
        "## Limits",
        "Folk tunes, hymn and chorale melodies: the model knows their idioms, not pop or jazz",
        "phrasing. It writes one line; harmony comes from the chords it is given.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    training = json.loads(Path(sys.argv[1]).read_text())
    bench = json.loads(Path(sys.argv[2]).read_text().strip().splitlines()[-1])
    out = Path(sys.argv[3]) if len(sys.argv) > 3 else OUT
    onnx = out.parent / "melody.onnx"
    out.write_text(card(training, bench, onnx.stat().st_size if onnx.exists() else 0))
