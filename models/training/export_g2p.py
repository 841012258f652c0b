"""Export the trained G2P network to one ONNX graph with greedy decoding inside.

    python -m models.training.export_g2p .cache/g2p/run/g2p.pt resources/models/g2p/g2p.onnx \\
        [--float32]

**The graph.** Input ``chars``: (1, letters) int64, the word's letter ids (``a`` = 1 … ``z`` =
26, ``'`` = 27; no padding, at most ``max_chars``). Outputs ``phones``: (steps, 1) int64, the
greedy phone ids up to and including EOS (or ``max_phones + 1`` ids when no EOS came), and
``scores``: (steps, 1) float32, each chosen phone's log-probability. The encoder is one ONNX
``GRU`` node (bidirectional); the decoder is a ``Loop`` whose body is one step of
:meth:`G2PNet.step` (two ``GRU`` nodes of one time step, the attention as ``MatMul`` and
``Softmax``, ``ArgMax``), stopping after EOS. One ``session.run`` per word. The letter and
phone tables and the limits are in the model's metadata (``letters``, ``phones`` with ids from
3, ``bos``, ``eos``, ``max_chars``, ``max_phones``).

**Precision.** The shipped file stores its weights as float16 (half the size: 3 MB instead of
6) and casts them to float32 when the session is built; everything is computed in float32.
:func:`export` rounds the torch model's weights to float16 the same way and checks the graph
against that torch model on held-out words before the file is written: the same phones for
every word and each step's log-probability within 1e-4. ``--float32`` stores the weights
unrounded (checked against the trained model itself).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.training import train_g2p as tg

OPSET = 18
IR_VERSION = 9


def rounded(model: tg.G2PNet) -> tg.G2PNet:
    """A copy of ``model`` with every weight rounded to float16 precision (kept float32)."""
    copy = tg.G2PNet(model.cfg)
    copy.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    return copy.eval()


def _gru_weights(gru: torch.nn.GRU, suffixes: Sequence[str]) -> tuple[np.ndarray, ...]:
    """ONNX ``GRU`` W, R, B from a torch GRU layer: gates reordered from torch's (r, z, n) to
    ONNX's (z, r, h); one slice per direction (``""`` forward, ``"_reverse"`` backward)."""

    def reorder(t: torch.Tensor) -> np.ndarray:
        r, z, n = t.detach().float().chunk(3, dim=0)
        return torch.cat([z, r, n], dim=0).numpy()

    w = np.stack([reorder(getattr(gru, f"weight_ih_l0{s}")) for s in suffixes])
    r = np.stack([reorder(getattr(gru, f"weight_hh_l0{s}")) for s in suffixes])
    b = np.stack(
        [
            np.concatenate(
                [reorder(getattr(gru, f"bias_ih_l0{s}")), reorder(getattr(gru, f"bias_hh_l0{s}"))]
            )
            for s in suffixes
        ]
    )
    return w, r, b


