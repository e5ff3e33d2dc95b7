"""Named pipelines (``FACEID_PIPELINE``): a detector, an embedder and the weight files
they need, chosen from the measurements in README ("Which pipeline should a door run?").

>>> PRESETS["recommended"].weights
('yunet', 'mobilefacenet-arcface')
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import DETECTORS


@dataclass(frozen=True)
class Preset:
    """A named pipeline (``FACEID_PIPELINE``): detector, embedder and ArcFace weights,
    and the weight files it needs downloaded (none for the offline default)."""

    name: str
    detector: str
    embedder: str
    arcface_model: str | None
    why: str

    @property
    def weights(self) -> tuple[str, ...]:
        detector = DETECTORS.get(self.detector)
        files = [detector.weight.id] if detector and detector.weight else []
        return (*files, *([self.arcface_model] if self.arcface_model else []))

    def settings(self) -> dict[str, str]:
        out = {"detector": self.detector, "embedder": self.embedder}
        return {**out, **({"arcface_model": self.arcface_model} if self.arcface_model else {})}


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "default",
            "hog",
            "dlib",
            None,
            "offline: weights ship in pip packages; 0 false accepts and 3.1% false rejects "
            "at standard on identities.csv; about 160 ms per face on 2 cores",
        ),
        Preset(
            "recommended",
            "yunet",
            "arcface",
            "mobilefacenet-arcface",
            "0 false accepts and 2.5% false rejects at standard on identities.csv, wider "
            "genuine/impostor separation (d' 7.4 against 5.4), about 6x faster per face; "
            "needs two downloads (yunet, mobilefacenet-arcface: 4 MB)",
        ),
    )
}

#: What a service with no pipeline named runs: the offline default, and the ArcFace weights
#: ``FACEID_EMBEDDER=arcface`` loads when no ``FACEID_ARCFACE_MODEL`` is given. The
#: settings' and the pipeline's defaults are these.
DEFAULT = PRESETS["default"]
DEFAULT_ARCFACE_MODEL = "arcface-deepface"
