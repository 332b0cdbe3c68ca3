"""The Sora application: the Factorial Funds compute model as one model on the engine.

- :mod:`.model`: the model for one draw, its variants (attention, platforms, costs) and
  :data:`MODEL`, the default model of every command;
- :mod:`.priors`: the prior-file extensions it reads (``[platforms]``, ``[meta] attention``,
  ``[meta] gpu``);
- :mod:`.hardware`: the accelerator catalogue (``data/accelerators.toml``);
- :mod:`.reproduce`: the article's own arithmetic, checked (``data/article.toml``).

Its prior files ship with the package (``uncertainty/shipped_priors``, the repository's
``priors/``).

Example
-------
>>> from uncertainty.sora import MODEL
>>> MODEL.name, MODEL.headline[0]
('sora', 'training_gpu_months')
"""

from .model import HEADLINE, SoraModel, compute_outputs, model_for

__all__ = ["HEADLINE", "MODEL", "SoraModel", "compute_outputs", "model_for"]

MODEL = model_for()
