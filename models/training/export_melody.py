"""Export the melody network's incremental step to ONNX.

    python -m models.training.export_melody .cache/melody/run/melody.pt \\
        resources/models/melody/melody.onnx [--float32]

The graph runs one step for a batch of one. Inputs: ``token``, ``bar_pos`` and ``start`` (the
step's index in the sequence), each (1, 1) int64, and per layer ``i`` the key/value cache
``past{i}`` (2, 1, heads, past, head_dim) float32 (``past`` may be 0). Outputs: ``logits``
(1, 1, vocab) and the caches grown by one step, ``present{i}``. The configuration
(``max_len``, ``layers``...) is stored in the model's metadata.

**How.** The graph is written node by node from the trained weights rather than traced from
:meth:`MelodyTransformer.step`: each block's attention is one onnxruntime ``Attention`` node
(com.microsoft; input projection, heads, softmax and the cache concatenation in one kernel)
and the rest is plain ONNX, 53 nodes in all. A dynamo trace of ``step`` had 155 nodes, and
at one token per run onnxruntime spent most of its time between nodes. :func:`export`
checks the written graph against the full-sequence torch model (within 1e-4) before it
returns.

**Shipped precision.** The app runs the graph with its weights quantised to int8
(onnxruntime's ``quantize_dynamic``: symmetric per-tensor int8 weights, activations quantised
per step; ``Attention`` becomes ``QAttention``), which is what :func:`quantize` writes and the
command line does unless given ``--float32``. The float32 step streams 7 MB of weights per
token, more than this machine's L2 cache holds; the int8 one streams 1.8 MB. The float32
export is the one checked against torch within 1e-4; the int8 graph differs from it by what
its rounding costs, which ``benchmarks/bench_melody_generate.py`` measures and
``benchmarks/RESULTS.md`` records with the held-out NLL of both.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.training.melody_model import MelodyConfig, MelodyTransformer, _Block

OPSET = 20  # LayerNormalization (17) and Gelu (20)


def input_names(layers: int) -> list[str]:
    return ["token", "bar_pos", "start", *[f"past{i}" for i in range(layers)]]


def output_names(layers: int) -> list[str]:
    return ["logits", *[f"present{i}" for i in range(layers)]]


def load(checkpoint: Path) -> MelodyTransformer:
    saved = torch.load(checkpoint, map_location="cpu")
    model = MelodyTransformer(MelodyConfig(**saved["config"]))
    model.load_state_dict(saved["state"])
    return model.eval()


def build_graph(model: MelodyTransformer) -> Any:
    """The step graph (an ``onnx.ModelProto``) holding ``model``'s weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cfg = model.cfg
    head = cfg.d_model // cfg.heads
    weights: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, tensor: torch.Tensor) -> str:
        weights.append(numpy_helper.from_array(tensor.detach().float().numpy().copy(), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def norm(x: str, layer: torch.nn.LayerNorm, name: str) -> str:
        w, b = const(f"{name}.w", layer.weight), const(f"{name}.b", layer.bias)
        return node("LayerNormalization", [x, w, b], name, axis=-1, epsilon=layer.eps)

    def linear(x: str, layer: torch.nn.Linear, name: str) -> str:
        y = node("MatMul", [x, const(f"{name}.w", layer.weight.T)], f"{name}.mm")
        return node("Add", [y, const(f"{name}.b", layer.bias)], name)

    tok = node("Gather", [const("tok", model.tok.weight), "token"], "tok_e")
    bar = node("Gather", [const("bar", model.bar.weight), "bar_pos"], "bar_e")
    pos = node("Gather", [const("pos", model.pos.weight), "start"], "pos_e")
    x = node("Add", [node("Add", [tok, bar], "tok_bar"), pos], "x0")
    blocks = [b for b in model.blocks if isinstance(b, _Block)]
    for i, block in enumerate(blocks):
        y = norm(x, block.norm1, f"b{i}.n1")
        qkv_w = const(f"b{i}.qkv.w", block.qkv.weight.T)
        qkv_b = const(f"b{i}.qkv.b", block.qkv.bias)
        nodes.append(
            helper.make_node(
                "Attention",
                [y, qkv_w, qkv_b, "", f"past{i}"],
                [f"b{i}.attn", f"present{i}"],
                name=f"b{i}.attn",
                domain="com.microsoft",
                num_heads=cfg.heads,
                unidirectional=1,
            )
        )
        x = node("Add", [x, linear(f"b{i}.attn", block.proj, f"b{i}.proj")], f"b{i}.x1")
        y = norm(x, block.norm2, f"b{i}.n2")
        ff_in, ff_out = block.ff[0], block.ff[2]
        assert isinstance(ff_in, torch.nn.Linear) and isinstance(ff_out, torch.nn.Linear)
        y = node("Gelu", [linear(y, ff_in, f"b{i}.ff1")], f"b{i}.gelu")
        x = node("Add", [x, linear(y, ff_out, f"b{i}.ff2")], f"b{i}.x2")
    y = norm(x, model.norm, "norm")
    node("MatMul", [y, const("tok_t", model.tok.weight.T)], "logits")

    index: list[str | int | None] = [1, 1]
    cache: list[str | int | None] = [2, 1, cfg.heads, "past", head]
    grown: list[str | int | None] = [2, 1, cfg.heads, "total", head]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, index) for n in input_names(0)]
    inputs += [
        helper.make_tensor_value_info(f"past{i}", TensorProto.FLOAT, cache)
        for i in range(cfg.layers)
    ]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1, "vocab"])]
    outputs += [
        helper.make_tensor_value_info(f"present{i}", TensorProto.FLOAT, grown)
        for i in range(cfg.layers)
    ]
    graph = helper.make_graph(nodes, "melody_step", inputs, outputs, weights)
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
        producer_name="hookline",
    )
    for key, value in cfg.to_dict().items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.checker.check_model(proto)
    return proto


