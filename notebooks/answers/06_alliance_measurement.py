# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Answers · 06 Measuring the alliance
#
# Worked answers to the exercises of `06_alliance_measurement.ipynb`. Each answer is asserted with
# `check`, so this notebook fails if an answer and the key ever disagree.

# %%
import numpy as np

from analysis import psychometrics
from analysis.effect_sizes import correct_for_attenuation
from analysis.exercises import check
from analysis.simulate import simulate_wai_sr_items

# %% [markdown]
# ## 1 · Alpha and tau-equivalence
#
# **True.** Alpha is a lower bound to the reliability of the sum score; it equals it when every item
# measures the common factor with the same loading (tau-equivalence) and the errors are uncorrelated.
# Omega uses the fitted loadings and does not need equal ones. With the nearly equal loadings of the
# simulated WAI-SR the two are close (section 3).

# %%
assert check("06.1", True)

# %% [markdown]
# ## 2 · Correcting for attenuation
#
# $r_c = .25/\sqrt{.80 \times .70} = .25/.748 = .334$: the correlation the two constructs would have if
# both were measured without error — a what-if that treats the reliabilities as known.

# %%
r_c = 0.25 / np.sqrt(0.80 * 0.70)
print(round(r_c, 4), float(correct_for_attenuation(0.25, 0.80, 0.70, ni=100).yi[0]))
assert check("06.2", float(r_c))

# %% [markdown]
# ## 3 · Fewer items, lower alpha
#
# *Prediction:* lower. With items of similar quality, alpha grows with the number of items (the
# Spearman–Brown logic): 8 items carry less true-score variance relative to error than 12.

# %%
items = simulate_wai_sr_items(400, seed=2006).items.astype(float)
key = psychometrics.wai_sr_key()
eight = [*key.subscales["task"], *key.subscales["bond"]]
a12 = psychometrics.cronbach_alpha(items, list(key.items)).alpha
a8 = psychometrics.cronbach_alpha(items, eight).alpha
print(f"alpha, 12 items {a12:.3f}; 8 task and bond items {a8:.3f}")
assert a8 < a12
assert check("06.3", float(a8))

# %% [markdown]
# ## 4 · Omega of the one-factor model
#
# The one-factor CFA's omega total, $(\sum\lambda)^2\psi / \mathbf 1^\top\hat\Sigma\mathbf 1$. It is close to
# the 12-item alpha; a one-factor model of three correlated subscales fits imperfectly (section 4), so
# omega from the three-factor or bifactor model is the better description of the total score.

# %%
one = psychometrics.fit_cfa(items, {"alliance": list(key.items)})
omega_total = float(one.omega()["total"])
print(f"omega total {omega_total:.3f} (alpha {a12:.3f})")
assert check("06.4", omega_total)

# %% [markdown]
# ## 5 · How long should the bond subscale be?
#
# Spearman–Brown: lengthening a test by a factor $m$ turns reliability $\alpha$ into
# $m\alpha/(1 + (m-1)\alpha)$. Solving for the $m$ that reaches .90 and multiplying by the 4 items:

# %%
bond = list(key.subscales["bond"])
a_bond = psychometrics.cronbach_alpha(items, bond).alpha
m = 0.90 * (1 - a_bond) / (a_bond * (1 - 0.90))
print(f"bond alpha {a_bond:.3f}; lengthening factor {m:.2f}; items needed {len(bond) * m:.1f}")
assert np.isclose(m * a_bond / (1 + (m - 1) * a_bond), 0.90)
assert check("06.5", float(len(bond) * m))
