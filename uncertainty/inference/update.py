"""Evidence + priors -> NumPyro model -> posterior DataTree.

One source of truth: the NumPyro model is built from the same prior objects and the same model
function as :func:`~uncertainty.sampling.simulate`.

- Continuous assumptions: one vector sample site ``z`` of standardised coordinates whose density
  is each family's own ``log_prob`` plus the log-Jacobian of ``x = g(loc + scale * z)``
  (:class:`StandardisedPrior`); each assumption's value is a deterministic site of its name.
- Rank-correlated continuous assumptions (``[correlations]``) are sampled as their Gaussian
  copula's normal scores ``s ~ MultivariateNormal(0, R)``, in the same vector site, with
  ``x = icdf(Phi(s))`` (:class:`CopulaBlock`): every marginal and the copula are exact.
  A discrete assumption in ``[correlations]`` is refused (:func:`_check_copula`); the
  ``log_prior`` group carries the copula's log density as ``gaussian_copula``.
- Fixed assumptions are constants, not sample sites.
- Discrete assumptions are summed out exactly (enumerated) inside the model, so NUTS sees a
  smooth target and chains stay vectorised; their values are then drawn exactly from their
  conditional posterior given each draw of the rest (what ``infer_discrete`` does), and every
  output is computed from the complete draws with the model function.
- Each observation adds ``log p(value | quantity)``: ``lognormal`` noise means
  ``value ~ LogNormal(log(quantity), sigma)``, ``normal`` noise ``value ~ Normal(quantity,
  sigma)``. Summed over observations and marginalised over the discrete assumptions it is the
  likelihood factor ``evidence``; the pointwise terms are the ``log_likelihood`` group.

``method="importance"`` reweights prior draws by the likelihood with Pareto-smoothed importance
sampling (ArviZ) and refuses when Pareto k > 0.7. Its prior draws come from ``simulate``, which
samples the copula, so the weights (the likelihood alone) are right with correlations too.

Example
-------
>>> from uncertainty import priors_from_dict
>>> from uncertainty.inference.evidence import evidence_from_dict
>>> priors = priors_from_dict({"x": {"dist": "lognormal", "median": 1.0, "sigma": 1.0,
...                                   "source": "test"}})
>>> ev = evidence_from_dict({"observation": [{"quantity": "y", "value": 2.0, "noise": "lognormal",
...     "sigma": 1.0, "source": "test"}]}, quantities=["x", "y"])
>>> result = update(priors, [ev], seed=0, samples=200, chains=2, model=lambda a: {"y": 2 * a["x"]})
>>> result.tree["posterior"]["y"].dims
('chain', 'draw')
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as nd
import xarray as xr
from numpyro.distributions import constraints
from numpyro.infer import MCMC, NUTS, init_to_median

from .. import __version__
from ..copula import scores_to_uniforms
from ..errors import UserError
from ..families import Family
from ..model import Model, as_model
from ..priors import PriorSet
from ..progress import Feedback
from ..sampling import as_key, seed_record, simulate
from .conflict import conflicts
from .evidence import EvidenceSet, Observation

__all__ = [
    "METHODS",
    "PARETO_K_MAX",
    "RHAT_MAX",
    "CopulaBlock",
    "StandardisedPrior",
    "UpdateResult",
    "observation_log_density",
    "update",
]

METHODS = ("nuts", "importance")
PARETO_K_MAX = 0.7
RHAT_MAX = 1.01
PSENSE_THRESHOLD = 0.05  # ArviZ psense_summary's default
# Importance sampling draws this many prior draws per posterior draw it returns.
IMPORTANCE_OVERSAMPLING = 50
# The log_prior group's variable for log c(u), the Gaussian copula's density (not an assumption).
COPULA_LOG_PRIOR = "gaussian_copula"
# The prior draws alone, no outputs: one model object, so its draw program compiles once.
PRIORS_ALONE = Model(lambda a: {}, {}, name="priors alone")
PRIOR_DRAWS = 20_000  # the "prior" group: enough for 3-digit medians and 90% intervals



def _link(support: tuple[float, float]) -> str:
    """The map from the real line onto a family's support: identity, exp, or scaled logistic."""
    low, high = support
    if math.isinf(low) and math.isinf(high):
        return "real"
    if math.isinf(high):
        return "positive"
    if math.isinf(low):
        raise ValueError("a support bounded above only is not supported")
    return "interval"