def build_graph(model: tg.G2PNet, float16: bool = True) -> Any:
    """The ONNX model (an ``onnx.ModelProto``) of ``model`` with greedy decoding inside."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cfg = model.cfg
    memory_size = 2 * cfg.encoder
    weights: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, array: np.ndarray | torch.Tensor) -> str:
        """A weight: stored float16 and cast (or float32), named ``name`` after the cast."""
        value = array.detach().float().numpy() if isinstance(array, torch.Tensor) else array
        value = np.ascontiguousarray(value, dtype=np.float32)
        if not float16:
            weights.append(numpy_helper.from_array(value, name))
            return name
        weights.append(numpy_helper.from_array(value.astype(np.float16), f"{name}.f16"))
        nodes.append(helper.make_node("Cast", [f"{name}.f16"], [name], to=TensorProto.FLOAT))
        return name

    def ints(name: str, values: Sequence[int]) -> str:
        weights.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def node(op: str, inputs: list[str], output: str, into: list[Any], **attrs: Any) -> str:
        into.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def linear(x: str, layer: torch.nn.Linear, name: str, into: list[Any]) -> str:
        y = node("MatMul", [x, const(f"{name}.w", layer.weight.T)], f"{name}.mm", into)
        return node("Add", [y, const(f"{name}.b", layer.bias)], name, into)

    # Encoder (main graph).
    enc_w, enc_r, enc_b = _gru_weights(model.encoder, ["", "_reverse"])
    embedded = node("Gather", [const("char_embed", model.char_embed.weight), "chars"], "ce", nodes)
    x = node("Transpose", [embedded], "ce_t", nodes, perm=[1, 0, 2])  # (T, 1, E)
    nodes.append(
        helper.make_node(
            "GRU",
            [x, const("enc.W", enc_w), const("enc.R", enc_r), const("enc.B", enc_b)],
            ["enc.Y"],
            name="encoder",
            direction="bidirectional",
            hidden_size=cfg.encoder,
            linear_before_reset=1,
        )
    )  # Y: (T, 2, 1, H)
    y = node("Transpose", ["enc.Y"], "enc.Yt", nodes, perm=[2, 0, 1, 3])  # (1, T, 2, H)
    memory = node("Reshape", [y, ints("shape.mem", [-1, memory_size])], "memory", nodes)
    memory_t = node("Transpose", [memory], "memory_t", nodes, perm=[1, 0])
    mean = node("ReduceMean", [memory, ints("axis0", [0])], "mem_mean", nodes, keepdims=1)
    start = node("Tanh", [linear(mean, model.bridge, "bridge", nodes)], "start", nodes)
    shape_h = ints("shape.h", [1, 1, cfg.decoder])
    half = cfg.decoder
    h1 = node("Slice", [start, ints("s0", [0]), ints("s1", [half]), ints("ax1", [1])], "h1a", nodes)
    h2 = node("Slice", [start, "s1", ints("s2", [2 * half]), "ax1"], "h2a", nodes)
    h1 = node("Reshape", [h1, shape_h], "h1_0", nodes)
    h2 = node("Reshape", [h2, shape_h], "h2_0", nodes)

    # Decoder step (the Loop body); weights and memory come from the outer scope.
    body: list[Any] = []
    w1, r1, b1 = _gru_weights(model.gru1, [""])
    w2, r2, b2 = _gru_weights(model.gru2, [""])
    names1 = [const("g1.W", w1), const("g1.R", r1), const("g1.B", b1)]
    names2 = [const("g2.W", w2), const("g2.R", r2), const("g2.B", b2)]
    row = ints("shape.row", [1, -1])
    seq = ints("shape.seq", [1, 1, -1])
    emb = node("Gather", [const("phone_embed", model.phone_embed.weight), "tok_in"], "pe", body)
    emb = node("Reshape", [emb, seq], "pe3", body)
    body.append(
        helper.make_node(
            "GRU", [emb, *names1, "", "h1_in"], ["", "h1_out"], name="gru1",
            hidden_size=cfg.decoder, linear_before_reset=1,
        )
    )  # fmt: skip
    o1 = node("Reshape", ["h1_out", row], "o1", body)
    scale = "att.scale"  # float32 even in the float16 file: torch divides by sqrt(memory)
    weights.append(numpy_helper.from_array(np.array([memory_size**-0.5], np.float32), scale))
    q = node("Mul", [linear(o1, model.query, "query", body), scale], "q", body)
    att = node("Softmax", [node("MatMul", [q, memory_t], "att.s", body)], "att.w", body, axis=-1)
    ctx = node("MatMul", [att, memory], "ctx", body)
    x2 = node("Reshape", [node("Concat", [o1, ctx], "x2", body, axis=1), seq], "x2s", body)
    body.append(
        helper.make_node(
            "GRU", [x2, *names2, "", "h2_in"], ["", "h2_out"], name="gru2",
            hidden_size=cfg.decoder, linear_before_reset=1,
        )
    )  # fmt: skip
    o2 = node("Reshape", ["h2_out", row], "o2", body)
    both = node("Concat", [o2, ctx], "o2ctx", body, axis=1)
    hidden = node("Tanh", [linear(both, model.combine, "combine", body)], "hidden", body)
    logits = linear(hidden, model.out, "logits", body)
    node("ArgMax", [logits], "tok_out", body, axis=1, keepdims=0)
    node("Identity", ["tok_out"], "tok_scan", body)
    logp = node("LogSoftmax", [logits], "logp", body, axis=1)
    node("ReduceMax", [logp, ints("axis1", [1])], "score", body, keepdims=0)
    eos = ints("eos", [tg.EOS])
    is_eos = node("Equal", ["tok_out", eos], "is_eos", body)
    node("Squeeze", [node("Not", [is_eos], "going", body), "axis0"], "cond_out", body)

    def info(name: str, kind: int, shape: list[Any] | None) -> Any:
        return helper.make_tensor_value_info(name, kind, shape)

    body_graph = helper.make_graph(
        body,
        "decoder_step",
        [
            info("iteration", TensorProto.INT64, []),
            info("cond_in", TensorProto.BOOL, []),
            info("tok_in", TensorProto.INT64, [1]),
            info("h1_in", TensorProto.FLOAT, [1, 1, cfg.decoder]),
            info("h2_in", TensorProto.FLOAT, [1, 1, cfg.decoder]),
        ],
        [
            info("cond_out", TensorProto.BOOL, []),
            info("tok_out", TensorProto.INT64, [1]),
            info("h1_out", TensorProto.FLOAT, [1, 1, cfg.decoder]),
            info("h2_out", TensorProto.FLOAT, [1, 1, cfg.decoder]),
            info("tok_scan", TensorProto.INT64, [1]),
            info("score", TensorProto.FLOAT, [1]),
        ],
    )
    trips = ints("trips", [tg.MAX_PHONES + 1])
    weights.append(numpy_helper.from_array(np.array(True), "go"))
    bos = ints("bos", [tg.BOS])
    nodes.append(
        helper.make_node(
            "Loop",
            [node("Squeeze", [trips, "axis0"], "trip_count", nodes), "go", bos, h1, h2],
            ["last_tok", "last_h1", "last_h2", "phones", "scores"],
            name="decoder",
            body=body_graph,
        )
    )
    graph = helper.make_graph(
        nodes,
        "g2p",
        [info("chars", TensorProto.INT64, [1, "letters"])],
        [info("phones", TensorProto.INT64, ["steps", 1]),
         info("scores", TensorProto.FLOAT, ["steps", 1])],
        weights,
    )  # fmt: skip
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="hookline"
    )
    proto.ir_version = IR_VERSION
    meta = {
        "letters": tg.LETTERS,
        "phones": " ".join(tg.PHONES),
        "bos": tg.BOS,
        "eos": tg.EOS,
        "max_chars": tg.MAX_CHARS,
        "max_phones": tg.MAX_PHONES,
        "weights": "float16" if float16 else "float32",
        **{f"config.{k}": v for k, v in vars(cfg).items()},
    }
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def torch_reference(model: tg.G2PNet, word: str) -> tuple[list[int], list[float]]:
    """Greedy phone ids (through EOS) and their log-probabilities from the torch model, one
    word at a time, the way the graph decodes."""
    with torch.no_grad():
        memory, h1, h2 = model.encode(torch.tensor([tg.encode_word(word)]))
        token = torch.tensor([tg.BOS])
        ids: list[int] = []
        scores: list[float] = []
        for _ in range(tg.MAX_PHONES + 1):
            logits, h1, h2 = model.step(token, memory, h1, h2)
            logp = torch.log_softmax(logits, dim=-1)[0]
            token = logp.argmax().reshape(1)
            ids.append(int(token))
            scores.append(float(logp[token]))
            if int(token) == tg.EOS:
                break
    return ids, scores


def check(
    model: tg.G2PNet, path: Path, words: Sequence[str], tolerance: float = 1e-4
) -> dict[str, float]:
    """Run the graph at ``path`` and the torch ``model`` on ``words``; raise unless every word
    gets the same phones and every step's log-probability is within ``tolerance``. Returns the
    words checked and the largest score difference."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    worst = 0.0
    for word in words:
        want_ids, want_scores = torch_reference(model, word)
        chars = np.array([tg.encode_word(word)], dtype=np.int64)
        ids, scores = session.run(None, {"chars": chars})
        if ids.reshape(-1).tolist() != want_ids:
            raise AssertionError(f"{path.name}: {word!r} gives {ids.reshape(-1)} not {want_ids}")
        worst = max(worst, float(np.abs(scores.reshape(-1) - np.array(want_scores)).max()))
        if worst > tolerance:
            raise AssertionError(f"{path.name}: {word!r} scores differ from torch by {worst}")
    return {"words": len(words), "max_score_difference": worst}


def export(
    model: tg.G2PNet, out: Path, words: Sequence[str], float16: bool = True
) -> dict[str, float]:
    """Write ``model``'s graph to ``out`` once it matches torch on ``words`` (see :func:`check`;
    with ``float16`` the reference is the model with float16-rounded weights)."""
    import onnx

    model = model.eval()
    reference = rounded(model) if float16 else model
    proto = build_graph(model, float16=float16)
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / out.name
        onnx.save(proto, str(trial))
        figures = check(reference, trial, words)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(trial.read_bytes())
    return figures


def main(argv: Sequence[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    model = tg.load(Path(args[0]))
    words = [w for w, _ in tg.load_splits()["test"]]
    figures = export(model, Path(args[1]), words, float16="--float32" not in argv)
    print(f"wrote {args[1]}: ONNX matches torch on {figures['words']} held-out words, "
          f"largest log-probability difference {figures['max_score_difference']:.2e}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
