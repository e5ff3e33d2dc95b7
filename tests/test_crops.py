"""Enrolment keeps only the part of each photo around its face until the batch is
embedded: that part must embed, and score, exactly as the whole photo does."""

from __future__ import annotations

import numpy as np

from faceid.faces import quality
from faceid.faces.media import decode_image

from .conftest import load_pipeline, needs_faces, pipeline_config, shared_photos


@needs_faces
def test_a_face_crop_embeds_and_scores_as_the_whole_photo():
    pipe = load_pipeline(pipeline_config())
    checked = 0
    for path in shared_photos()[:16]:
        image = decode_image(path.read_bytes(), 40_000_000)
        faces = pipe.detect(image, largest_only=True)
        if not faces:
            continue
        crop, face = faces[0].crop(image)
        assert crop.size <= image.size
        whole, part = pipe.embed([(image, faces[0]), (crop, face)])
        assert float(np.dot(whole, part)) >= 0.9999, path.name
        assert quality.assess(crop, face) == quality.assess(image, faces[0]), path.name
        checked += 1
    assert checked >= 10


@needs_faces
def test_a_large_jpeg_is_decoded_reduced_and_embeds_as_the_photo():
    """A 35-megapixel JPEG (a photo scaled up) decodes at half size for the lock's calls,
    and its face embeds as the photo's own (coordinates are not returned there)."""
    import cv2

    from .conftest import EXAMPLES

    pipe = load_pipeline(pipeline_config())
    photo = cv2.imread(str(EXAMPLES / "obama.jpg"))  # 910 x 1137
    data = cv2.imencode(".jpg", cv2.resize(photo, (5278, 6595)))[1].tobytes()  # 34.8 MP
    assert decode_image(data, 40_000_000).shape == (6595, 5278, 3)
    reduced = decode_image(data, 40_000_000, reduce=True)
    assert reduced.shape == (3298, 2639, 3)
    (face,) = pipe.detect(reduced, largest_only=True)
    (original,) = pipe.detect(photo, largest_only=True)
    big, small = pipe.embed([(reduced, face), (photo, original)])
    assert float(np.dot(big, small)) >= 0.98