@dataclass(frozen=True)
class _Coordinate:
    """One continuous assumption on the sampler's standardised scale: x = g(loc + scale * z).

    ``g`` maps the real line onto the family's support (exp for (low, inf), a scaled logistic
    for (low, high)); ``loc`` and ``scale`` put the prior's median at z = 0 and its 16-84%
    range at about +/-1, so every coordinate NUTS sees is O(1) whatever the unit (5e9..80e9
    parameters and 0.3..0.7 shares alike)."""

    name: str
    family: Family
    link: str
    low: float
    high: float
    loc: float
    scale: float

    @classmethod
    def of(cls, name: str, family: Family) -> _Coordinate:
        low, high = family.support
        link = _link((low, high))
        coordinate = cls(name, family, link, low, high, 0.0, 1.0)
        q16, q50, q84 = (coordinate.inverse(family.quantile(q)) for q in (0.1587, 0.5, 0.8413))
        scale = (q84 - q16) / 2 if q84 > q16 else 1.0
        return cls(name, family, link, low, high, q50, scale)

    def inverse(self, x: float) -> float:
        if self.link == "real":
            w = x
        elif self.link == "positive":
            w = math.log(max(x - self.low, 1e-300))
        else:
            u = min(max((x - self.low) / (self.high - self.low), 1e-6), 1 - 1e-6)
            w = math.log(u / (1 - u))
        return (w - self.loc) / self.scale

    def value_and_log_jacobian(self, z):
        """x = g(loc + scale z) and log |dx/dz|."""
        w = self.loc + self.scale * z
        if self.link == "real":
            return w, jnp.full(jnp.shape(z), math.log(self.scale))
        if self.link == "positive":
            return self.low + jnp.exp(w), w + math.log(self.scale)
        width = self.high - self.low
        x = self.low + width * jax.nn.sigmoid(w)
        return x, (math.log(width * self.scale) + jax.nn.log_sigmoid(w) + jax.nn.log_sigmoid(-w))


@dataclass(frozen=True)
class CopulaBlock:
    """The rank-correlated continuous assumptions on the sampler's scale: their normal scores.

    Why this parameterisation: the families give ``icdf`` and ``log_prob`` but no CDF, so the
    copula density ``c(F_1(x_1), ..., F_k(x_k))`` cannot be evaluated at ``x``. Sampling the
    normal scores ``s ~ MultivariateNormal(0, R)`` instead makes the prior density of the sampled
    coordinates exactly the multivariate normal one (no Jacobian, no CDF), and ``x_i =
    icdf_i(Phi(s_i))`` has exactly its family's marginal (probability integral transform) and
    exactly the Gaussian copula with correlation ``R``: the construction ``simulate`` samples
    (:mod:`uncertainty.copula`, same clip of ``Phi`` inside (0, 1)). The scores are O(1) and
    unconstrained like the standardised coordinates, and ``icdf`` is differentiable in ``u``
    (normal and lognormal with ndtri's exact derivative; beta and pert through their 8,192-cell
    table, whose slope steps between cells by a small fraction away from the ends), so NUTS
    sees a nearly smooth target (and HMC stays exact: acceptance uses the target itself)."""

    names: tuple[str, ...]
    families: tuple[Family, ...]
    cholesky: tuple[tuple[float, ...], ...]  # of R, the normal scores' Pearson correlation

    def distribution(self) -> nd.MultivariateNormal:
        scale_tril = jnp.asarray(self.cholesky, jnp.float32)
        return nd.MultivariateNormal(jnp.zeros(len(self.names), jnp.float32), scale_tril=scale_tril)

    def values(self, scores) -> dict:
        """Each assumption's value at the normal scores (last axis in ``names`` order)."""
        u = scores_to_uniforms(scores)
        return {n: f.icdf(u[..., i])
                for i, (n, f) in enumerate(zip(self.names, self.families, strict=True))}

    def log_density(self, x: dict):
        """log c(u) of the copula at values ``x`` (the joint prior's log density minus the
        marginals'): the scores are recovered by bisection, since the families have no CDF."""
        scores = jnp.stack([_normal_score(f, x[n])
                            for n, f in zip(self.names, self.families, strict=True)], -1)
        return (self.distribution().log_prob(scores)
                - nd.Normal(0.0, 1.0).log_prob(scores).sum(-1))


@partial(jax.jit, static_argnums=0)
def _copula_log_density(copula: CopulaBlock, x: dict):
    """:meth:`CopulaBlock.log_density` compiled once per copula (not 40 bisection steps op by
    op)."""
    return copula.log_density(x)


