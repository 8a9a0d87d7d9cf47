"""Training the model (u by random sampling, m by expectation maximisation) and making the
trained model safe to score with."""

from __future__ import annotations

import json
from typing import Any

# Addresses go stale (a household moves without telling every agency; a customer's meter is at
# another house): EM on blocks of one village cannot see that, so a disagreement on place must
# never outweigh an exact NIK and name. Floors on m for "elsewhere" levels, from the stale-address
# rates agencies report (3-8%).
M_FLOORS = {
    ("place", "elsewhere"): 0.08,
    ("place", "same district"): 0.03,
    ("place", "same village"): 0.2,
}


# Levels that must carry no evidence (m = u after training: a Bayes factor of 1), see
# comparisons._levels_nik. Fixing m and u in the settings would stop EM from training the rest of
# the NIK comparison, so they are set on the trained model instead.
NEUTRAL_LEVELS = {
    # Same district and birth date, another serial: a typo, or twins and same-day births.
    ("nik", "NIK serial differs by one digit"),
    ("nik", "NIK region digits differ"),
    ("nik", "NIK birth-date digits differ with the birth dates"),
}


# Levels whose m and u are set, not trained, because the other comparisons explain them (see the
# level's comment): (m, u), set on the trained model like NEUTRAL_LEVELS.
FIXED_LEVELS = {
    ("nik", "NIK region digits differ, same birth date"): (0.003, 0.25),
}


# Random sampling for u draws this many pairs (see train).
U_SAMPLE_PAIRS = 1_000_000


def floor_m(model: dict[str, Any]) -> dict[str, Any]:
    """The trained model made safe to score with: neutral and fixed levels set, m floored for
    the place levels, and levels that training never saw filled in.

    A rare level (names in another word order, a last word cut to its initial) may not occur
    among the sampled random pairs, or an m may not occur among the blocked pairs EM trains on;
    Splink then leaves the value out and scores with a built-in default that bears no relation
    to the data: at 100,000 persons the two name levels above came out unobserved and their
    default u (about 0.3) turned a reordered or abbreviated name into evidence *against* a
    match, costing 1.7 points of recall. An unseen u is rarer than one in U_SAMPLE_PAIRS, so
    it is set to that bound; an unseen m is set equal to u (the level then says nothing)."""
    out: dict[str, Any] = json.loads(json.dumps(model))
    for comparison in out.get("comparisons", []):
        name = comparison.get("output_column_name")
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            if not isinstance(level.get("u_probability"), float | int):
                level["u_probability"] = 1 / U_SAMPLE_PAIRS
            if not isinstance(level.get("m_probability"), float | int):
                level["m_probability"] = level["u_probability"]
            if (name, level.get("label_for_charts")) in NEUTRAL_LEVELS:
                level["m_probability"] = level["u_probability"] = 0.01
            fixed = FIXED_LEVELS.get((name, level.get("label_for_charts")))
            if fixed is not None:
                level["m_probability"], level["u_probability"] = fixed
            floor = M_FLOORS.get((name, level.get("label_for_charts")))
            if floor is not None and level.get("m_probability") is not None:
                level["m_probability"] = max(float(level["m_probability"]), floor)
    return out


def train(linker: Any, *, seed: int = 42) -> None:
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("nik", "birth_date"), block_on("nik", "name_norm")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("nik"), record_sample_proportion=1.0
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "village_code"), record_sample_proportion=1.0
    )
    # The NIK comparison reads the birth dates too, so neither session above trains it.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_sorted", "village_code"), record_sample_proportion=1.0
    )
