"""Signal receivers: every segment change bumps the shared segment version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from personalize.models import Segment
from personalize.registry import segments_changed


@receiver(post_save, sender=Segment, dispatch_uid="personalize_segment_saved")
@receiver(post_delete, sender=Segment, dispatch_uid="personalize_segment_deleted")
def _segment_changed(**kwargs: Any) -> None:
    # After commit, so no process reloads before the change is visible to its queries.
    transaction.on_commit(segments_changed)
