"""Face detectors: one small class per model, behind :class:`.base.Detector`."""
