"""Faces: the model registry, the pipeline (detect -> align -> embed), media decoding,
frame sampling, extraction, comparison and evaluation. Free of Flask."""