def _normal_score(family: Family, x, iterations: int = 40):
    """s with icdf(Phi(s)) = x, by bisection on [-14, 6] (beyond the float32 clip of Phi)."""
    x = jnp.asarray(x, jnp.float32)

    def halve(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        below = family.icdf(scores_to_uniforms(mid)) < x
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lo, hi = jax.lax.fori_loop(0, iterations, halve,
                               (jnp.full_like(x, -14.0), jnp.full_like(x, 6.0)))
    return 0.5 * (lo + hi)


class StandardisedPrior(nd.Distribution):
    """The continuous priors as ONE NumPyro distribution over their standardised coordinates z.

    Exact change of variables: ``log p(z) = sum_i family_i.log_prob(x_i) + log |dx_i/dz_i|``, with
    each family's own ``log_prob`` (the same objects ``simulate`` samples from); ``sample`` draws
    from each family and maps back to z. The rank-correlated assumptions, if any, follow as the
    last coordinates: their copula's normal scores (:class:`CopulaBlock`), whose density is the
    multivariate normal's. One vector site instead of one site per assumption keeps the compiled
    NUTS program small (every tree operation runs once, not once per leaf)."""

    support = constraints.real_vector
    pytree_data_fields = ()
    pytree_aux_fields = ("coordinates", "copula")

    def __init__(self, coordinates: tuple[_Coordinate, ...], copula: CopulaBlock | None = None):
        self.coordinates = coordinates
        self.copula = copula
        size = len(coordinates) + (len(copula.names) if copula else 0)
        super().__init__(batch_shape=(), event_shape=(size,))

    # values and log_prob are one compiled program per prior (its coordinates and copula are
    # static): NumPyro calls them outside any jit while it starts (its initial points, the
    # model's prototype trace), where they would otherwise build an XLA program per operation.
    # Inside the sampler's own program a nested jit is inlined. sample stays op by op: compiled
    # whole, it inlined a gamma sampler per beta or PERT family (7.9 s to compile for the
    # article's priors), where op by op every family shares one.

    def values(self, z) -> tuple[dict, jnp.ndarray]:
        """The assumptions' values at z, and the summed log-Jacobian of the standardised part."""
        return _standardised_values(self.coordinates, self.copula, z)

    def log_prob(self, z):
        return _standardised_log_prob(self.coordinates, self.copula, z)

    def sample(self, key, sample_shape=()):
        keys = jax.random.split(key, len(self.coordinates))
        columns = []
        for k, c in zip(keys, self.coordinates, strict=True):
            x = c.family.sample(k, tuple(sample_shape))
            if c.link == "real":
                w = x
            elif c.link == "positive":
                w = jnp.log(x - c.low)
            else:
                u = jnp.clip((x - c.low) / (c.high - c.low), 1e-6, 1 - 1e-6)
                w = jnp.log(u) - jnp.log1p(-u)
            columns.append((w - c.loc) / c.scale)
        blocks = [jnp.stack(columns, axis=-1)] if columns else []
        if self.copula:
            copula_key = jax.random.fold_in(key, len(self.coordinates))  # as simulate does
            blocks.append(self.copula.distribution().sample(copula_key, tuple(sample_shape)))
        return jnp.concatenate(blocks, axis=-1).astype(jnp.float32)


@partial(jax.jit, static_argnums=(0, 1))
def _standardised_values(coordinates: tuple[_Coordinate, ...], copula: CopulaBlock | None, z):
    values, log_jacobian = {}, 0.0
    for i, c in enumerate(coordinates):
        values[c.name], lj = c.value_and_log_jacobian(z[..., i])
        log_jacobian = log_jacobian + lj
    if copula:
        values.update(copula.values(z[..., len(coordinates):]))
    return values, log_jacobian


@partial(jax.jit, static_argnums=(0, 1))
def _standardised_log_prob(coordinates: tuple[_Coordinate, ...], copula: CopulaBlock | None, z):
    values, log_jacobian = _standardised_values(coordinates, copula, z)
    log_p = log_jacobian + sum(c.family.log_prob(values[c.name]) for c in coordinates)
    if copula:
        log_p = log_p + copula.distribution().log_prob(z[..., len(coordinates):])
    return log_p


def observation_log_density(obs: Observation, quantity):
    """log p(obs.value | quantity) under the observation's noise model."""
    if obs.noise == "lognormal":
        return nd.LogNormal(jnp.log(quantity), obs.sigma).log_prob(obs.value)
    return nd.Normal(quantity, obs.sigma).log_prob(obs.value)


@dataclass(frozen=True)
class _Spec:
    """What the NumPyro model needs, split by kind of assumption; and the model's pieces
    compiled for it, each one XLA program (its arrays are constants of the program), owned by
    the spec rather than by a module-level cache keyed on it."""

    fixed: dict
    continuous: dict  # name -> Family
    prior: StandardisedPrior | None  # the continuous assumptions, as one vector site
    discrete_values: dict  # name -> array of K combinations (the product of supports)
    log_weights: np.ndarray  # (K,) log prior probability of each combination
    observations: tuple[Observation, ...]
    model: Model

    @cached_property
    def evidence(self) -> Callable:
        return jax.jit(partial(_evidence, self))

    @cached_property
    def completed(self) -> Callable:
        return jax.jit(partial(_completed, self), static_argnums=2)

    @cached_property
    def pointwise_log_likelihood(self) -> Callable:
        return jax.jit(partial(_pointwise_log_likelihood, self))


def _spec(priors: PriorSet, observations: tuple[Observation, ...], model: Model) -> _Spec:
    fixed, continuous, discrete = {}, {}, {}
    for name, prior in priors.items():
        if prior.is_fixed:
            fixed[name] = jnp.float32(prior.dist.value)
        elif prior.dist.discrete:
            values, probs = prior.dist._sorted
            keep = probs > 0
            discrete[name] = (values[keep], np.log(probs[keep]))
        else:
            continuous[name] = prior.dist
    combos = list(itertools.product(*(range(len(v)) for v, _ in discrete.values()))) or [()]
    columns = list(zip(*combos, strict=True)) if discrete else []
    discrete_values = {name: jnp.asarray(values[list(col)], jnp.float32)
                       for (name, (values, _)), col in zip(discrete.items(), columns, strict=True)}
    log_weights = np.zeros(len(combos))
    for (_, logp), col in zip(discrete.values(), columns, strict=True):
        log_weights = log_weights + logp[list(col)]
    prior = _continuous_prior(priors, continuous) if continuous else None
    return _Spec(fixed, continuous, prior, discrete_values, log_weights, observations, model)


def _continuous_prior(priors: PriorSet, continuous: dict) -> StandardisedPrior:
    """Standardised coordinates for the independent assumptions, normal scores for the rest:
    the rank-correlated ones (their copula) and those whose density only inverts the quantile
    function numerically (a metalog: no gradient through it), which join the score block with
    an independent, identity row: their prior is then exactly the standard normal's."""
    correlated = tuple(priors.copula.names) if priors.copula else ()
    scored = tuple(n for n, f in continuous.items()
                   if f.density_by_inversion and n not in correlated)
    coordinates = tuple(_Coordinate.of(n, f) for n, f in continuous.items()
                        if n not in correlated and n not in scored)
    if not correlated and not scored:
        return StandardisedPrior(coordinates, None)
    names = correlated + scored
    size = len(names)
    lower = np.eye(size)
    if priors.copula:
        lower[:len(correlated), :len(correlated)] = np.asarray(priors.copula.cholesky)
    block = CopulaBlock(names, tuple(continuous[n] for n in names),
                        tuple(tuple(float(v) for v in row) for row in lower))
    return StandardisedPrior(coordinates, block)


def _check_copula(priors: PriorSet) -> None:
    """Refuse a discrete assumption in ``[correlations]``.

    Discrete assumptions are summed out with their prior weights, independently of the rest; in
    a copula their weights would depend on the continuous draws, so the sum would be wrong (for
    importance sampling too, which sums them out the same way). One line, exit 2."""
    for (a, b) in priors.correlations:
        for name in (a, b):
            if name in priors and priors[name].dist.discrete:
                raise UserError(f"{priors.path or priors.name}: [correlations]: '{a},{b}': "
                                f"'{name}' is discrete; update sums discrete assumptions out "
                                "independently of the rest, so it cannot update a copula over "
                                "one: remove the pair or give it a continuous family")


def _values_per_combo(spec: _Spec, continuous: dict) -> dict:
    """Every assumption and output for each discrete combination (a last axis of K)."""
    a = {**spec.fixed, **{k: v[..., None] for k, v in continuous.items()}, **spec.discrete_values}
    return {**a, **spec.model(a)}


def _log_likelihood_per_combo(spec: _Spec, continuous: dict):
    """Per-observation log-likelihood for each discrete combination: shape (..., K, n_obs)."""
    values = _values_per_combo(spec, continuous)
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for v in values.values()), (len(spec.log_weights),))
    return jnp.stack([jnp.broadcast_to(observation_log_density(o, values[o.quantity]), shape)
                      for o in spec.observations], axis=-1)


