"""Reading dlib's serialized face ResNet (``dlib_face_recognition_resnet_model_v1.dat``).

dlib writes a network with its own serialization (``dlib/serialize.h``):

- an integer is one control byte (bit 7: negative; low 4 bits: byte count), then the
  absolute value in little-endian bytes; a string is an integer length, then its bytes; a
  bool is the character ``1`` or ``0``; a scalar float is two integers, mantissa then
  exponent (value = mantissa * 2**exponent);
- a tensor is a version (2), four integers n, k, nr, nc, then n*k*nr*nc little-endian
  float32 values; a shape-only record (an alias tensor) is a version (1) and four integers;
- the network is nested layers: the loss layer's record comes first, then each wrapper's
  version from the outside in, the input layer, and then each layer's own record from the
  input side out. A tag or skip wrapper (version 1) holds nothing else; a layer wrapper
  (version 2, or 3 for the innermost) is followed by its layer's record, three bools and
  three (empty) tensors of training state, the innermost one by an integer more.

:func:`read` returns the layers input first, with the network's constants. Nothing here
runs the network; :mod:`.dlib_onnx` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class FormatError(ValueError):
    """The file is not the dlib network this reader knows."""


@dataclass(frozen=True)
class Layer:
    """One layer: ``kind`` is conv, affine, relu, max_pool, avg_pool, tag, add or fc."""

    kind: str
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    window: tuple[int, int] = (0, 0)  # pooling window; (0, 0) pools the whole input
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Network:
    layers: list[Layer]
    mean_rgb: tuple[float, float, float]  # subtracted from the chip's channels
    size: int  # the chip's side (150)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def integer(self) -> int:
        control = self.data[self.at]
        count = control & 0x0F
        if control & 0x70 or count > 8:
            raise FormatError(f"not an integer at byte {self.at}")
        value = int.from_bytes(self.data[self.at + 1 : self.at + 1 + count], "little")
        self.at += 1 + count
        return -value if control & 0x80 else value

    def string(self) -> str:
        length = self.integer()
        if length > 64:
            raise FormatError(f"a {length}-byte name at byte {self.at}")
        text = self.data[self.at : self.at + length].decode("latin-1")
        self.at += length
        return text

    def peek_string(self) -> str:
        at = self.at
        try:
            return self.string()
        except (FormatError, IndexError):
            return ""
        finally:
            self.at = at

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        if exponent >= 32000:
            raise FormatError("an infinite or NaN constant")
        return float(np.ldexp(float(mantissa), exponent))

    def flag(self) -> bool:
        value = chr(self.data[self.at])
        self.at += 1
        if value not in "01":
            raise FormatError(f"not a bool at byte {self.at - 1}")
        return value == "1"

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise FormatError(f"a tensor of an unknown version at byte {self.at}")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.at)
        self.at += 4 * count
        return values.astype(np.float32).reshape(shape)

    def shape(self) -> tuple[int, ...]:
        if self.integer() != 1:
            raise FormatError(f"a shape record of an unknown version at byte {self.at}")
        return tuple(self.integer() for _ in range(4))

    def pair(self) -> tuple[int, int]:
        return self.integer(), self.integer()


def _conv(r: _Reader) -> Layer:
    params = r.tensor().ravel()
    r.integer(), r.integer(), r.integer()  # filters, rows, columns: in the shapes below
    stride, padding = r.pair(), r.pair()
    filters, _biases = r.shape(), r.shape()
    [r.real() for _ in range(4)]  # learning-rate multipliers
    n = int(np.prod(filters))
    weights = {"w": params[:n].reshape(filters), "b": params[n : n + filters[0]]}
    return Layer("conv", weights, stride=stride, padding=padding)


def _affine(r: _Reader) -> Layer:
    params = r.tensor().ravel()
    gamma, _beta = r.shape(), r.shape()
    if r.integer() != 0:
        raise FormatError("an affine layer that is not per channel")
    n = int(np.prod(gamma))
    return Layer("affine", {"gamma": params[:n], "beta": params[n : 2 * n]})


def _pool(kind: str, r: _Reader) -> Layer:
    window, stride, padding = r.pair(), r.pair(), r.pair()
    return Layer(kind, window=window, stride=stride, padding=padding)


def _fc(r: _Reader) -> Layer:
    outputs, inputs = r.integer(), r.integer()
    params = r.tensor().ravel()
    r.shape(), r.shape()
    if r.integer() != 1:
        raise FormatError("a fully connected layer with a bias")
    [r.real() for _ in range(4)]
    return Layer("fc", {"w": params[: inputs * outputs].reshape(inputs, outputs)})


_LAYERS = {
    "con_4": _conv,
    "affine_": _affine,
    "relu_": lambda r: Layer("relu"),
    "add_prev_": lambda r: Layer("add"),
    "max_pool_2": lambda r: _pool("max_pool", r),
    "avg_pool_2": lambda r: _pool("avg_pool", r),
    "fc_2": _fc,
}


def _layer(r: _Reader) -> Layer:
    name = r.string()
    if name not in _LAYERS:
        raise FormatError(f"an unknown layer {name!r}")
    return _LAYERS[name](r)


def _training_state(r: _Reader) -> None:
    """Three bools and three tensors a trainer keeps; empty in a released model."""
    r.flag(), r.flag(), r.flag()
    r.tensor(), r.tensor(), r.tensor()


def read(path: Path) -> Network:
    """The network in ``path``, input layer first; :class:`FormatError` if it is not one."""
    r = _Reader(path.read_bytes())
    try:
        if r.integer() != 1 or r.string() != "loss_metric_2":
            raise FormatError("not a dlib metric-learning network")
        r.real(), r.real()  # the loss's margin and distance threshold: training only
        versions = []
        while not r.peek_string().startswith("input_"):
            versions.append(r.integer())
        if r.string() != "input_rgb_image_sized":
            raise FormatError("an input layer other than a sized RGB image")
        mean = (r.real(), r.real(), r.real())
        rows, columns = r.integer(), r.integer()
        innermost = versions.pop()
        layers = [_layer(r)]
        _training_state(r)
        if innermost >= 3:
            r.integer()  # sample expansion factor
        for version in reversed(versions):
            if version == 1:
                layers.append(Layer("tag"))
                continue
            layers.append(_layer(r))
            _training_state(r)
    except FormatError:
        raise
    except (IndexError, ValueError) as exc:  # NumPy's "buffer is smaller" included
        raise FormatError("the file ends early") from exc
    if r.at != len(r.data) or rows != columns:
        raise FormatError("the file holds more than one square-input network")
    return Network(layers, mean, rows)
