"""Train the grapheme-to-phoneme (G2P) network on CMUdict.

    python -m models.training.train_g2p --minutes 24.5 --out .cache/g2p/run \
        --export resources/models/g2p/g2p.onnx

**Data.** Every CMUdict entry written only with ``a``–``z`` and ``'`` (hyphenated and dotted
entries are left out), at most :data:`MAX_CHARS` letters and :data:`MAX_PHONES` phones. The
split is by word, from the SHA-1 of the word with a trailing possessive (``'s``, ``'``) removed,
so ``cat`` and ``cat's`` fall together: bucket ``< 50`` of 1,000 is the **test** set (5 %, never
trained on and never used to choose anything), ``50–69`` the validation set (2 %, picks the best
checkpoint), the rest is trained on. Training uses each word's first pronunciation; the figures
count a word right when the output equals the first pronunciation ("exact first") and when it
equals any listed one ("any").

**Network** (:class:`G2PNet`). Characters → embedding → one bidirectional GRU layer (the
*memory*). The decoder writes ARPAbet phones with stress digits: a first GRU reads the previous
phone, its output queries the memory (scaled dot-product attention through a learned
projection), a second GRU reads the first one's output and the attention context, and a
tanh layer over the second GRU's output and the context gives the logits. Both decoder GRUs
see only earlier phones, so training runs each as one full-sequence call (teacher forcing);
greedy decoding runs :meth:`G2PNet.step`, which the ONNX graph copies.

**Determinism.** Seeded (``--seed``); batches are grouped by word length (no padding in the
encoder), shuffled by a seeded generator. The learning rate follows a cosine over the total
number of steps, which ``--minutes`` sets by timing the first 50 steps unless ``--steps`` is
given (the first 50 steps run at the full rate either way); the JSON records the steps run
(``steps``, and ``planned_steps``: fewer run means the budget ran out first), and
``--steps N`` repeats a run that reached its plan exactly, on one thread, without a clock.

Writes ``g2p.pt`` (config and weights of the best validation checkpoint) and
``training.json`` (the run, its validation and test figures) into ``--out`` and prints the
test figures; with ``--export PATH`` it then writes the ONNX file
(:mod:`models.training.export_g2p`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from models.lyrics import phonemes as ph

LETTERS = "abcdefghijklmnopqrstuvwxyz'"
PAD, BOS, EOS = 0, 1, 2
PHONES = tuple(sorted([v + d for v in ph.VOWELS for d in "012"] + sorted(ph.CONSONANTS)))
CHAR_INDEX = {c: i + 1 for i, c in enumerate(LETTERS)}  # 0 is padding
PHONE_INDEX = {p: i + 3 for i, p in enumerate(PHONES)}  # 0 pad, 1 BOS, 2 EOS
CHAR_VOCAB = len(LETTERS) + 1
PHONE_VOCAB = len(PHONES) + 3
MAX_CHARS = 32  # letters per word the network reads
MAX_PHONES = 32  # phones it writes at most (EOS not counted)
TEST_BUCKETS, VALIDATION_BUCKETS = 50, 20  # of 1,000

Entry = tuple[str, list[list[str]]]


@dataclass(frozen=True)
class G2PConfig:
    embed: int = 64
    encoder: int = 160  # per direction
    decoder: int = 256
    dropout: float = 0.15


def split_of(word: str) -> str:
    """``"test"``, ``"validation"`` or ``"train"`` for a CMUdict word (see the module notes)."""
    stem = word[:-2] if word.endswith("'s") else word.rstrip("'")
    bucket = int(hashlib.sha1(stem.encode()).hexdigest()[:8], 16) % 1000
    if bucket < TEST_BUCKETS:
        return "test"
    return "validation" if bucket < TEST_BUCKETS + VALIDATION_BUCKETS else "train"


def usable(word: str, prons: Sequence[Sequence[str]]) -> bool:
    return (
        0 < len(word) <= MAX_CHARS
        and all(c in CHAR_INDEX for c in word)
        and bool(prons)
        and 0 < len(prons[0]) <= MAX_PHONES
        and all(p in PHONE_INDEX for p in prons[0])
    )


def load_splits(entries: dict[str, list[list[str]]] | None = None) -> dict[str, list[Entry]]:
    """CMUdict (or ``entries``) split into train, validation and test, each sorted by word."""
    if entries is None:
        from models.lyrics.dictionary import cmu_entries

        entries = cmu_entries()
    out: dict[str, list[Entry]] = {"train": [], "validation": [], "test": []}
    for word in sorted(entries):
        prons = [list(p) for p in entries[word] if all(x in PHONE_INDEX for x in p)]
        if usable(word, prons):
            out[split_of(word)].append((word, prons))
    return out


def encode_word(word: str) -> list[int]:
    return [CHAR_INDEX[c] for c in word]


def encode_phones(phones: Sequence[str]) -> list[int]:
    return [PHONE_INDEX[p] for p in phones] + [EOS]


def decode_phones(ids: Iterable[int]) -> tuple[str, ...]:
    out = []
    for i in ids:
        if i == EOS:
            break
        if i >= 3:
            out.append(PHONES[i - 3])
    return tuple(out[:MAX_PHONES])


class G2PNet(nn.Module):
    """Character BiGRU encoder, two-GRU attention decoder (see the module notes)."""

    def __init__(self, cfg: G2PConfig) -> None:
        super().__init__()
        self.cfg = cfg
        memory = 2 * cfg.encoder
        self.char_embed = nn.Embedding(CHAR_VOCAB, cfg.embed, padding_idx=PAD)
        self.encoder = nn.GRU(cfg.embed, cfg.encoder, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(memory, 2 * cfg.decoder)
        self.phone_embed = nn.Embedding(PHONE_VOCAB, cfg.embed, padding_idx=PAD)
        self.gru1 = nn.GRU(cfg.embed, cfg.decoder, batch_first=True)
        self.query = nn.Linear(cfg.decoder, memory)
        self.gru2 = nn.GRU(cfg.decoder + memory, cfg.decoder, batch_first=True)
        self.combine = nn.Linear(cfg.decoder + memory, cfg.decoder)
        self.out = nn.Linear(cfg.decoder, PHONE_VOCAB)
        self.drop = nn.Dropout(cfg.dropout)

    def encode(self, chars: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``chars`` (batch, letters) without padding → memory (batch, letters, 2·encoder) and
        the two decoder GRUs' first states (1, batch, decoder) each."""
        memory, _ = self.encoder(self.drop(self.char_embed(chars)))
        start = torch.tanh(self.bridge(memory.mean(dim=1)))
        h1, h2 = start.chunk(2, dim=-1)
        return memory, h1.unsqueeze(0).contiguous(), h2.unsqueeze(0).contiguous()

    def _attend(self, o1: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        q = self.query(o1) / math.sqrt(memory.shape[-1])
        weights = torch.softmax(q @ memory.transpose(1, 2), dim=-1)
        return weights @ memory

    def _decode(
        self, prev: torch.Tensor, memory: torch.Tensor, h1: torch.Tensor, h2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        o1, h1 = self.gru1(self.drop(self.phone_embed(prev)), h1)
        ctx = self._attend(o1, memory)
        o2, h2 = self.gru2(torch.cat([o1, ctx], dim=-1), h2)
        hidden = torch.tanh(self.combine(torch.cat([o2, ctx], dim=-1)))
        return self.out(self.drop(hidden)), h1, h2

    def forward(self, chars: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (batch, phones, vocab); ``prev`` starts with BOS."""
        memory, h1, h2 = self.encode(chars)
        logits, _, _ = self._decode(prev, memory, h1, h2)
        return logits

    def step(
        self, token: torch.Tensor, memory: torch.Tensor, h1: torch.Tensor, h2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One decoding step: ``token`` (batch,) → logits (batch, vocab) and the new states."""
        logits, h1, h2 = self._decode(token.unsqueeze(1), memory, h1, h2)
        return logits.squeeze(1), h1, h2

    @torch.no_grad()
    def greedy(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Greedy phones for words of one length (a batch needs no padding)."""
        chars = torch.tensor([encode_word(w) for w in words])
        memory, h1, h2 = self.encode(chars)
        token = torch.full((len(words),), BOS, dtype=torch.long)
        out = []
        done = torch.zeros(len(words), dtype=torch.bool)
        for _ in range(MAX_PHONES + 1):
            logits, h1, h2 = self.step(token, memory, h1, h2)
            token = logits.argmax(dim=-1)
            out.append(token)
            done |= token == EOS
            if bool(done.all()):
                break
        table = torch.stack(out, dim=1).tolist()
        return [decode_phones(row) for row in table]


def predict(model: G2PNet, words: Sequence[str], batch: int = 512) -> dict[str, tuple[str, ...]]:
    """Greedy phones for any words the network can read (grouped by length)."""
    model.eval()
    by_length: dict[int, list[str]] = {}
    for w in words:
        by_length.setdefault(len(w), []).append(w)
    out: dict[str, tuple[str, ...]] = {}
    for group in by_length.values():
        for i in range(0, len(group), batch):
            chunk = group[i : i + batch]
            out.update(zip(chunk, model.greedy(chunk), strict=True))
    return out


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def score(predicted: dict[str, tuple[str, ...]], data: Sequence[Entry]) -> dict[str, float]:
    """Held-out figures: word accuracy (exact first, any listed), phone error rate (edit
    distance to the closest listed pronunciation over its length), syllable-count accuracy
    (first pronunciation, any listed), stress-pattern accuracy (first)."""
    n = len(data)
    first = anyp = syl_first = syl_any = stress = 0
    errors = length = 0
    for word, prons in data:
        got = predicted[word]
        listed = [tuple(p) for p in prons]
        first += got == listed[0]
        anyp += got in listed
        syl_first += ph.syllables(got) == ph.syllables(listed[0])
        syl_any += any(ph.syllables(got) == ph.syllables(p) for p in listed)
        stress += ph.stress_pattern(got) == ph.stress_pattern(listed[0])
        best = min(listed, key=lambda p: edit_distance(got, p) / len(p))
        errors += edit_distance(got, best)
        length += len(best)
    return {
        "words": n,
        "word_accuracy_first": first / n,
        "word_accuracy_any": anyp / n,
        "phone_error_rate": errors / length,
        "syllable_accuracy_first": syl_first / n,
        "syllable_accuracy_any": syl_any / n,
        "stress_accuracy_first": stress / n,
    }


def batches(
    data: Sequence[Entry], batch_words: int, rng: random.Random
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """One epoch: (chars, previous phones, target phones) per batch, words of one length per
    batch, phone rows padded with PAD; batch order shuffled."""
    by_length: dict[int, list[Entry]] = {}
    for entry in data:
        by_length.setdefault(len(entry[0]), []).append(entry)
    out = []
    for group in by_length.values():
        group = list(group)
        rng.shuffle(group)
        for i in range(0, len(group), batch_words):
            chunk = group[i : i + batch_words]
            chars = torch.tensor([encode_word(w) for w, _ in chunk])
            targets = [encode_phones(p[0]) for _, p in chunk]
            width = max(len(t) for t in targets)
            tgt = torch.full((len(chunk), width), PAD, dtype=torch.long)
            for j, t in enumerate(targets):
                tgt[j, : len(t)] = torch.tensor(t)
            prev = torch.cat([torch.full((len(chunk), 1), BOS), tgt[:, :-1]], dim=1)
            prev[prev == EOS] = PAD
            out.append((chars, prev, tgt))
    rng.shuffle(out)
    return out


def train(
    cfg: G2PConfig,
    splits: dict[str, list[Entry]],
    minutes: float,
    steps: int | None = None,
    batch_words: int = 128,
    lr: float = 3e-3,
    eval_every: int = 1000,
    seed: int = 0,
    log: bool = True,
) -> tuple[G2PNet, dict[str, object]]:
    """Train within ``minutes`` (or exactly ``steps`` steps) and return the best validation
    checkpoint's network with a record of the run."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = G2PNet(cfg)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-5)
    started = time.perf_counter()
    budget = minutes * 60.0
    total = steps
    best: tuple[float, dict[str, torch.Tensor]] | None = None
    step = epoch = 0
    history: list[dict[str, float]] = []

    def validate() -> None:
        nonlocal best
        words = [w for w, _ in splits["validation"]]
        figures = score(predict(model, words), splits["validation"])
        history.append({"step": step, **figures})
        if best is None or figures["word_accuracy_any"] > best[0]:
            best = (
                figures["word_accuracy_any"],
                {k: v.clone() for k, v in model.state_dict().items()},
            )
        if log:
            print(
                f"step {step}/{total} epoch {epoch} {time.perf_counter() - started:.0f}s "
                f"validation words {figures['word_accuracy_any']:.4f} "
                f"PER {figures['phone_error_rate']:.4f} "
                f"syllables {figures['syllable_accuracy_first']:.4f}",
                flush=True,
            )

    finished = False
    while not finished:
        epoch += 1
        for chars, prev, tgt in batches(splits["train"], batch_words, rng):
            if total is None and step == 50:
                per_step = (time.perf_counter() - started) / 50
                total = max(100, int(budget * 0.97 / per_step))  # room for validation
            fraction = step / total if total is not None and step >= 50 else 0.0
            for group in optimiser.param_groups:
                group["lr"] = lr * (
                    0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction)))
                )
            model.train()
            logits = model(chars, prev)
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, PHONE_VOCAB), tgt.reshape(-1), ignore_index=PAD,
                label_smoothing=0.05,
            )  # fmt: skip
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            step += 1
            if step % eval_every == 0:
                validate()
            out_of_time = steps is None and time.perf_counter() - started > budget
            if (total is not None and step >= total) or out_of_time:
                finished = True
                break
    if step % eval_every:
        validate()
    assert best is not None
    model.load_state_dict(best[1])
    model.eval()
    info: dict[str, object] = {
        "config": asdict(cfg),
        "steps": step,
        "planned_steps": total,
        "epochs": epoch,
        "batch_words": batch_words,
        "lr": lr,
        "seed": seed,
        "minutes": (time.perf_counter() - started) / 60,
        "parameters": sum(p.numel() for p in model.parameters()),
        "validation": max(history, key=lambda h: h["word_accuracy_any"]),
        "split_sizes": {k: len(v) for k, v in splits.items()},
    }
    return model, info