def _evidence(spec: _Spec, z) -> tuple[dict, jnp.ndarray]:
    """Each continuous assumption's value at the sampler's coordinates ``z``, and the evidence's
    log-likelihood there, summed over observations and over the discrete combinations: one
    program, so that NumPyro's start-up, which runs the model outside any jit (its prototype
    trace, its initial points), does not build one per operation."""
    values, _ = spec.prior.values(z)
    per_combo = _log_likelihood_per_combo(spec, values).sum(-1)
    return values, jax.nn.logsumexp(per_combo + spec.log_weights, axis=-1)


def _numpyro_model(spec: _Spec) -> None:
    z = numpyro.sample("z", spec.prior)
    values, log_likelihood = spec.evidence(z)
    for name, x in values.items():
        numpyro.deterministic(name, x)
    numpyro.factor("evidence", log_likelihood)


@dataclass
class UpdateResult:
    """A posterior: the DataTree and what the report and the new prior file need."""

    tree: xr.DataTree
    method: str
    priors: PriorSet
    evidence: tuple[EvidenceSet, ...]
    seed: int
    diagnostics: dict
    model: Model
    discrete_posterior: dict = field(default_factory=dict)  # name -> {value: probability}
    sensitivity: list = field(default_factory=list)  # psense rows
    warnings: list = field(default_factory=list)


