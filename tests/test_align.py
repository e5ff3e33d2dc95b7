"""Alignment is pure maths: check it against known transforms."""

from __future__ import annotations

import numpy as np
import pytest

from faceid.faces.align import (
    ARCFACE_TEMPLATE,
    align_face,
    canonical_landmarks,
    similarity_transform,
)


@pytest.mark.parametrize(
    ("angle", "scale", "shift"), [(0, 1, (0, 0)), (30, 2.5, (10, -4)), (-75, 0.4, (100, 200))]
)
def test_similarity_transform_recovers_a_known_transform(angle, scale, shift):
    theta = np.radians(angle)
    rot = scale * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    src = ARCFACE_TEMPLATE.astype(np.float64)
    dst = src @ rot.T + np.array(shift)
    matrix = similarity_transform(src, dst)
    np.testing.assert_allclose(matrix[:, :2], rot, atol=1e-4)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-3)


def test_landmarks_are_ordered_left_to_right():
    pts = np.array([[70, 50], [40, 50], [55, 70], [65, 90], [42, 90]], dtype=np.float32)
    out = canonical_landmarks(pts)
    assert out[0, 0] < out[1, 0] and out[3, 0] < out[4, 0]
    np.testing.assert_array_equal(out[2], pts[2])


def test_align_face_puts_landmarks_on_the_template():
    image = np.zeros((400, 400, 3), dtype=np.uint8)
    pts = ARCFACE_TEMPLATE * 2 + 100
    for x, y in pts.astype(int):
        image[y - 1 : y + 2, x - 1 : x + 2] = 255
    crop = align_face(image, pts, 112)
    assert crop.shape == (112, 112, 3)
    for x, y in ARCFACE_TEMPLATE.round().astype(int):
        assert crop[y - 1 : y + 2, x - 1 : x + 2].max() > 100
