"""The face detectors' cards: each one's name, the module that builds it, its weight file
and the packages it imports."""

from __future__ import annotations

from dataclasses import dataclass

from .files import WeightFile


@dataclass(frozen=True)
class DetectorCard:
    """One face detector: its ``name`` (``FACEID_DETECTOR``); ``module``, its module in
    :mod:`faceid.faces.detectors`, whose ``build(weights, threads=, max_side=)`` makes it
    from its weight file's path; ``weight``, that file (None: its weights ship in pip
    packages); ``needs``, the Python packages it imports, each with the faceid extra that
    installs it."""

    name: str
    module: str
    weight: WeightFile | None = None
    needs: tuple[tuple[str, str], ...] = ()


_YUNET = WeightFile(
    id="yunet",
    filename="face_detection_yunet_2023mar.onnx",
    urls=(
        "https://github.com/opencv/opencv_zoo/raw/main/models/"
        "face_detection_yunet/face_detection_yunet_2023mar.onnx",
    ),
    sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
    description="OpenCV YuNet face detector (box + 5 landmarks)",
    licence="MIT",
)
_RETINAFACE_MNET = WeightFile(
    id="retinaface-mnet025",
    filename="retinaface_mnet025.onnx",
    urls=("https://github.com/kgzhwang/Pytorch_Retinaface/raw/master/FaceDetector.onnx",),
    sha256="e0e19bad8494b3f7a7edb39a90194ff055923e13a3453569a454386f857fe538",
    description="RetinaFace MobileNet-0.25, 640x640 ONNX export",
    licence="MIT",
)
_RETINAFACE_RESNET = WeightFile(
    id="retinaface-resnet50",
    filename="retinaface.onnx",
    urls=(
        "https://github.com/serengil/deepface_models/releases/download/v1.0/retinaface.onnx",
        "https://huggingface.co/serengil/deepface/resolve/main/retinaface.onnx",
    ),
    sha256="45d02defc4737b382691a52fc2bb49b984420dcbd26ee6ab9a8343c667d228f7",
    description="retina-face package's RetinaFace ResNet-50 (ONNX backend)",
    licence="MIT",
)

#: Every face detector, by name.
DETECTORS: dict[str, DetectorCard] = {
    d.name: d
    for d in (
        DetectorCard("hog", "hog"),
        DetectorCard("mtcnn", "mtcnn", needs=(("mtcnn", "mtcnn"), ("tensorflow", "mtcnn"))),
        DetectorCard("yunet", "yunet", _YUNET),
        DetectorCard("retinaface-onnx", "retinaface_onnx", _RETINAFACE_MNET),
        DetectorCard(
            "retinaface",
            "retinaface_pkg",
            _RETINAFACE_RESNET,
            needs=(("retinaface", "retinaface"), ("tensorflow", "retinaface")),
        ),
    )
}