def _check(priors: PriorSet, evidence: Sequence[EvidenceSet], model: Model) -> tuple:
    known = set(priors) | set(model.outputs)
    observations = []
    for ev in evidence:
        for i, obs in enumerate(ev.observations):
            where = f"{ev.path or 'evidence'}: observation[{i}] ({obs.quantity})"
            if obs.quantity not in known:
                raise UserError(f"{where}: not an assumption of the priors or an output of "
                                "the model")
            if obs.quantity in priors and priors[obs.quantity].is_fixed:
                raise UserError(f"{where}: the priors fix '{obs.quantity}' "
                                f"({priors[obs.quantity].dist.describe()}); an observation cannot "
                                "move it: give it a distribution")
            observations.append(obs)
    if not observations:
        raise UserError("no observations given")
    return tuple(observations)


def update(priors: PriorSet, evidence: Sequence[EvidenceSet], *, method: str = "nuts",
           seed: int = 0, samples: int = 1000, chains: int = 4, warmup: int | None = None,
           model: Model | Callable | None = None, feedback=None) -> UpdateResult:
    """Posterior of every assumption and output given the evidence.

    Parameters
    ----------
    priors : PriorSet
        The prior (from :func:`~uncertainty.load_priors` or ``priors_from_dict``).
    evidence : sequence of EvidenceSet
        From :func:`~uncertainty.inference.evidence.load_evidence`; all observations are
        used together.
    method : {"nuts", "importance"}
        NUTS (``chains`` vectorised chains of ``samples`` draws after ``warmup``), or
        Pareto-smoothed importance sampling of ``IMPORTANCE_OVERSAMPLING * chains * samples``
        prior draws, resampled to ``chains * samples`` posterior draws.
    seed : int or jax.random.key
        The base key or its seed; the same seed gives the same numbers.
    model : Model or callable, optional
        The one-draw model, the same ``simulate`` uses; by default the priors' own.
    feedback : uncertainty.progress.Feedback, optional
        Shows and times each phase. With it, NUTS steps in Python (NumPyro's progress bar, on
        the terminal when shown): slower to dispatch, but Ctrl-C stops it within a step, where
        the fused loop used without it answers only once sampling ends.

    Returns
    -------
    UpdateResult
        ``tree`` has groups ``prior``, ``posterior``, ``observed_data``, ``log_likelihood``
        and ``log_prior``, dims ``("chain", "draw")``.
    """
    model = as_model(model, priors.model)
    _check_copula(priors)
    if method not in METHODS:
        raise UserError(f"unknown method '{method}' (known: {', '.join(METHODS)})")
    observations = _check(priors, evidence, model)
    spec = _spec(priors, observations, model)
    started = time.perf_counter()
    # Three keys, the first unused since the prior draws took the seed itself: splitting in
    # two would change every published posterior of a seed.
    _, key_fit, key_discrete = jax.random.split(as_key(seed), 3)
    feedback = feedback or Feedback(show=False)
    if method == "nuts":
        with feedback.outside("NUTS warm-up and sampling"):
            continuous, diagnostics = _run_nuts(spec, key_fit, samples, chains, warmup or samples,
                                                progress_bar=feedback.stepwise)
    else:
        with feedback.phase("importance sampling"):
            continuous, diagnostics = _run_importance(priors, spec, key_fit, samples * chains,
                                                      seed)
    with feedback.phase("posterior draws of every output, and prior draws"):
        draws, discrete_posterior = _complete(spec, continuous, key_discrete)
        prior_tree = simulate(priors, n=PRIOR_DRAWS, seed=seed, model=model)
    tree = _datatree(priors, spec, draws, prior_tree)
    seconds = time.perf_counter() - started
    tree["posterior"].attrs.update({"method": method, "seed": seed_record(seed),
                                    "wall_seconds": round(seconds, 3),
                                    "inference_library": "numpyro",
                                    "inference_library_version": numpyro.__version__,
                                    "creation_library": "sora-uq",
                                    "creation_library_version": __version__})
    if method == "nuts":
        diagnostics.update(_mcmc_diagnostics(tree, priors))
    diagnostics["draws"] = int(tree["posterior"].sizes["chain"] * tree["posterior"].sizes["draw"])
    result = UpdateResult(tree, method, priors, tuple(evidence), seed, diagnostics, model,
                          discrete_posterior)
    result.sensitivity = _sensitivity(tree, priors)
    result.warnings = _warnings(result) + conflicts(
        observations, {o.quantity: tree["prior"][o.quantity].values for o in observations},
        {o.quantity: tree["posterior"][o.quantity].values for o in observations})
    return result


