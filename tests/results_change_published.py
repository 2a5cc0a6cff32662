"""Published worked examples for analysis.change, as printed in the peers' documentation.

Each value was read in the page named by ``source``; the exact R call that printed it is
given in the comment above it. R packages suddengains and clinicalsignificance are not in
Debian and CRAN is unreachable here, so the printed output is the oracle. ``tolerance`` is
half a unit in the last printed digit.
"""

# suddengains 0.4.4 (Wiedemann, Thew, Stott & Ehlers 2020), reference page of define_crit1_cutoff,
# https://github.com/milanwiedemann/suddengains/blob/master/docs/reference/define_crit1_cutoff.html
#   define_crit1_cutoff(sd = 10.5, reliability = 0.931)
#   #> $standard_error_measurement 2.758124
#   #> $standard_error_difference  3.900577
#   #> $reliable_change_value      7.645131
SUDDENGAINS_CRIT1 = {
    "source": "suddengains 0.4.4 documentation, define_crit1_cutoff() example",
    "call": "define_crit1_cutoff(sd = 10.5, reliability = 0.931)",
    "sd": 10.5,
    "reliability": 0.931,
    "standard_error_measurement": 2.758124,
    "standard_error_difference": 3.900577,
    "reliable_change_value": 7.645131,
    "tolerance": 5e-7,
}

# clinicalsignificance (Claus), README of pedscience/clinicalsignificance,
# https://github.com/pedscience/clinicalsignificance/blob/main/README.md
#   claus_2020 %>% clinical_significance(id = id, time = time, outcome = bdi, pre = 1, post = 4,
#                                        reliability = 0.81, m_functional = 8, sd_functional = 8,
#                                        type = "c")
#   summary(): "The cutoff type was "c" with a value of 21.6 based on the following population
#   characteristics: M Clinical 35.48 | SD Clinical 8.16 | M Functional 8 | SD Functional 8"
# The clinical M and SD are printed to two decimals, the cut-off to one; the tolerance covers both
# roundings (|d c / d M_clin| = 0.5, |d c / d SD_clin| < 1.8: 0.05 + 0.005 * (0.5 + 1.8) < 0.062).
CLINICALSIGNIFICANCE_CUTOFF_C = {
    "source": "clinicalsignificance README, summary() of the claus_2020 example (BDI-II)",
    "call": "clinical_significance(..., outcome = bdi, reliability = 0.81, m_functional = 8, "
            "sd_functional = 8, type = \"c\")",
    "m_clin": 35.48,
    "sd_clin": 8.16,
    "m_func": 8.0,
    "sd_func": 8.0,
    "cutoff_c": 21.6,
    "tolerance": 0.062,
}

# suddengains tutorial ("A tutorial on using the suddengains R package", section "Check a specific
# intervals for a sudden gain/loss"),
# https://github.com/milanwiedemann/suddengains/blob/master/articles/suddengains-tutorial.md
# Each entry: the check_interval() call and what it printed. Critical values and SDs are printed to
# three decimals (tolerance 5e-4); means are printed as whole numbers (exact here).
#   check_interval(pre_values = c(32, 31, 33), post_values = c(5, 6, 7), sg_crit1_cutoff = 7,
#                  sg_crit2_pct = .25, sg_crit3 = TRUE, sg_crit3_alpha = .05, identify = "sg")
#   check_interval(..., same values, sg_crit3_alpha = .01)
#   check_interval(pre_values = c(NA, 31, 33), post_values = c(5, NA, 7), sg_crit1_cutoff = NULL,
#                  sg_crit2_pct = NULL, sg_crit3 = TRUE, sg_crit3_alpha = .01, identify = "sg")
#   check_interval(pre_values = c(5, NA, 7), post_values = c(16, 12, 14), sg_crit1_cutoff = -7,
#                  sg_crit2_pct = .25, sg_crit3 = TRUE, sg_crit3_alpha = .05, identify = "sl")
SUDDENGAINS_CHECK_INTERVAL = [
    {"pre": [32, 31, 33], "post": [5, 6, 7], "min_gain": 7, "min_relative": 0.25, "alpha": 0.05,
     "identify": "sg", "critical": 2.776, "n_pre": 3, "n_post": 3, "mean_pre": 32, "mean_post": 6,
     "sd_pre": 1.0, "sd_post": 1.0, "crit1": True, "crit2": True, "crit3": True, "found": True},
    {"pre": [32, 31, 33], "post": [5, 6, 7], "min_gain": 7, "min_relative": 0.25, "alpha": 0.01,
     "identify": "sg", "critical": 4.604, "n_pre": 3, "n_post": 3, "mean_pre": 32, "mean_post": 6,
     "sd_pre": 1.0, "sd_post": 1.0, "crit1": True, "crit2": True, "crit3": True, "found": True},
    {"pre": [None, 31, 33], "post": [5, None, 7], "min_gain": None, "min_relative": None, "alpha": 0.01,
     "identify": "sg", "critical": 9.925, "n_pre": 2, "n_post": 2, "mean_pre": 32, "mean_post": 6,
     "sd_pre": 1.414, "sd_post": 1.414, "crit1": None, "crit2": None, "crit3": True, "found": True},
    {"pre": [5, None, 7], "post": [16, 12, 14], "min_gain": 7, "min_relative": 0.25, "alpha": 0.05,
     "identify": "sl", "critical": 3.182, "n_pre": 2, "n_post": 3, "mean_pre": 6, "mean_post": 14,
     "sd_pre": 1.414, "sd_post": 2.0, "crit1": True, "crit2": True, "crit3": True, "found": True},
]