def empty_caches(cfg: MelodyConfig) -> list[np.ndarray]:
    head = cfg.d_model // cfg.heads
    return [np.zeros((2, 1, cfg.heads, 0, head), dtype=np.float32) for _ in range(cfg.layers)]


def check(model: MelodyTransformer, path: Path, tolerance: float = 1e-4) -> float:
    """Run the graph at ``path`` one token at a time along a random sequence and return the
    largest logit difference from the full-sequence torch model; raise past ``tolerance``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = input_names(model.cfg.layers)
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, model.tok.num_embeddings, (1, 24), generator=generator)
    bars = torch.randint(0, model.bar.num_embeddings, (1, 24), generator=generator)
    with torch.no_grad():
        want = model(tokens, bars)[0].numpy()
    caches: Sequence[np.ndarray] = empty_caches(model.cfg)
    worst = 0.0
    for i in range(tokens.shape[1]):
        scalars = [np.array([[int(v)]], dtype=np.int64) for v in (tokens[0, i], bars[0, i], i)]
        feed = dict(zip(names, [*scalars, *caches], strict=True))
        got, *caches = session.run(None, feed)
        worst = max(worst, float(np.abs(got.reshape(-1) - want[i]).max()))
    if worst > tolerance:
        raise AssertionError(f"the ONNX graph {path.name} differs from the model by {worst}")
    return worst


def export(model: MelodyTransformer, out: Path) -> None:
    """Write the float32 step graph of ``model`` to ``out`` and check it against torch."""
    import onnx

    model = model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_graph(model), str(out))
    check(model, out)


class QuantisedReference:
    """The shipped int8 network run in torch: the trained model's LayerNorm, GELU, attention
    and biases, with every weight the int8 graph at ``path`` holds (read from it) and each
    linear layer's input quantised per step exactly as ONNX's ``DynamicQuantizeLinear``
    defines it (uint8, scale ``(max(x, 0) − min(x, 0)) / 255``, round half to even), the
    integer products exact. This is the torch side of the parity check for what ships."""

    def __init__(self, model: MelodyTransformer, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        graph = onnx.load(str(path)).graph
        arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self.model = model.eval()
        self.heads = model.cfg.heads
        self.head_dim = model.cfg.d_model // model.cfg.heads
        self._w = {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}

    def _table(self, name: str, index: int) -> torch.Tensor:
        q = self._w[f"{name}_quantized"][index].float()
        return (q - self._w[f"{name}_zero_point"].float()) * self._w[f"{name}_scale"]

    def _linear(self, x: torch.Tensor, name: str, bias: torch.Tensor) -> torch.Tensor:
        lo = torch.clamp(x.min(), max=0.0)
        hi = torch.clamp(x.max(), min=0.0)
        scale = (hi - lo) / 255.0
        zero = torch.clamp(torch.round(-lo / scale), 0, 255)
        q = torch.clamp(torch.round(x / scale) + zero, 0, 255)
        weight = self._w[f"{name}_quantized"].double()
        acc = (q - zero).double() @ weight
        return acc.float() * (scale * self._w[f"{name}_scale"]) + bias

    def step(
        self, token: int, bar_pos: int, index: int, caches: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> torch.Tensor:
        """Logits after one token; ``caches`` (keys, values per layer, (heads, t, head_dim))
        grow in place."""
        m, h, hd = self.model, self.heads, self.head_dim
        with torch.no_grad():
            x = self._table("tok", token) + self._table("bar", bar_pos) + self._table("pos", index)
            x = x.reshape(1, -1)
            for i, block in enumerate(b for b in m.blocks if isinstance(b, _Block)):
                y = block.norm1(x)
                qkv = self._linear(y, f"b{i}.qkv.w", block.qkv.bias)
                q, k, v = (t.reshape(h, 1, hd) for t in qkv.split(h * hd, dim=1))
                keys = torch.cat([caches[i][0], k], dim=1) if caches[i][0].numel() else k
                values = torch.cat([caches[i][1], v], dim=1) if caches[i][1].numel() else v
                caches[i] = (keys, values)
                attn = torch.softmax(q @ keys.transpose(1, 2) / hd**0.5, dim=-1)
                out = (attn @ values).reshape(1, -1)
                x = x + self._linear(out, f"b{i}.proj.w", block.proj.bias)
                ff_in, ff_out = block.ff[0], block.ff[2]
                assert isinstance(ff_in, torch.nn.Linear) and isinstance(ff_out, torch.nn.Linear)
                y = torch.nn.functional.gelu(
                    self._linear(block.norm2(x), f"b{i}.ff1.w", ff_in.bias)
                )
                x = x + self._linear(y, f"b{i}.ff2.w", ff_out.bias)
            return self._linear(m.norm(x), "tok_t", torch.zeros(m.tok.num_embeddings))[0]

    def empty(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(torch.zeros(0), torch.zeros(0)) for _ in range(self.model.cfg.layers)]


def quantize(src: Path, out: Path) -> None:
    """``out``: the float32 graph ``src`` with int8 weights (see the module notes); the
    metadata is kept."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Shape inference cannot see through the com.microsoft Attention node: say that what
    # comes out of it is float.
    extra = {"DefaultTensorType": TensorProto.FLOAT}
    quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, extra_options=extra)


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        raise SystemExit(__doc__)
    model, out = load(Path(args[0])), Path(args[1])
    if "--float32" in argv:
        export(model, out)
        return
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "melody-float32.onnx"
        export(model, fp32)
        quantize(fp32, out)


if __name__ == "__main__":
    main(sys.argv[1:])
