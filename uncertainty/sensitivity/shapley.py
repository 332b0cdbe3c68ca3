"""Shapley effects: each assumption's fair share of an output's variance, valid when the priors
are correlated (where first-order and total Sobol indices are not: they no longer add up, and
their independent-input estimators answer a different question).

The value of a set ``u`` of assumptions is the variance they explain, ``Var E[Y | X_u]``; an
assumption's Shapley effect is its average marginal value over every order of revealing the
assumptions (Owen 2014; Song, Nelson & Staum 2016). Effects are >= 0 and add up to 1. Beside
them: the full first-order index ``Var E[Y | X_i] / Var Y`` (what knowing ``X_i`` exactly would
remove, correlated partners' shares included) and the total index under independence.

Two paths, and the result says which it took:

- **exact** (``Owen & Prieur 2017``; Iooss & Prieur 2019): when every uncertain assumption is
  lognormal and ``log Y`` is linear in the logs (a product of powers: most Sora outputs are
  not, quite), ``log Y`` and the logs are jointly normal under the Gaussian copula and the value
  of every set is a closed form; summed over all subsets (up to :data:`EXACT_MAX` assumptions).
- **random permutations** (Song, Nelson & Staum 2016, with ``N_o = 1`` and ``N_i = 3``): each
  permutation reveals the assumptions one by one; the cost ``E[Var(Y | X_rest)]`` of each prefix
  is estimated from inner draws of the prefix given the rest, sampled exactly from the Gaussian
  copula's conditional normal scores; every model call of every permutation is one batched,
  compiled JAX call. Intervals: 95% from the spread of the permutations' contributions.

Example
-------
>>> import numpy as np
>>> effects = linear_gaussian_shapley(np.array([1.0, 1.0]), np.array([[1.0, 0.5], [0.5, 4.0]]))
>>> [round(float(v), 4) for v in effects]    # Iooss & Prieur (2019), two correlated inputs
[0.2656, 0.7344]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import special

from ..families import open_unit
from ..model import Model, as_model
from ..priors import PriorSet
from ..sampling import (
    CHUNK_SIZE,
    as_key,
    distributions,
    draws_from_uniforms,
    plan_of,
    seed_record,
)
from .ranking import NOT_MOVED
from .tornado import chosen_outputs

__all__ = ["EXACT_MAX", "linear_gaussian_shapley", "normal_score_correlation", "shapley_effects"]

EXACT_MAX = 14  # assumptions the exact path sums every subset of (2^13 per assumption)
PERMUTATIONS = 2_000
INNER = 3  # N_i: inner draws per outer draw (Song, Nelson & Staum's recommendation)
VARIANCE_DRAWS = 1 << 16
FIRST_ORDER_OUTER, FIRST_ORDER_INNER = 2_048, 16


def linear_gaussian_shapley(beta: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Exact Shapley effects of ``Y = beta . X`` with ``X ~ N(mu, cov)``: every subset's value
    ``Var E[Y | X_u] = beta' cov[:, u] cov[u, u]^-1 cov[u, :] beta``, weighted by
    ``|u|! (d - |u| - 1)! / d!``, divided by ``Var Y``."""
    beta, cov = np.asarray(beta, np.float64), np.asarray(cov, np.float64)
    d = len(beta)
    cov_y = cov @ beta
    total = float(beta @ cov_y)
    if total <= 0:
        return np.zeros(d)

    def value(subset: tuple[int, ...]) -> float:
        if not subset:
            return 0.0
        s = list(subset)
        return float(cov_y[s] @ np.linalg.solve(cov[np.ix_(s, s)], cov_y[s]))

    values = {u: value(u) for k in range(d + 1) for u in itertools.combinations(range(d), k)}
    effects = np.zeros(d)
    for i in range(d):
        rest = [j for j in range(d) if j != i]
        for k in range(d):
            weight = math.factorial(k) * math.factorial(d - k - 1) / math.factorial(d)
            for u in itertools.combinations(rest, k):
                effects[i] += weight * (values[tuple(sorted(u + (i,)))] - values[u])
    return effects / total


