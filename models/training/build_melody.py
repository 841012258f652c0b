"""Rebuild the shipped melody model from nothing but the installed packages, in one command:

    pip install -e '.[train]'
    python -m models.training.build_melody

Steps, each the command the model card lists: extract the corpus into tokens (skipped when
``.cache/melody/tunes-v1.jsonl`` exists; about 7 minutes), train for 70 minutes on two threads
into ``.cache/melody/run``, export the step graph with int8 weights to
``resources/models/melody/melody.onnx``, score it against the n-grams
(``benchmarks/bench_melody.py``) and write the model card from the measured figures. About
80 minutes in all on a 2-core machine; ``--minutes`` shortens the training (the card then says
so, and the figures are those of the shorter run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from models.training import export_melody, melody_data, train_melody, write_melody_card

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / ".cache" / "melody" / "run"
ONNX = REPO / "resources" / "models" / "melody" / "melody.onnx"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=70.0)
    parser.add_argument("--run", type=Path, default=RUN, help="checkpoint folder")
    parser.add_argument("--onnx", type=Path, default=ONNX, help="the model file to write")
    parser.add_argument("--card", type=Path, default=write_melody_card.OUT)
    args = parser.parse_args(argv)
    if not melody_data.OUT.exists():
        melody_data.build()
    train_melody.main(
        ["--minutes", str(args.minutes), "--eval-every", "150", "--batch-tokens", "8192",
         "--out", str(args.run)]
    )  # fmt: skip
    export_melody.main([str(args.run / "melody.pt"), str(args.onnx)])
    scored = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_melody.py"), "--model", str(args.onnx)],
        cwd=REPO, check=True, capture_output=True, text=True,
    )  # fmt: skip
    bench = json.loads(scored.stdout.strip().splitlines()[-1])
    training = json.loads((args.run / "training.json").read_text())
    args.card.write_text(write_melody_card.card(training, bench, args.onnx.stat().st_size))
    print(scored.stdout)


if __name__ == "__main__":
    main()
