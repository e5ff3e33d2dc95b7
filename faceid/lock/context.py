"""What enrolment and access decisions share: the request context.

Functions in :mod:`faceid.lock.enrollment` and :mod:`faceid.lock.access` take a
:class:`Context` (store, index, pipeline, settings, caller) and plain data; the web
views only parse requests and call them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ModelPinned
from ..faces.levels import level_threshold
from ..faces.models import ModelCard
from ..faces.pipeline import Pipeline
from ..settings import Settings
from ..store import Store, Subject
from .cache import IndexCache
from .catalogue import find_subject
from .keys import Principal


@dataclass
class Context:
    store: Store
    index: IndexCache
    pipeline: Pipeline
    settings: Settings
    caller: Principal
    card: ModelCard  # the service's model card, read once (levels, tail)

    @property
    def org_id(self) -> str:
        return self.caller.org_id

    def threshold(self, level: str | None = None) -> float:
        """The cosine cut of ``level`` (default: the service's ``FACEID_LEVEL``); 422 when the
        model has no such level, 0.5 for a custom model calibrated for none."""
        return level_threshold(self.card, level or self.settings.level)[1]

    def floor(self) -> float | None:
        """Below this similarity a frame shows somebody else (None: no fitted tail)."""
        return self.card.same_person_floor()

    def visit_threshold(self, level: str, frames: int) -> float | None:
        """What the best of ``frames`` frames must reach (None: every frame must match)."""
        return self.card.visit_threshold(level, frames)

    def check_model(self, pin: bool = False) -> None:
        """Refuse (409) when the gallery was built with a model other than the pipeline's."""
        model = self.pipeline.model_id
        org = self.store.org(self.org_id)
        pinned = org.model_id if org else None
        if pinned is None and pin:
            pinned = self.store.pin_model(self.org_id, model)
        if pinned is not None and pinned != model:
            raise ModelPinned(
                f"This organisation's gallery was built with model '{pinned}'; the service runs "
                f"'{model}'. Serve with that model, or re-enrol everyone in a new organisation.",
                gallery_model=pinned,
                service_model=model,
            )

    def subject(self, subject_id: str) -> Subject:
        return find_subject(self.store, self.org_id, subject_id)

    def audit(self, action: str, **fields: Any) -> None:
        self.store.audit(self.org_id, action, key_id=self.caller.key_id, **fields)
