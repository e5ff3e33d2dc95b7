"""Liveness: telling a live head from a photo or a replayed clip with an ordinary camera.

- :mod:`.landmarks`: dlib's 68-point predictor, run on any detector's box;
- :mod:`.geometry`: pure measurements on 68 landmarks: eye openness, head pose, and
  whether two views of a face differ by one plane's perspective (a photo) or not (a head);
- :mod:`.parallax`: the same question asked of the face's own texture, followed by
  optical flow (no face-shaped prior to fool);
- :mod:`.actions`: turns and blinks read from a clip, turns only from 3-D motion;
- :mod:`.challenge`: random challenges, and whether a clip's actions answer one;
- :mod:`.clip`: one face followed through a clip, its actions judged, the frames its
  identity rests on;
- :mod:`.genuine`: the annotated motions of the real clips, cut into genuine answers;
- :mod:`.prints`: photo attacks made from a still (a sheet tilted, shaken, bent);
- :mod:`.evalset`: the evaluation set (genuine answers and attacks) made from real clips.

The service side (issuing challenges, checking answers, budgets) is
:mod:`faceid.lock.liveness`.
"""
