"""``sora-uq explore``: a live page where a user moves an assumption and watches the intervals
move.

- :mod:`.session`: the engine side, no web (overrides -> validated priors -> summary, save);
- :mod:`.server`: the Starlette app (a JSON API and the page's own files) and how it is served;
- ``static/``: the page (plain HTML, CSS and one JavaScript module; nothing from elsewhere).
"""

from .session import DEFAULT_EXPLORE_SAMPLES, Explorer, editable_spec

__all__ = ["DEFAULT_EXPLORE_SAMPLES", "Explorer", "editable_spec"]
