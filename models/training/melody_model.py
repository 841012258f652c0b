"""The melody network (torch; training time only — the app runs its ONNX export).

A small decoder-only transformer over :mod:`models.melody.tokens`:

* **Inputs** per step: the token, the position in the bar in ticks (``0 .. MAX_BAR - 1``; a
  meter's bar is at most 192 ticks) and the index in the sequence. Each has an embedding; they
  are summed. The bar position tells the network where the beats are without spending tokens.
* **Blocks**: pre-norm causal self-attention (``heads`` heads) and a GELU feed-forward of
  ``4 · d_model``, ``layers`` times; attention over the whole tune so far lets the network copy
  a tune's own earlier phrases, which an n-gram cannot.
* **Output**: a linear head tied to the token embedding.

:meth:`MelodyTransformer.step` runs one token with a key/value cache in and out (the shape ONNX
export uses): generating a note costs one step whatever the tune's length.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the usual name

from models.melody import tokens as tk

MAX_BAR = tk.MAX_BAR_TICKS


@dataclass(frozen=True)
class MelodyConfig:
    layers: int = 4
    d_model: int = 192
    heads: int = 4
    max_len: int = 1024
    dropout: float = 0.1

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class _Block(nn.Module):
    def __init__(self, cfg: MelodyConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(
            nn.Linear(cfg.d_model, 4 * cfg.d_model),
            nn.GELU(),
            nn.Linear(4 * cfg.d_model, cfg.d_model),
        )
        self.drop = nn.Dropout(cfg.dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        past_k: torch.Tensor | None = None,
        past_v: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` (batch, time, d); with a cache, ``x`` is the new steps and ``past_*``
        (batch, heads, past, d / heads). Returns the output and the whole keys and values."""
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        q, k, v = self._split(q), self._split(k), self._split(v)
        if past_k is not None and past_v is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        t_new, t_all = q.shape[2], k.shape[2]
        scale = 1.0 / math.sqrt(q.shape[-1])
        scores = (q @ k.transpose(-1, -2)) * scale
        # causal: new step i (absolute t_all - t_new + i) sees keys up to itself
        rows = torch.arange(t_new).unsqueeze(1) + (t_all - t_new)
        cols = torch.arange(t_all).unsqueeze(0)
        scores = scores.masked_fill(cols > rows, float("-inf"))
        attn = self.drop(torch.softmax(scores, dim=-1))
        out = (attn @ v).transpose(1, 2).reshape(x.shape[0], t_new, -1)
        x = x + self.drop(self.proj(out))
        x = x + self.drop(self.ff(self.norm2(x)))
        return x, k, v


class MelodyTransformer(nn.Module):
    def __init__(self, cfg: MelodyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(len(tk.VOCAB), cfg.d_model)
        self.bar = nn.Embedding(MAX_BAR, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.blocks = nn.ModuleList(_Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def _embed(self, tokens: torch.Tensor, bar_pos: torch.Tensor, start: int | torch.Tensor):
        idx = torch.arange(tokens.shape[1]) + start
        return self.drop(self.tok(tokens) + self.bar(bar_pos) + self.pos(idx).unsqueeze(0))

    def forward(self, tokens: torch.Tensor, bar_pos: torch.Tensor) -> torch.Tensor:
        """Logits (batch, time, vocab) for the next token after each input token."""
        x = self._embed(tokens, bar_pos, 0)
        for block in self.blocks:
            x, _, _ = block(x)
        return self.norm(x) @ self.tok.weight.T

    def step(
        self,
        tokens: torch.Tensor,
        bar_pos: torch.Tensor,
        start: torch.Tensor,
        past_k: torch.Tensor,
        past_v: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One or more new steps with a cache: ``past_*`` (layers, batch, heads, past, head_dim);
        ``start`` the index of the first new step. Returns the logits of the last step and the
        grown caches."""
        x = self.tok(tokens) + self.bar(bar_pos) + self.pos(start + torch.arange(tokens.shape[1]))
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, past_k[i], past_v[i])
            keys.append(k)
            values.append(v)
        logits = self.norm(x[:, -1]) @ self.tok.weight.T
        return logits, torch.stack(keys), torch.stack(values)

    def empty_cache(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        head = self.cfg.d_model // self.cfg.heads
        shape = (self.cfg.layers, batch, self.cfg.heads, 0, head)
        return torch.zeros(shape), torch.zeros(shape)


def bar_positions(sequence: list[int]) -> list[int]:
    """The bar-position input of each token, clipped to the embedding's range."""
    return [min(p, MAX_BAR - 1) for p in tk.positions(sequence)]


def nll_per_token(
    model: MelodyTransformer, sequences: list[list[int]], skip: int = 3
) -> tuple[float, int]:
    """Mean NLL (nats) of every token after the first ``skip`` of each sequence, and the count.
    Tunes longer than the model's context are scored in windows that keep half a context of
    history."""
    model.eval()
    total, count = 0.0, 0
    ctx = model.cfg.max_len
    with torch.no_grad():
        for seq in sequences:
            pos = bar_positions(seq)
            first = skip  # index of the first target token
            while first < len(seq):
                lo = max(0, first - ctx // 2) if first > skip else 0
                hi = min(len(seq), lo + ctx)
                x = torch.tensor([seq[lo : hi - 1]])
                b = torch.tensor([pos[lo : hi - 1]])
                logits = model(x, b)[0]
                targets = torch.tensor(seq[lo + 1 : hi])
                lp = F.log_softmax(logits, dim=-1).gather(1, targets.unsqueeze(1)).squeeze(1)
                use = lp[first - lo - 1 :]
                total -= float(use.sum())
                count += len(use)
                first = hi
    return total / max(1, count), count
