# Oracle for the method lesson of notebooks/01_relationship_elements.py: the selection model and
# the likelihood-ratio test on dat.molloy2014 (conscientiousness and medication adherence).
#
# Run from the repository root:   Rscript tests/oracles/nb01_molloy.R
# Writes tests/fixtures/nb01_molloy.json (17 significant digits). Checked with R 4.2.2, metafor 3.8.1,
# metadat, jsonlite.
#
# Exact calls:
#   dat <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
#   res <- rma(yi, vi, data = dat, method = "REML", control = CTRL)
#   selmodel(res, type = "stepfun", steps = 0.025, control = SCTRL)   # refits res by ML, as metafor does
#   SCTRL <- list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-6, 4))  (as tests/oracles/meta_selection.R)
#   ml0 <- rma(yi, vi, data = dat, method = "ML", control = CTRL)
#   ml1 <- rma(yi, vi, mods = ~ meanage, data = dat, method = "ML", control = CTRL)
#   anova(ml1, ml0)
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

CTRL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
SCTRL <- list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-6, 4))  # as tests/oracles/meta_selection.R: p + 1 + 2 deltas
num <- function(x) as.numeric(x)

dat <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
res <- rma(yi, vi, data = dat, method = "REML", control = CTRL)
sel <- selmodel(res, type = "stepfun", steps = 0.025, control = SCTRL)
ml0 <- rma(yi, vi, data = dat, method = "ML", control = CTRL)
ml1 <- rma(yi, vi, mods = ~ meanage, data = dat, method = "ML", control = CTRL)
av <- anova(ml1, ml0)

out <- list(
  metafor = as.character(packageVersion("metafor")),
  selmodel_stepfun_025 = list(
    call = "selmodel(rma(yi, vi, method = 'REML'), type = 'stepfun', steps = 0.025)",
    estimate = num(sel$beta), se = num(sel$se), ci_low = num(sel$ci.lb), ci_high = num(sel$ci.ub),
    tau2 = num(sel$tau2), delta = num(sel$delta[2]), delta_se = num(sel$se.delta[2]),
    lrt = num(sel$LRT), lrt_df = num(sel$LRTdf), lrt_pvalue = num(sel$LRTp),
    k_per_interval = num(sel$ptable$k)
  ),
  lrt_meanage_ml = list(
    call = "anova(rma(yi, vi, mods = ~ meanage, method = 'ML'), rma(yi, vi, method = 'ML'))",
    lrt = num(av$LRT), df = num(av$parms.f - av$parms.r), pvalue = num(av$pval),
    loglik_full = num(logLik(ml1)), loglik_reduced = num(logLik(ml0)),
    aic_full = num(AIC(ml1)), aic_reduced = num(AIC(ml0)),
    meanage_estimate = num(coef(ml1)[2]), meanage_se = num(ml1$se[2]), meanage_pvalue = num(ml1$pval[2]),
    tau2_full = num(ml1$tau2), tau2_reduced = num(ml0$tau2), r2 = num(av$R2)
  )
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = I(17), pretty = TRUE), "tests/fixtures/nb01_molloy.json")