def _run_nuts(spec: _Spec, key, samples: int, chains: int, warmup: int,
              progress_bar: bool = False) -> tuple[dict, dict]:
    if not spec.continuous:  # only discrete assumptions: the enumerated posterior is exact
        return {}, {"divergences": 0, "pareto_k": None}
    # Vectorised chains: one process, no change to the host device count (global config).
    kernel = NUTS(_numpyro_model, target_accept_prob=0.9,
                  init_strategy=init_to_median(num_samples=31))
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=samples, num_chains=chains,
                chain_method="vectorized", progress_bar=progress_bar)
    # NumPyro turns its stepped loop off whenever CI is set in the environment; the CLI needs
    # it there too, or Ctrl-C waits for the end of sampling.
    mcmc.progress_bar = progress_bar
    try:
        mcmc.run(key, spec, extra_fields=("diverging",))
    except ValueError as err:  # NumPyro's argument check: a NaN or infinite observed quantity
        if " got invalid " not in str(err):
            raise
        raise UserError("NUTS cannot start: an observed quantity is not a finite number for "
                        "some draws of the priors (the model gives NaN or infinity there); "
                        "check the model and the observed quantities") from None
    except RuntimeError as err:
        if "Cannot find valid initial parameters" not in str(err):
            raise
        not_numbers = _not_finite_at_start(spec)
        if not_numbers:
            raise UserError(f"NUTS cannot start: the observed quantity '{not_numbers[0]}' is not "
                            "a finite number at the priors' medians, where the sampler starts "
                            "(the model gives NaN or infinity there); check the model and the "
                            "observed quantities") from None
        raise UserError("NUTS cannot start: the evidence's log density is not finite at any "
                        "starting point tried (an observed output that is infinite or not a "
                        "number there, or an observation far beyond what the priors allow); "
                        "check the observations' values, units and sigmas") from None
    draws = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()
             if k in spec.continuous}
    divergences = int(np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"]).sum())
    return draws, {"divergences": divergences, "pareto_k": None}


def _not_finite_at_start(spec: _Spec) -> list[str]:
    """The observed quantities that are not finite numbers (for some discrete combination) at
    the priors' medians, z = 0, near where NUTS starts. (The model itself is compiled, so
    NumPyro's own check of its distributions' arguments, which runs only outside jit, no
    longer tells.)"""
    continuous, _ = spec.prior.values(jnp.zeros(spec.prior.event_shape, jnp.float32))
    values = _values_per_combo(spec, continuous)
    return [o.quantity for o in spec.observations
            if not np.isfinite(np.asarray(values[o.quantity])).all()]


def _run_importance(priors: PriorSet, spec: _Spec, key, n: int, seed: int) -> tuple[dict, dict]:
    from arviz_stats.base import array_stats

    proposal_key = jax.random.fold_in(as_key(seed), 1)
    proposal = simulate(priors, n=n * IMPORTANCE_OVERSAMPLING, seed=proposal_key,
                        model=PRIORS_ALONE)["prior"]
    continuous = {k: jnp.asarray(proposal[k].values[0], jnp.float32) for k in spec.continuous}
    log_lik = jax.nn.logsumexp(_log_likelihood_per_combo(spec, continuous).sum(-1)
                               + spec.log_weights, axis=-1)
    # array_stats.psislw smooths the log weights -x (it is built for leave-one-out's 1/p(y|θ)).
    try:
        log_weights, pareto_k = array_stats.psislw(-np.asarray(log_lik, np.float64), r_eff=1.0)
        pareto_k = float(pareto_k)
    except ValueError:  # a flat tail: the evidence weighs every draw alike, nothing to smooth
        log_weights, pareto_k = np.asarray(log_lik, np.float64), None
    if pareto_k is not None and not pareto_k <= PARETO_K_MAX:
        raise UserError(f"importance sampling is unreliable here: Pareto k = {pareto_k:.2f} > "
                        f"{PARETO_K_MAX} (the evidence is far from the bulk of the prior); "
                        "use --method nuts")
    weights = np.exp(log_weights - log_weights.max())
    weights /= weights.sum()
    chosen = np.asarray(jax.random.choice(key, len(weights), (n,), p=jnp.asarray(weights)))
    draws = {k: np.asarray(v)[chosen][None, :] for k, v in continuous.items()}
    return draws, {"divergences": None, "pareto_k": pareto_k, "r_hat_max": None,
                   **importance_ess(weights, chosen)}


def importance_ess(weights: np.ndarray, chosen: np.ndarray) -> dict:
    """The effective sample size of ``len(chosen)`` draws resampled with ``weights``.

    The summaries are of the resampled draws, so their Monte Carlo error adds the weights' own
    (``1 / ESS_w``, Kish's ESS of the weighted proposals) and the resampling's (``1 / n``):
    ``ESS = 1 / (1 / ESS_w + 1 / n)``, never above ``n``. The weights' ESS is reported beside
    it, with the number of proposals and of distinct draws kept."""
    n = len(chosen)
    ess_weights = float(1.0 / np.sum(weights**2))
    return {"ess_bulk_min": 1.0 / (1.0 / ess_weights + 1.0 / n), "draws": n,
            "proposals": len(weights), "ess_weights": ess_weights,
            "distinct_draws": int(np.unique(chosen).size)}


def _completed(spec: _Spec, cont: dict, key, shape: tuple[int, ...]) -> tuple[dict, jnp.ndarray]:
    """Every assumption and output at the continuous draws ``cont`` (each discrete assumption
    drawn from its conditional posterior), and those conditional probabilities: one program."""
    per_combo = _log_likelihood_per_combo(spec, cont).sum(-1) + spec.log_weights
    per_combo = jnp.broadcast_to(per_combo, (*shape, len(spec.log_weights)))
    combo = jax.random.categorical(key, per_combo, axis=-1)
    a = {**{k: jnp.broadcast_to(v, shape) for k, v in spec.fixed.items()}, **cont,
         **{k: v[combo] for k, v in spec.discrete_values.items()}}
    return {**a, **spec.model(a)}, jax.nn.softmax(per_combo, axis=-1)


def _complete(spec: _Spec, continuous: dict, key) -> tuple[dict, dict]:
    """Continuous draws -> every assumption (discrete ones drawn exactly) and every output."""
    shape = next(iter(continuous.values())).shape if continuous else (1, 4000)
    cont = {k: jnp.asarray(v) for k, v in continuous.items()}
    values, probs = spec.completed(cont, key, tuple(shape))
    probs = np.asarray(probs).reshape(-1, len(spec.log_weights))
    draws = {k: np.asarray(v, np.float64) for k, v in values.items()}
    # Rao-Blackwellised posterior probability of each discrete value: mean conditional probability.
    mean_probs = probs.mean(axis=0)
    discrete_posterior = {}
    for name, values in spec.discrete_values.items():
        table: dict[float, float] = {}
        for value, p in zip(np.asarray(values), mean_probs, strict=True):
            table[float(value)] = table.get(float(value), 0.0) + float(p)
        discrete_posterior[name] = table
    return draws, discrete_posterior


def _sample_dataset(draws: dict, attrs: dict | None = None) -> xr.Dataset:
    chains, n = next(iter(draws.values())).shape
    return xr.Dataset({k: (("chain", "draw"), v) for k, v in draws.items()},
                      coords={"chain": np.arange(chains), "draw": np.arange(n)}, attrs=attrs or {})


def _obs_name(i: int, obs: Observation) -> str:
    return f"obs{i}_{obs.quantity}"


def _pointwise_log_likelihood(spec: _Spec, a: dict) -> list:
    """Each observation's log-likelihood at the draws ``a`` (every assumption): one program."""
    values = {**a, **spec.model(a)}
    return [observation_log_density(o, values[o.quantity]) for o in spec.observations]


def _datatree(priors: PriorSet, spec: _Spec, draws: dict, prior_tree: xr.DataTree) -> xr.DataTree:
    a = {k: jnp.asarray(draws[k], jnp.float32) for k in priors}
    log_lik = {_obs_name(i, o): np.asarray(value, np.float64) for i, (o, value) in enumerate(
        zip(spec.observations, spec.pointwise_log_likelihood(a), strict=True))}
    # each family's own log_prob, outside any jit: some (a metalog's, a pool's) are NumPy
    log_prior = {k: np.asarray(priors[k].dist.log_prob(a[k]), np.float64)
                 for k in priors.uncertain}
    if spec.prior is not None and spec.prior.copula and priors.copula:  # psense: copula too
        copula = spec.prior.copula
        x = {n: a[n] for n in copula.names}
        log_prior[COPULA_LOG_PRIOR] = np.asarray(_copula_log_density(copula, x), np.float64)
    observed = xr.Dataset({_obs_name(i, o): xr.DataArray(o.value, attrs={
        "quantity": o.quantity, "noise": o.noise, "sigma": o.sigma, "source": o.source,
        "date": o.date, "tag": o.tag}) for i, o in enumerate(spec.observations)})
    posterior = _sample_dataset(draws, {"priors_name": priors.name,
                                        "priors_path": priors.path or "",
                                        "priors_sha256": priors.sha256 or ""})
    for name in posterior.data_vars:
        posterior[name].attrs = (dict(prior_tree["prior"][name].attrs)
                                 if name in prior_tree["prior"] else {})
    return xr.DataTree.from_dict({
        "prior": prior_tree["prior"].to_dataset(), "posterior": posterior,
        "observed_data": observed, "log_likelihood": _sample_dataset(log_lik),
        "log_prior": _sample_dataset(log_prior)})


def _varying(tree: xr.DataTree, group: str) -> list[str]:
    data = tree[group]
    return [k for k in data.data_vars if float(data[k].std()) > 0]


def _mcmc_diagnostics(tree: xr.DataTree, priors: PriorSet) -> dict:
    names = [k for k in _varying(tree, "posterior")
             if not (k in priors and priors[k].dist.discrete)]
    if not names:
        return {"r_hat_max": None, "ess_bulk_min": None}
    rhat = az.rhat(tree, group="posterior", var_names=names)
    ess = az.ess(tree, group="posterior", var_names=names, method="bulk")
    rhat_values = [float(rhat[k]) for k in names]
    ess_values = [float(ess[k]) for k in names]
    return {"r_hat_max": float(np.nanmax(rhat_values)),
            "ess_bulk_min": float(np.nanmin(ess_values))}


def _sensitivity(tree: xr.DataTree, priors: PriorSet) -> list[dict]:
    """Power-scaling sensitivity (ArviZ ``psense``) of each varying posterior variable.

    Diagnosis as in ``psense_summary``: both sensitivities >= 0.05 is a potential prior-data
    conflict; a sensitive prior with a weak likelihood is a strong prior. (``psense`` is called
    per component, not ``psense_summary``, which logs a banner to stderr.)"""
    names = _varying(tree, "posterior")
    try:
        prior = az.psense(tree, var_names=names, group="prior")
        likelihood = az.psense(tree, var_names=names, group="likelihood")
    except Exception as err:  # too few distinct draws for PSIS: say so, do not fail the update
        return [{"name": "psense", "diagnosis": f"not computed ({type(err).__name__}: {err})"}]
    rows = []
    for name in names:
        p, lik = float(prior[name]), float(likelihood[name])
        if p >= PSENSE_THRESHOLD and lik >= PSENSE_THRESHOLD:
            diagnosis = "potential prior-data conflict"
        elif p > PSENSE_THRESHOLD > lik:
            diagnosis = "potential strong prior / weak likelihood"
        else:
            diagnosis = "ok"
        rows.append({"name": name, "prior": round(p, 3), "likelihood": round(lik, 3),
                     "diagnosis": diagnosis})
    return rows


def _warnings(result: UpdateResult) -> list[str]:
    d = result.diagnostics
    out = []
    if d.get("r_hat_max") is not None and not d["r_hat_max"] <= RHAT_MAX:
        out.append(f"r_hat = {d['r_hat_max']:.3f} > {RHAT_MAX}: the chains disagree; the posterior "
                   "is not trustworthy (more --samples, or check the evidence)")
    if d.get("divergences"):
        out.append(f"{d['divergences']} divergent transitions: the posterior may be biased")
    return out