def save(model: G2PNet, path: Path) -> None:
    torch.save({"config": asdict(model.cfg), "state": model.state_dict()}, path)


def load(path: Path) -> G2PNet:
    saved = torch.load(path, map_location="cpu")
    model = G2PNet(G2PConfig(**saved["config"]))
    model.load_state_dict(saved["state"])
    return model.eval()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=24.5, help="wall-clock budget")
    parser.add_argument("--steps", type=int, default=None, help="exact step count (overrides)")
    parser.add_argument("--out", type=Path, default=Path(".cache/g2p/run"))
    parser.add_argument("--batch-words", type=int, default=128)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--embed", type=int, default=G2PConfig.embed)
    parser.add_argument("--encoder", type=int, default=G2PConfig.encoder)
    parser.add_argument("--decoder", type=int, default=G2PConfig.decoder)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--export", type=Path, default=None, help="also write the ONNX file here (export_g2p)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = G2PConfig(embed=args.embed, encoder=args.encoder, decoder=args.decoder)
    splits = load_splits()
    model, info = train(
        cfg, splits, args.minutes, steps=args.steps, batch_words=args.batch_words,
        eval_every=args.eval_every, seed=args.seed,
    )  # fmt: skip
    words = [w for w, _ in splits["test"]]
    info["test"] = score(predict(model, words), splits["test"])
    args.out.mkdir(parents=True, exist_ok=True)
    save(model, args.out / "g2p.pt")
    (args.out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info["test"], sort_keys=True))
    if args.export is not None:
        from models.training import export_g2p

        export_g2p.main([str(args.out / "g2p.pt"), str(args.export)])


if __name__ == "__main__":
    main()