def normal_score_correlation(priors: PriorSet) -> np.ndarray:
    """The normal scores' correlation over the uncertain assumptions (identity but for the
    copula's block): every assumption is ``icdf(Phi(z_i))`` of one ``z ~ N(0, R)``."""
    names = priors.uncertain
    matrix = np.eye(len(names))
    if priors.copula:
        lower = np.asarray(priors.copula.cholesky, np.float64)
        block = lower @ lower.T
        index = [names.index(n) for n in priors.copula.names]
        matrix[np.ix_(index, index)] = block
    return matrix


# --- the outputs at given normal scores ---------------------------------------------------------

@partial(jax.jit, static_argnames=("plan", "model"))
def _outputs_at(z, params, plan, model):
    """Every output at normal scores ``z`` (rows: the uncertain assumptions in prior order)."""
    return draws_from_uniforms(open_unit(special.ndtr(z)), plan, params, model)


def _evaluate(z: np.ndarray, priors: PriorSet, model: Model, outputs: Sequence[str],
              scale: str) -> np.ndarray:
    """``(len(outputs), n)`` values (logs on the log scale) at the columns of ``z`` (d, n),
    in blocks of :data:`CHUNK_SIZE` (one compiled program)."""
    plan, params = plan_of(distributions(priors))  # the correlation is in z already
    n = z.shape[1]
    columns = []
    for start in range(0, n, CHUNK_SIZE):
        block = z[:, start:start + CHUNK_SIZE]
        size = block.shape[1]
        padded = np.pad(block, ((0, 0), (0, CHUNK_SIZE - size)))
        out = _outputs_at(jnp.asarray(padded, jnp.float32), params, plan=plan, model=model)
        columns.append(np.stack([np.asarray(out[name], np.float64)[:size] for name in outputs]))
    y = np.concatenate(columns, axis=1) if columns else np.zeros((len(outputs), 0))
    if scale == "log":
        if np.any(~(y > 0)):
            bad = outputs[int(np.argmax(np.any(~(y > 0), axis=1)))]
            raise ValueError(f"output '{bad}' must be > 0 for scale='log'")
        return np.log(y)
    return y


# --- conditional sampling of normal scores -------------------------------------------------------

