"""Export the melody network's incremental step to ONNX.

    python -m models.training.export_melody resources/models/melody/melody.pt \\
        resources/models/melody/melody.onnx

The graph runs one step for a batch of one: inputs ``token`` (1, 1) int64, ``bar_pos`` (1, 1)
int64, ``start`` () int64 (the step's index in the sequence), ``past_k`` and ``past_v``
(layers, 1, heads, past, head_dim) float32 — ``past`` may be 0; outputs ``logits`` (1, vocab)
and the caches grown by one step, ``next_k`` and ``next_v``. The configuration
(``max_len``, ``layers``...) is stored in the model's metadata. The exporter is torch's default
(dynamo, opset 18) with ``past`` as a dynamic axis.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from models.training.melody_model import MelodyConfig, MelodyTransformer

INPUTS = ("token", "bar_pos", "start", "past_k", "past_v")
OUTPUTS = ("logits", "next_k", "next_v")


class _Step(nn.Module):
    def __init__(self, model: MelodyTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, token, bar_pos, start, past_k, past_v):
        return self.model.step(token, bar_pos, start, past_k, past_v)


def load(checkpoint: Path) -> MelodyTransformer:
    saved = torch.load(checkpoint, map_location="cpu")
    model = MelodyTransformer(MelodyConfig(**saved["config"]))
    model.load_state_dict(saved["state"])
    return model.eval()


def export(model: MelodyTransformer, out: Path) -> None:
    model = model.eval()
    cfg = model.cfg
    head = cfg.d_model // cfg.heads
    past = torch.zeros(cfg.layers, 1, cfg.heads, 3, head)
    example = (
        torch.tensor([[5]], dtype=torch.long),
        torch.tensor([[0]], dtype=torch.long),
        torch.tensor(3, dtype=torch.long),
        past,
        past.clone(),
    )
    t = torch.export.Dim("past", min=0, max=cfg.max_len - 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        _Step(model).eval(),
        example,
        str(out),
        input_names=list(INPUTS),
        output_names=list(OUTPUTS),
        dynamic_shapes=(None, None, None, {3: t}, {3: t}),
        dynamo=True,
        external_data=False,
    )
    import onnx

    graph = onnx.load(str(out))
    for key, value in cfg.to_dict().items():
        graph.metadata_props.add(key=key, value=str(value))
    onnx.save(graph, str(out))


if __name__ == "__main__":
    export(load(Path(sys.argv[1])), Path(sys.argv[2]))
