"""Train the melody network on the token cache and export it to ONNX.

Reproduce the shipped model (after ``pip install -e '.[train]'`` and building the token cache
with ``TMPDIR=.cache/music21 python -m models.training.melody_data``)::

    python -m models.training.train_melody --minutes 100 --out resources/models/melody

A tiny configuration for the smoke test: ``--tiny --minutes 0.2``.

Training: AdamW (lr 2e-3, weight decay 0.01, betas 0.9/0.98), linear warm-up over 200 steps then
cosine decay to 10 % over the time budget, batches of about ``--batch-tokens`` tokens from tunes
of similar length, each tune cropped to the model's context at a random bar-aligned start when
longer; loss on every token after BOS, meter and mode. Validation NLL every ``--eval-every``
steps; the best checkpoint is kept. Two threads (``torch.set_num_threads(2)``), seed 0.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F  # noqa: N812

from models.melody import tokens as tk
from models.training import melody_data
from models.training.melody_model import (
    MelodyConfig,
    MelodyTransformer,
    bar_positions,
    nll_per_token,
)

SKIP = 3  # BOS, meter and mode are given


def _crop(seq: list[int], max_len: int, rng: random.Random) -> list[int]:
    """A training window: the whole tune, or ``max_len`` tokens from a random barline with the
    BOS/meter/mode prefix kept in front."""
    if len(seq) <= max_len:
        return seq
    bars = [i for i, t in enumerate(seq) if t == tk.BAR and i + max_len - SKIP <= len(seq)]
    start = rng.choice(bars) if bars else SKIP
    return seq[:SKIP] + seq[start : start + max_len - SKIP]


def _batches(
    seqs: list[list[int]], batch_tokens: int, max_len: int, rng: random.Random
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    crops = sorted((_crop(s, max_len, rng) for s in seqs), key=len)
    batches: list[list[list[int]]] = []
    current: list[list[int]] = []
    for seq in crops:
        if current and (len(current) + 1) * len(seq) > batch_tokens:
            batches.append(current)
            current = []
        current.append(seq)
    if current:
        batches.append(current)
    out = []
    for group in batches:
        width = max(len(s) for s in group)
        x = torch.full((len(group), width - 1), tk.PAD, dtype=torch.long)
        b = torch.zeros((len(group), width - 1), dtype=torch.long)
        y = torch.full((len(group), width - 1), -100, dtype=torch.long)
        for i, seq in enumerate(group):
            pos = bar_positions(seq)
            n = len(seq) - 1
            x[i, :n] = torch.tensor(seq[:-1])
            b[i, :n] = torch.tensor(pos[:-1])
            y[i, SKIP - 1 : n] = torch.tensor(seq[SKIP:])
        out.append((x, b, y))
    rng.shuffle(out)
    return out


def train(
    cfg: MelodyConfig,
    data: dict[str, list[list[int]]],
    minutes: float,
    batch_tokens: int = 8192,
    eval_every: int = 200,
    lr: float = 2e-3,
    seed: int = 0,
    log: bool = True,
) -> tuple[MelodyTransformer, dict[str, object]]:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = MelodyTransformer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    budget = minutes * 60.0
    started = time.monotonic()
    step, best_val, best_state = 0, math.inf, None
    history: list[dict[str, float]] = []
    validation = data["validation"]

    def evaluate() -> None:
        nonlocal best_val, best_state
        val, _ = nll_per_token(model, validation, SKIP)
        history.append({"step": step, "minutes": (time.monotonic() - started) / 60, "val": val})
        if log:
            print(f"step {step}: validation NLL {val:.4f}", file=sys.stderr, flush=True)
        if val < best_val:
            best_val = val
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.train()

    model.train()
    epoch = 0
    while time.monotonic() - started < budget:
        epoch += 1
        for x, b, y in _batches(data["train"], batch_tokens, cfg.max_len, rng):
            elapsed = time.monotonic() - started
            if elapsed >= budget:
                break
            warm = min(1.0, (step + 1) / 200)
            progress = min(1.0, elapsed / budget)
            for group in opt.param_groups:
                group["lr"] = lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
            logits = model(x, b)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 50 == 0 and log:
                print(f"epoch {epoch} step {step} loss {loss.item():.4f}", file=sys.stderr)
            if step % eval_every == 0:
                evaluate()
    evaluate()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    info = {
        "config": cfg.to_dict(),
        "steps": step,
        "epochs": epoch,
        "minutes": round((time.monotonic() - started) / 60, 2),
        "validation_nll": round(best_val, 4),
        "history": history,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    return model, info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=100.0)
    parser.add_argument("--out", type=Path, default=Path("resources/models/melody"))
    parser.add_argument("--tiny", action="store_true", help="a tiny configuration (smoke test)")
    parser.add_argument("--batch-tokens", type=int, default=8192)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--data", type=Path, default=melody_data.OUT)
    parser.add_argument("--limit", type=int, default=0, help="use only this many train tunes")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    data = melody_data.load(args.data)
    if args.limit:
        data = {k: v[: args.limit] if k == "train" else v[: max(8, args.limit // 10)]
                for k, v in data.items()}  # fmt: skip
    cfg = MelodyConfig(layers=1, d_model=32, heads=2, max_len=256) if args.tiny else MelodyConfig()
    model, info = train(cfg, data, args.minutes, args.batch_tokens, args.eval_every)
    test_nll, test_count = nll_per_token(model, data["test"], SKIP)
    info["eval_every"] = args.eval_every
    info["batch_tokens"] = args.batch_tokens
    info["test_nll"] = round(test_nll, 4)
    info["test_tokens"] = test_count
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save({"config": cfg.to_dict(), "state": model.state_dict()}, args.out / "melody.pt")
    (args.out / "training.json").write_text(json.dumps(info, indent=1))
    print(json.dumps({k: v for k, v in info.items() if k != "history"}), flush=True)


if __name__ == "__main__":
    main()