def _conditional(matrix: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For z ~ N(0, R): z[hidden] | z[shown] ~ N(A z[shown], S); returns A and chol(S)."""
    shown = ~hidden
    if not shown.any():
        return np.zeros((hidden.sum(), 0)), np.linalg.cholesky(matrix)
    r_hs = matrix[np.ix_(hidden, shown)]
    a = np.linalg.solve(matrix[np.ix_(shown, shown)], r_hs.T).T
    s = matrix[np.ix_(hidden, hidden)] - a @ r_hs.T
    return a, np.linalg.cholesky(s + 1e-12 * np.eye(len(s)))


def _prefix_costs(matrix, permutations, rng, evaluate, variance) -> np.ndarray:
    """``(m, d)``: E[Var(Y | X_rest)] of each permutation's prefixes 1..d, per output (last
    axis): one outer draw of the rest, :data:`INNER` conditional draws of the prefix."""
    m, d = permutations.shape
    independent = np.allclose(matrix, np.eye(d))
    chol = np.linalg.cholesky(matrix)
    z = np.empty((m, d - 1, INNER, d))
    for p, order in enumerate(permutations):
        outer = chol @ rng.standard_normal(d)
        for j in range(1, d):
            hidden = np.zeros(d, bool)
            hidden[order[:j]] = True
            inner = np.repeat(outer[None, :], INNER, axis=0)
            noise = rng.standard_normal((INNER, j))
            if independent:
                inner[:, hidden] = noise
            else:
                a, s = _conditional(matrix, hidden)
                inner[:, hidden] = outer[~hidden] @ a.T + noise @ s.T
            z[p, j - 1] = inner
    y = evaluate(z.reshape(-1, d).T).reshape(-1, m, d - 1, INNER)  # (outputs, m, d-1, INNER)
    costs = y.var(axis=-1, ddof=1)  # an unbiased inner variance per outer draw
    return np.concatenate([np.moveaxis(costs, 0, -1),
                           np.broadcast_to(variance, (m, 1, len(variance)))], axis=1)


def _first_order(matrix, rng, evaluate) -> np.ndarray:
    """``(d, outputs)``: 1 - E[Var(Y | X_i)] / Var Y for each assumption, its correlated
    partners moving with it (outer draws of X_i, inner draws of the rest given it)."""
    d = len(matrix)
    blocks = []
    for i in range(d):
        hidden = np.ones(d, bool)
        hidden[i] = False
        a, s = _conditional(matrix, hidden)
        shown = rng.standard_normal(FIRST_ORDER_OUTER)
        z = np.empty((FIRST_ORDER_OUTER, FIRST_ORDER_INNER, d))
        z[:, :, i] = shown[:, None]
        noise = rng.standard_normal((FIRST_ORDER_OUTER, FIRST_ORDER_INNER, d - 1))
        z[:, :, hidden] = shown[:, None, None] * a[:, 0] + noise @ s.T
        blocks.append(z)
    z = np.stack(blocks)  # (d, outer, inner, d)
    y = evaluate(z.reshape(-1, d).T).reshape(-1, d, FIRST_ORDER_OUTER, FIRST_ORDER_INNER)
    per_outer = y.var(axis=-1, ddof=1)  # (outputs, d, outer): Var(Y | X_i = x) per draw of x
    within = per_outer.mean(axis=-1)  # E[Var(Y | X_i)]
    total = y.reshape(y.shape[0], d, -1).var(axis=-1, ddof=1)
    safe = np.where(total > 0, total, 1.0)
    error = per_outer.std(axis=-1, ddof=1) / math.sqrt(FIRST_ORDER_OUTER) / safe
    return np.moveaxis(1.0 - within / safe, 0, -1), np.moveaxis(error, 0, -1)


def _independent_total(priors, model, outputs, scale, seed) -> dict:
    """The total Sobol index of each assumption as if the assumptions were independent (the
    same marginals): what a variance-based screen without the copula reports."""
    from .sobol import sobol_indices

    indices = sobol_indices(model, priors, n_base=2**12, seed=seed, scale=scale, outputs=outputs,
                            n_bootstrap=1)
    return {out: {n: max(ix["ST"], 0.0) for n, ix in indices[out].items()} for out in outputs}


# --- the exact path -------------------------------------------------------------------------------

def _log_linear_gradient(priors: PriorSet, model: Model, outputs, key) -> np.ndarray | None:
    """``(outputs, d)`` d log Y / d log X_i when every uncertain assumption is lognormal and
    the gradient is the same at a few random points (a product of powers); else None."""
    names = priors.uncertain
    if not names or len(names) > EXACT_MAX or any(priors[n].dist.name != "lognormal"
                                                  for n in names):
        return None
    fixed = {n: jnp.float32(p.dist.value) for n, p in priors.items() if p.is_fixed}

    def log_outputs(log_x):
        values = model({**fixed, **{n: jnp.exp(log_x[i]) for i, n in enumerate(names)}})
        return jnp.log(jnp.stack([values[o] for o in outputs]))

    medians = np.array([math.log(priors[n].dist.median) for n in names])
    sigmas = np.array([priors[n].dist.sigma for n in names])
    points = medians + sigmas * np.asarray(jax.random.normal(key, (4, len(names))))
    jacobians = np.stack([np.asarray(jax.jacfwd(log_outputs)(jnp.asarray(x, jnp.float32)))
                          for x in points])
    if not np.all(np.isfinite(jacobians)):
        return None
    spread = np.max(np.abs(jacobians - jacobians[0]))
    if spread > 1e-4 * max(1.0, float(np.max(np.abs(jacobians)))):
        return None
    return jacobians.mean(axis=0)


# --- the estimator --------------------------------------------------------------------------------

def shapley_effects(priors: PriorSet, model: Model | Callable | None = None,
                    outputs: Sequence[str] | None = None, scale: str = "log", seed=0,
                    permutations: int = PERMUTATIONS, method: str = "auto") -> dict:
    """Shapley effects, full first-order and (exact path) total indices of every output.

    Parameters
    ----------
    priors : PriorSet
        Independent or rank-correlated (Gaussian copula) priors.
    model : Model or callable, optional
        Default: the priors' own.
    outputs : sequence of str, optional
        Default: every output of the model.
    scale : {"log", "linear"}
        The variance of log(output) (outputs must be > 0) or of the output.
    seed : int or jax.random.key
    permutations : int
        Random permutations of the estimator (its error falls as 1 / sqrt of it).
    method : {"auto", "exact", "permutation"}
        ``auto``: exact where it applies (see the module), else permutations.

    Returns
    -------
    dict
        ``{"scale", "method", "outputs": {OUTPUT: {ASSUMPTION: {"shapley", "shapley_ci",
        "first_order"}}}, ...}`` with the facts needed to repeat it.
    """
    if scale not in ("log", "linear"):
        raise ValueError(f"scale must be 'log' or 'linear', got {scale!r}")
    if method not in ("auto", "exact", "permutation"):
        raise ValueError(f"method must be auto, exact or permutation, got {method!r}")
    model = as_model(model, priors.model)
    names = priors.uncertain
    if len(names) < 2:
        raise ValueError("Shapley effects need at least two uncertain assumptions")
    outputs = chosen_outputs(model.outputs, outputs)
    key = as_key(seed)
    matrix = normal_score_correlation(priors)
    gradient = _log_linear_gradient(priors, model, outputs, key) \
        if method != "permutation" and scale == "log" else None
    if method == "exact" and gradient is None:
        raise ValueError("the exact path needs lognormal assumptions (at most "
                         f"{EXACT_MAX}) and log outputs linear in their logs, on scale='log'")
    if gradient is not None:
        result = _exact(priors, matrix, gradient, outputs)
        path = ("exact: lognormal assumptions and log outputs linear in their logs are jointly "
                "normal under the Gaussian copula (Owen & Prieur 2017)")
        facts = {"model_runs": 4}
    else:
        entropy = np.atleast_1d(seed_record(seed))
        result, facts = _permutation(priors, model, outputs, scale, matrix, entropy, permutations)
        path = (f"random permutations (Song, Nelson & Staum 2016): {permutations} permutations, "
                f"one outer and {INNER} inner conditional draws per prefix, normal scores "
                "drawn from the Gaussian copula; 95% intervals from the permutations' spread")
    return {"scale": scale, "method": path, "seed": seed_record(seed),
            "correlated": bool(priors.correlations), **facts, "outputs": result}


def _exact(priors: PriorSet, matrix: np.ndarray, gradient: np.ndarray, outputs) -> dict:
    names = priors.uncertain
    sigmas = np.array([priors[n].dist.sigma for n in names])
    cov = matrix * np.outer(sigmas, sigmas)  # the logs' covariance: lognormal scores are logs
    result = {}
    for o, out in enumerate(outputs):
        beta = gradient[o]
        effects = linear_gaussian_shapley(beta, cov)
        total = float(beta @ cov @ beta)
        cov_y = cov @ beta
        first = cov_y**2 / np.diag(cov) / total if total > 0 else np.zeros(len(names))
        independent = beta**2 * sigmas**2
        alone = independent / independent.sum() if independent.sum() > 0 else independent
        result[out] = {n: {"shapley": float(effects[i]), "shapley_ci": [float(effects[i])] * 2,
                           "first_order": float(first[i]),
                           "first_order_ci": [float(first[i])] * 2, "total": float(alone[i])}
                       for i, n in enumerate(names)}
    return result


def _permutation(priors, model, outputs, scale, matrix, entropy, permutations, evaluate=None):
    """The permutation estimator, output by output over its players.

    An output's players are the assumptions it depends on (total index above 0: moving any
    other leaves its model calls identical, to rounding) and those correlated with one of
    these, directly or through others. The rest are dummies, with a Shapley effect of exactly
    0: under the Gaussian copula the groups that correlations link are independent of each
    other, so knowing a dummy, or its whole group, tells nothing about what the output depends
    on. Leaving them out of the permutations removes their noise and everyone else's share of
    it (a dummy keeps no other player's value: the Shapley value's null-player property).
    Outputs with the same players share one batched run, drawn from a stream of ``entropy``
    (the seed) keyed by the players: an output's effects are the same whichever other outputs
    are asked for."""
    names = priors.uncertain
    if evaluate is None:
        def evaluate(z, outputs):
            return _evaluate(z, priors, model, outputs, scale)
    total = _independent_total(priors, model, outputs, scale, seed_record(0))
    group_of = _correlated_groups(matrix)
    groups: dict[tuple[int, ...], list[str]] = {}
    for out in outputs:
        # the groups holding an assumption the output depends on: their members play
        touched = {group_of[i] for i, n in enumerate(names) if total[out][n] > NOT_MOVED}
        players = tuple(i for i in range(len(names)) if group_of[i] in touched)
        groups.setdefault(players, []).append(out)
    result, runs = {}, 0
    for players, group in groups.items():
        rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=players))
        part, part_runs = _players(priors, group, matrix, rng, permutations, players, evaluate)
        runs += part_runs
        for out in group:
            result[out] = {n: {**part[out].get(n, _DUMMY), "total": total[out][n]}
                           for n in names}
    return result, {"model_runs": runs, "permutations": permutations}


def _correlated_groups(matrix: np.ndarray) -> np.ndarray:
    """The group of each assumption: those that nonzero correlations link, directly or through
    others, share one.

    >>> _correlated_groups(np.array([[1, 0, 0.5], [0, 1, 0], [0.5, 0, 1]])).tolist()
    [0, 1, 0]
    """
    from scipy.sparse.csgraph import connected_components

    return connected_components(np.asarray(matrix) != 0, directed=False)[1]


_DUMMY = {"shapley": 0.0, "shapley_ci": [0.0, 0.0], "first_order": 0.0,
          "first_order_ci": [0.0, 0.0]}


def _players(priors, outputs, matrix, rng, permutations, players, evaluate_all):
    """The estimator over ``players`` (indices of uncertain assumptions); the others are drawn
    from their marginals (they do not move these outputs)."""
    names, d_all, d = priors.uncertain, len(priors.uncertain), len(players)
    if d == 0:
        return {}, 0
    index = np.asarray(players)
    sub = matrix[np.ix_(index, index)]

    def evaluate(z):  # (d, n) scores of the players -> outputs, the rest independent normals
        full = rng.standard_normal((d_all, z.shape[1]))
        full[index] = z
        return evaluate_all(full, outputs)

    y = evaluate(np.linalg.cholesky(sub) @ rng.standard_normal((d, VARIANCE_DRAWS)))
    variance = y.var(axis=1, ddof=1)  # (outputs,)
    runs = VARIANCE_DRAWS + d * FIRST_ORDER_OUTER * FIRST_ORDER_INNER
    if d == 1:  # one player: all the variance is its own
        effects, half = np.ones((1, len(outputs))), np.zeros((1, len(outputs)))
    else:
        orders = np.stack([rng.permutation(d) for _ in range(permutations)])
        costs = _prefix_costs(sub, orders, rng, evaluate, variance)  # (m, d, outputs)
        steps = np.diff(costs, axis=1, prepend=0.0)  # each prefix's added cost
        contributions = np.zeros((permutations, d, len(outputs)))
        np.put_along_axis(contributions, orders[:, :, None], steps, axis=1)
        scaled = contributions / np.where(variance > 0, variance, 1.0)
        effects = scaled.mean(axis=0)
        half = 1.96 * scaled.std(axis=0, ddof=1) / math.sqrt(permutations)
        runs += permutations * (d - 1) * INNER
    first, first_error = _first_order(sub, rng, evaluate) if d > 1 else (
        np.ones((1, len(outputs))), np.zeros((1, len(outputs))))
    result = {}
    for o, out in enumerate(outputs):
        varies = variance[o] > 0
        result[out] = {}
        for k, i in enumerate(players):
            low, high = first[k, o] - 1.96 * first_error[k, o], first[k, o] + 1.96 * \
                first_error[k, o]
            result[out][names[i]] = {
                "shapley": float(effects[k, o]) if varies else 0.0,
                "shapley_ci": ([float(effects[k, o] - half[k, o]),
                                float(effects[k, o] + half[k, o])] if varies else [0.0, 0.0]),
                "first_order": float(np.clip(first[k, o], 0.0, 1.0)) if varies else 0.0,
                "first_order_ci": ([float(max(low, 0.0)), float(min(high, 1.0))] if varies
                                   else [0.0, 0.0])}
    return result, runs
