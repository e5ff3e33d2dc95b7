"""Liveness: telling a live head from a photo or a replayed clip with an ordinary camera.

- :mod:`.landmarks`: dlib's 68-point predictor, run on any detector's box;
- :mod:`.geometry`: pure measurements on 68 landmarks: eye openness, head pose, and
  whether two views of a face differ by one plane's perspective (a photo) or not (a head).

The challenge flow that uses them (issue: a photo, a tilted print or a replayed clip must
not open the door) is not built yet; these are its measurements, tested on real clips.
"""
