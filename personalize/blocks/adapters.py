"""How the blocks' forms behave in the page editor: Wagtail telepath adapters.

- :class:`~personalize.blocks.fields.KeyBlock` renders its hidden input and nothing else (no
  "Key" label), so the stored key is submitted with every save;
- :class:`~personalize.blocks.gated.GatedBlock` shows "Groups" only for a group gate and
  "Segments" only for a segment gate;
- :class:`~personalize.blocks.audience.AudienceBlock` (a block's "Audience" setting) shows
  "Segments" and "Groups" only for the audiences that use them.

These are small client-side definitions in ``personalize/block_forms.js`` that extend Wagtail's
own. Stored values and server-side validation are unchanged.
"""

from __future__ import annotations

from typing import Any

from django import forms
from wagtail.blocks.field_block import FieldBlockAdapter
from wagtail.blocks.struct_block import StructBlockAdapter

from personalize.blocks.audience import AudienceBlock
from personalize.blocks.fields import KeyBlock
from personalize.blocks.gated import GatedBlock

try:  # Wagtail 7.1 and later
    from wagtail.admin.telepath import register
except ImportError:  # pragma: no cover - Wagtail 7.0 LTS
    from wagtail.telepath import register  # type: ignore[no-redef]

#: The script that defines the blocks' client-side forms.
BLOCK_FORMS_JS = "personalize/block_forms.js"


class KeyBlockAdapter(FieldBlockAdapter):
    """Wagtail's field block form, with the child's label and wrapper hidden."""

    js_constructor = "personalize.blocks.KeyBlock"

    @property
    def media(self) -> Any:
        return super().media + forms.Media(js=[BLOCK_FORMS_JS])


class GatedBlockAdapter(StructBlockAdapter):
    """Wagtail's struct block form, showing only the fields the chosen requirement uses."""

    js_constructor = "personalize.blocks.GatedBlock"

    @property
    def media(self) -> Any:
        return super().media + forms.Media(js=[BLOCK_FORMS_JS])


class AudienceBlockAdapter(GatedBlockAdapter):
    """The same form behaviour for the "Audience" setting, keyed on its "who" choice."""

    js_constructor = "personalize.blocks.AudienceBlock"


register(KeyBlockAdapter(), KeyBlock)
register(GatedBlockAdapter(), GatedBlock)
register(AudienceBlockAdapter(), AudienceBlock)
