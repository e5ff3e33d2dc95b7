"""dlib's face ResNet as an ONNX graph: built from dlib's own weight file on first use,
checked against dlib, cached in the models folder.

The graph takes RGB chips as dlib cuts them (``get_face_chip``, 150 px, padding 0.25),
``float32 [n, 150, 150, 3]`` in 0..255, and returns the same raw 128-d descriptors as
``compute_face_descriptor``. Each batch-norm (an ``affine`` layer) is folded into the
convolution before it. dlib adds a residual branch to a shortcut of another shape by
padding the smaller with zeros (more channels after a down-sampling block, or a 3x3 map
added to a 4x4 one), so the graph pads the same way.

The converted file is cached as ``dlib-resnet-v1.onnx`` with a sidecar
(``.json``): the SHA-256 of the graph, of the dlib file it came from, and the converter's
version. A cached graph is used only when all three still hold; otherwise it is built
again. A new graph is used only after it agrees with dlib on test chips (cosine at
least :data:`MIN_COSINE` on each).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .dlib_format import Layer, Network, read

log = logging.getLogger(__name__)

#: Bump when the graph built from the same weights changes.
CONVERTER_VERSION = 1
FILENAME = "dlib-resnet-v1.onnx"
MIN_COSINE = 0.9999
OPSET = 17


class ConversionError(RuntimeError):
    """The graph could not be built, or does not agree with dlib."""


class _Graph:
    """Nodes and weights as the network is walked, with the (C, H, W) shape of each value."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.shapes: dict[str, tuple[int, int, int]] = {}

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], shape: tuple[int, int, int], **attrs: Any) -> str:
        from onnx import helper

        out = f"v{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        self.shapes[out] = shape
        return out


