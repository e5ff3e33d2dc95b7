"""Benchmarks: faceid against its peers (DeepFace, face_recognition), measured in one run.

``make bench`` runs :mod:`bench.run`; ``bench/accuracy.py`` is the separate accuracy table.
"""
