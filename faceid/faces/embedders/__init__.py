"""Face embedders: one small class per model, behind :class:`.base.Embedder`."""