def _conv(g: _Graph, x: str, layer: Layer, affine: Layer | None) -> str:
    w, b = layer.weights["w"], layer.weights["b"]
    if affine is not None:  # y = (conv(x) + b) * gamma + beta
        gamma, beta = affine.weights["gamma"], affine.weights["beta"]
        w, b = w * gamma[:, None, None, None], b * gamma + beta
    c, h, width = g.shapes[x]
    (sy, sx), (py, px) = layer.stride, layer.padding
    kh, kw = w.shape[2:]
    shape = (w.shape[0], 1 + (h + 2 * py - kh) // sy, 1 + (width + 2 * px - kw) // sx)
    n = len(g.nodes)
    inputs = [x, g.const(f"w{n}", w.astype(np.float32)), g.const(f"b{n}", b.astype(np.float32))]
    return g.node("Conv", inputs, shape, strides=[sy, sx], pads=[py, px, py, px])


def _pool(g: _Graph, x: str, layer: Layer) -> str:
    c, h, w = g.shapes[x]
    if layer.window == (0, 0):
        return g.node("GlobalAveragePool", [x], (c, 1, 1))
    (kh, kw), (sy, sx) = layer.window, layer.stride
    if layer.padding != (0, 0):
        raise ConversionError("a padded pooling layer")
    op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
    shape = (c, 1 + (h - kh) // sy, 1 + (w - kw) // sx)
    return g.node(op, [x], shape, kernel_shape=[kh, kw], strides=[sy, sx])


def _fit(g: _Graph, x: str, shape: tuple[int, int, int]) -> str:
    """``x`` padded with zeros (channels at the end, rows and columns at the bottom right)
    up to ``shape``, as dlib's add does."""
    have = g.shapes[x]
    extra = [s - h for s, h in zip(shape, have, strict=True)]
    if not any(extra):
        return x
    n = len(g.nodes)
    pads = g.const(f"pads{n}", np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64))
    return g.node("Pad", [x, pads], shape)


def _add(g: _Graph, a: str, b: str) -> str:
    shape = tuple(max(s, t) for s, t in zip(g.shapes[a], g.shapes[b], strict=True))
    size = (shape[0], shape[1], shape[2])
    return g.node("Add", [_fit(g, a, size), _fit(g, b, size)], size)


def _body(g: _Graph, x: str, layers: list[Layer]) -> str:
    """Walk the layers input first. A residual block reads ``tag, block..., add`` (the
    block's output plus the tagged input); a down-sampling one ``tag, block..., tag, tag,
    avg_pool, add`` (the second tag pair sets the block's output aside and goes back to the
    tagged input, which is pooled and added to it)."""
    tagged = branch = ""
    i = 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if layer.kind == "tag" and following is not None and following.kind == "tag":
            branch, x = x, tagged
            i += 2
            continue
        if layer.kind == "tag":
            tagged, branch = x, ""
        elif layer.kind == "conv":
            fold = following if following is not None and following.kind == "affine" else None
            x = _conv(g, x, layer, fold)
            i += 1 if fold is not None else 0
        elif layer.kind == "affine":
            raise ConversionError("an affine layer that does not follow a convolution")
        elif layer.kind == "relu":
            x = g.node("Relu", [x], g.shapes[x])
        elif layer.kind in ("max_pool", "avg_pool"):
            x = _pool(g, x, layer)
        elif layer.kind == "add":
            x = _add(g, x, branch or tagged)
        elif layer.kind == "fc":
            flat = g.node("Flatten", [x], g.shapes[x])
            x = g.node("MatMul", [flat, g.const("fc", layer.weights["w"])], (0, 0, 0))
        i += 1
    return x


def build(net: Network) -> bytes:
    """The serialized ONNX model of ``net``: chips ``[n, size, size, 3]`` RGB in, raw
    descriptors ``[n, 128]`` out."""
    from onnx import TensorProto, checker, helper

    g = _Graph()
    nchw = g.node("Transpose", ["chips"], (3, net.size, net.size), perm=[0, 3, 1, 2])
    mean = g.const("mean", np.array(net.mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1))
    centred = g.node("Sub", [nchw, mean], g.shapes[nchw])
    scale = g.const("scale", np.array(1 / 256, dtype=np.float32))
    x = g.node("Mul", [centred, scale], g.shapes[nchw])
    _body(g, x, net.layers)
    g.nodes[-1].output[0] = "descriptors"
    dim = int(net.layers[-1].weights["w"].shape[1])
    graph = helper.make_graph(
        g.nodes,
        "dlib_resnet_v1",
        [helper.make_tensor_value_info("chips", TensorProto.FLOAT, ["n", net.size, net.size, 3])],
        [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["n", dim])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    checker.check_model(model)
    return bytes(model.SerializeToString())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_chips(count: int = 4) -> np.ndarray:
    """Deterministic 150 px RGB chips of smooth noise at several scales: the graph must
    compute dlib's function on any input, not only on faces."""
    import cv2

    rng = np.random.default_rng(150)
    chips = []
    for i in range(count):
        noise = rng.uniform(0, 255, (150, 150, 3)).astype(np.float32)
        chips.append(cv2.GaussianBlur(noise, (0, 0), 1.0 + 3.0 * i))
    return np.clip(np.stack(chips), 0, 255).astype(np.uint8)


def agreement(model: bytes, source: Path) -> float:
    """The lowest cosine between the graph's descriptors and dlib's on :func:`test_chips`."""
    import dlib
    import onnxruntime as ort

    chips = test_chips()
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    ours = session.run(None, {"chips": chips.astype(np.float32)})[0]
    net = dlib.face_recognition_model_v1(str(source))
    theirs = np.array([net.compute_face_descriptor(chip) for chip in chips], dtype=np.float64)
    cos = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    return float(cos.min())


def _cached(path: Path, source_digest: str) -> bytes | None:
    sidecar = path.with_name(path.name + ".json")
    try:
        meta = json.loads(sidecar.read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        return None
    facts = {"source_sha256": source_digest, "converter": CONVERTER_VERSION}
    if {k: meta.get(k) for k in facts} != facts or meta.get("sha256") != _sha256(data):
        log.warning("cached dlib ONNX graph is stale or altered; building it again")
        return None
    return data


def _store(path: Path, data: bytes, source_digest: str, cosine: float) -> None:
    meta = {
        "sha256": _sha256(data),
        "source_sha256": source_digest,
        "converter": CONVERTER_VERSION,
        "min_cosine_vs_dlib": round(cosine, 8),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, content in ((path, data), (path.with_name(path.name + ".json"), None)):
            payload = content if content is not None else json.dumps(meta, indent=2).encode()
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{target.name}.")
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, target)
    except OSError as exc:
        log.warning(
            "cannot cache the dlib ONNX graph", extra={"path": str(path), "error": str(exc)}
        )


def load(source: Path, models_dir: Path | None) -> bytes:
    """The ONNX graph of the dlib network in ``source``: cached in ``models_dir`` when a
    valid one is there, else built, checked against dlib and cached. Raises
    :class:`ConversionError` when the graph cannot be built or does not agree."""
    raw = source.read_bytes()
    source_digest = _sha256(raw)
    target = models_dir / FILENAME if models_dir is not None else None
    if target is not None and (data := _cached(target, source_digest)) is not None:
        return data
    try:
        data = build(read(source))
    except (ValueError, KeyError, IndexError) as exc:
        raise ConversionError(f"cannot rebuild dlib's network from {source.name}: {exc}") from exc
    cosine = agreement(data, source)
    if cosine < MIN_COSINE:
        raise ConversionError(f"the ONNX graph disagrees with dlib (cosine {cosine:.6f})")
    log.info("dlib network converted to ONNX", extra={"min_cosine": cosine})
    if target is not None:
        _store(target, data, source_digest, cosine)
    return data
