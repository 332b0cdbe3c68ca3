"""A user's own model on the sora-uq engine: the electric power a GPU fleet draws.

Run it with any command that takes ``--priors`` (the prior file names it in ``[meta] model``,
or give ``--model examples/datacenter/model.py:MODEL``). Loading a model file runs it: it is
Python code, so only run models you trust.

The model is written for ONE draw in ``jax.numpy`` (the engine vectorises it): a dict of
assumptions in, a dict of outputs out.
"""

from uncertainty import Model

WATTS_PER_MEGAWATT = 1e6


def fleet_power(a: dict) -> dict:
    """IT power of the fleet, and the facility's power after cooling and conversion (PUE)."""
    it_power_mw = a["gpus"] * a["watts_per_gpu"] / WATTS_PER_MEGAWATT
    return {"it_power_mw": it_power_mw, "facility_power_mw": it_power_mw * a["pue"]}


MODEL = Model(
    fleet_power,
    outputs={
        "it_power_mw": {"unit": "MW", "label": "IT power of the fleet"},
        "facility_power_mw": {"unit": "MW", "label": "facility power"},
    },
    inputs={
        "gpus": {"unit": "GPUs", "kind": "positive", "label": "GPUs in the fleet"},
        "watts_per_gpu": {"unit": "W", "kind": "positive",
                          "label": "power per GPU, server overhead included"},
        "pue": {"unit": "x", "kind": "positive", "label": "power usage effectiveness"},
    },
    headline=["facility_power_mw", "it_power_mw"],
    name="datacenter-power",
    title="Data-centre power",
)
