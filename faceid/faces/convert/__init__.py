"""Weights converted on first use: dlib's face ResNet read from its own file and rebuilt
as an ONNX graph (:mod:`.dlib_format`, :mod:`.dlib_onnx`)."""
