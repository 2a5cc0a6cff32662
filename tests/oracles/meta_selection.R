# Oracle for analysis/meta_selection.py (selection models) and the publication-bias
# additions at the end of analysis/meta_bias.py (rank_correlation_test, fail_safe_n, pet_peese).
#
# Run from the repository root:   Rscript tests/oracles/meta_selection.R
# Writes tests/fixtures/meta_selection.json (17 significant digits; inputs included so the
# tests need no R). Checked with R 4.2.2, metafor 3.8.1, metadat, jsonlite.
#
# Exact calls:
#   res <- rma(yi, vi, method = "ML", control = CTRL)       # or "FE" / "REML" (selmodel refits REML by ML)
#   selmodel(res, type = "stepfun", steps = S, control = SCTRL)
#   selmodel(res, type = T, control = SCTRL)                # T in halfnorm, negexp, power
#   selmodel(res, type = "halfnorm", steps = 0.025); selmodel(res, type = "negexp", alternative = "two.sided")
#   SCTRL <- list(reltol = 1e-15, maxit = 10000, intCtrl = list(rel.tol = 1e-10, subdivisions = 1000L))
#     (optim BFGS to a relative change of 1e-15; the continuous models integrate to 1e-10: metafor's
#      default integrate() tolerance, .Machine$double.eps^0.25, moves the hackshaw half-normal estimate
#      in the 4th digit and its SE in the 2nd)
#   ranktest(yi, vi)                                        # Kendall's tau, exact p without ties
#   fsn(yi, vi, type = "Rosenthal"); fsn(yi, vi, type = "Orwin"); fsn(yi, vi, type = "Orwin", target = t);
#   fsn(yi, vi, type = "Orwin", weighted = TRUE); fsn(yi, vi, type = "Rosenberg"); fsn(..., alpha = 0.01)
#   rma(yi, vi, mods = ~ sqrt(vi), method = "FE")  (PET)   rma(yi, vi, mods = ~ vi, method = "FE")  (PEESE)
#   lm(yi ~ sqrt(vi), weights = 1/vi) (PET, multiplicative error), lm(yi ~ vi, weights = 1/vi) (PEESE)
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

CTRL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
num <- function(x) as.numeric(x)
SCTRL <- function(npar) list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-6, npar),
                             intCtrl = list(rel.tol = 1e-10, subdivisions = 1000L))

# ---------------------------------------------------------------- datasets
hack <- dat.hackshaw1998                               # metafor's selmodel example (log odds ratios)
lan <- escalc(measure = "OR", ai = n.cbt.non, bi = n.cbt.rec, ci = n.ctrl.non, di = n.ctrl.rec,
              data = dat.landenberger2005)             # data/raw/dat.landenberger2005.csv, CBT for offenders
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)

datasets <- list(
  hackshaw1998 = list(yi = num(hack$yi), vi = num(hack$vi)),
  landenberger2005 = list(yi = num(lan$yi), vi = num(lan$vi), design = as.character(lan$design),
                          sessions = num(lan$sessions)),
  bcg = list(yi = num(bcg$yi), vi = num(bcg$vi))
)

sel_info <- function(sel, call) {
  out <- list(
    call = call,
    beta = num(sel$beta), se = num(sel$se), zval = num(sel$zval), pval = num(sel$pval),
    ci_lb = num(sel$ci.lb), ci_ub = num(sel$ci.ub),
    tau2 = num(sel$tau2), se_tau2 = num(sel$se.tau2), ci_lb_tau2 = num(sel$ci.lb.tau2),
    ci_ub_tau2 = num(sel$ci.ub.tau2),
    delta = num(sel$delta), se_delta = num(sel$se.delta), zval_delta = num(sel$zval.delta),
    pval_delta = num(sel$pval.delta), ci_lb_delta = num(sel$ci.lb.delta), ci_ub_delta = num(sel$ci.ub.delta),
    ll = num(sel$ll), ll0 = num(sel$ll0), LRT = num(sel$LRT), LRTdf = sel$LRTdf, LRTp = num(sel$LRTp),
    LRT_tau2 = num(sel$LRT.tau2), LRTp_tau2 = num(sel$LRTp.tau2),
    QM = num(sel$QM), QMp = num(sel$QMp),
    steps = num(sel$steps), pvals = num(sel$pvals),
    ptable_k = if (is.data.frame(sel$ptable)) num(sel$ptable$k) else NULL,
    ptable_labels = if (is.data.frame(sel$ptable)) rownames(sel$ptable) else NULL,
    print = paste(capture.output(print(sel)), collapse = "\n")
  )
  out
}

fit_sel <- function(res, type, steps = NULL, alternative = "greater", call = "") {
  deltas <- if (type == "stepfun") length(unique(c(steps, 1))) else 1
  npar <- res$p + 1 + deltas
  if (is.null(steps)) {
    sel <- selmodel(res, type = type, alternative = alternative, control = SCTRL(npar))
  } else {
    sel <- selmodel(res, type = type, steps = steps, alternative = alternative, control = SCTRL(npar))
  }
  sel_info(sel, call)
}

# ---------------------------------------------------------------- selection models
sel <- list()
h_ml <- rma(yi, vi, data = hack, method = "ML", control = CTRL)
h_reml <- rma(yi, vi, data = hack, method = "REML", control = CTRL)
h_fe <- rma(yi, vi, data = hack, method = "FE")
l_ml <- rma(yi, vi, data = lan, method = "ML", control = CTRL)
l_des <- rma(yi, vi, mods = ~ design, data = lan, method = "ML", control = CTRL)
l_ses <- rma(yi, vi, mods = ~ sessions, data = lan, method = "ML", control = CTRL)

sel$hack_step4 <- c(list(data = "hackshaw1998", method = "ML", mods = NULL, type = "stepfun",
  alternative = "greater", steps_in = c(0.025, 0.10, 0.50, 1)),
  fit_sel(h_ml, "stepfun", c(0.025, 0.10, 0.50, 1), call = 'selmodel(rma(yi, vi, data=dat.hackshaw1998, method="ML"), type="stepfun", steps=c(0.025, 0.10, 0.50, 1))'))
sel$hack_step1 <- c(list(data = "hackshaw1998", method = "ML", mods = NULL, type = "stepfun",
  alternative = "greater", steps_in = c(0.025)),
  fit_sel(h_ml, "stepfun", c(0.025), call = 'selmodel(res_ML, type="stepfun", steps=0.025)'))
sel$hack_step4_reml <- c(list(data = "hackshaw1998", method = "REML", mods = NULL, type = "stepfun",
  alternative = "greater", steps_in = c(0.025, 0.10, 0.50, 1)),
  fit_sel(h_reml, "stepfun", c(0.025, 0.10, 0.50, 1), call = 'selmodel(res_REML, type="stepfun", steps=c(0.025, 0.10, 0.50, 1)) (refitted by ML)'))
sel$hack_step_fe <- c(list(data = "hackshaw1998", method = "FE", mods = NULL, type = "stepfun",
  alternative = "greater", steps_in = c(0.025, 0.5)),
  fit_sel(h_fe, "stepfun", c(0.025, 0.5), call = 'selmodel(rma(yi, vi, method="FE"), type="stepfun", steps=c(0.025, 0.5))'))
sel$hack_step_two <- c(list(data = "hackshaw1998", method = "ML", mods = NULL, type = "stepfun",
  alternative = "two.sided", steps_in = c(0.05, 0.5)),
  fit_sel(h_ml, "stepfun", c(0.05, 0.5), alternative = "two.sided", call = 'selmodel(res_ML, type="stepfun", steps=c(0.05, 0.5), alternative="two.sided")'))
sel$lan_step5 <- c(list(data = "landenberger2005", method = "ML", mods = NULL, type = "stepfun",
  alternative = "greater", steps_in = c(0.025, 0.05, 0.10, 0.50, 1)),
  fit_sel(l_ml, "stepfun", c(0.025, 0.05, 0.10, 0.50, 1), call = 'selmodel(rma(yi, vi, data=lan, method="ML"), type="stepfun", steps=c(0.025, 0.05, 0.10, 0.50, 1))'))
sel$lan_step_less <- c(list(data = "landenberger2005", method = "ML", mods = NULL, type = "stepfun",
  alternative = "less", steps_in = c(0.5, 0.9)),
  fit_sel(l_ml, "stepfun", c(0.5, 0.9), alternative = "less", call = 'selmodel(res_lan, type="stepfun", steps=c(0.5, 0.9), alternative="less")'))
sel$lan_step_design <- c(list(data = "landenberger2005", method = "ML", mods = "design", type = "stepfun",
  alternative = "greater", steps_in = c(0.025, 0.5)),
  fit_sel(l_des, "stepfun", c(0.025, 0.5), call = 'selmodel(rma(yi, vi, mods=~design, data=lan, method="ML"), type="stepfun", steps=c(0.025, 0.5))'))
sel$lan_step_sessions <- c(list(data = "landenberger2005", method = "ML", mods = "sessions", type = "stepfun",
  alternative = "greater", steps_in = c(0.025, 0.5)),
  fit_sel(l_ses, "stepfun", c(0.025, 0.5), call = 'selmodel(rma(yi, vi, mods=~sessions, data=lan, method="ML"), type="stepfun", steps=c(0.025, 0.5))'))
for (tp in c("halfnorm", "negexp", "power")) {
  sel[[paste0("hack_", tp)]] <- c(list(data = "hackshaw1998", method = "ML", mods = NULL, type = tp,
    alternative = "greater", steps_in = NULL),
    fit_sel(h_ml, tp, call = sprintf('selmodel(res_ML, type="%s")', tp)))
}
sel$hack_halfnorm_cut <- c(list(data = "hackshaw1998", method = "ML", mods = NULL, type = "halfnorm",
  alternative = "greater", steps_in = c(0.025)),
  fit_sel(h_ml, "halfnorm", steps = c(0.025), call = 'selmodel(res_ML, type="halfnorm", steps=0.025)'))
sel$hack_negexp_two <- c(list(data = "hackshaw1998", method = "ML", mods = NULL, type = "negexp",
  alternative = "two.sided", steps_in = NULL),
  fit_sel(h_ml, "negexp", alternative = "two.sided", call = 'selmodel(res_ML, type="negexp", alternative="two.sided")'))
for (tp in c("halfnorm", "negexp")) {
  sel[[paste0("lan_", tp)]] <- c(list(data = "landenberger2005", method = "ML", mods = NULL, type = tp,
    alternative = "greater", steps_in = NULL),
    fit_sel(l_ml, tp, call = sprintf('selmodel(res_lan, type="%s")', tp)))
}
# an interval without any p-value: metafor refuses
empty <- tryCatch(selmodel(h_ml, type = "stepfun", steps = c(0.001, 0.002, 1)), error = function(e) conditionMessage(e))

# ---------------------------------------------------------------- rank test, fsn, PET-PEESE
bias <- list()
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  yi <- d$yi; vi <- d$vi
  rt <- ranktest(yi, vi)
  ties <- any(duplicated(vi)) || any(duplicated((yi - weighted.mean(yi, 1/vi)) / sqrt(vi - 1/sum(1/vi))))
  f_ros <- fsn(yi, vi, type = "Rosenthal")
  f_ros01 <- fsn(yi, vi, type = "Rosenthal", alpha = 0.01)
  f_orw <- fsn(yi, vi, type = "Orwin")
  f_orw_t <- fsn(yi, vi, type = "Orwin", target = 0.05)
  f_orw_w <- fsn(yi, vi, type = "Orwin", weighted = TRUE)
  f_rbg <- fsn(yi, vi, type = "Rosenberg")
  fsn_info <- function(f) list(fsnum = num(f$fsnum), pval = num(f$pval), meanes = num(f$meanes),
                               target = num(f$target), alpha = num(f$alpha))
  pet <- rma(yi, vi, mods = ~ sqrt(vi), method = "FE")
  peese <- rma(yi, vi, mods = ~ vi, method = "FE")
  coefs <- function(m) list(beta = num(coef(m)), se = num(m$se), zval = num(m$zval), pval = num(m$pval),
                            ci_lb = num(m$ci.lb), ci_ub = num(m$ci.ub))
  w <- 1 / vi
  pet_lm <- lm(yi ~ sqrt(vi), weights = w)
  peese_lm <- lm(yi ~ vi, weights = w)
  lmcoefs <- function(m) {
    s <- summary(m)$coefficients
    ci <- confint(m)
    list(beta = num(s[, 1]), se = num(s[, 2]), tval = num(s[, 3]), pval = num(s[, 4]),
         ci_lb = num(ci[, 1]), ci_ub = num(ci[, 2]), df = m$df.residual)
  }
  bias[[nm]] <- list(
    ranktest = list(tau = num(rt$tau), pval = num(rt$pval), ties = ties, call = "ranktest(yi, vi)",
                    print = paste(capture.output(print(rt)), collapse = "\n")),
    fsn = list(Rosenthal = fsn_info(f_ros), Rosenthal_alpha01 = fsn_info(f_ros01), Orwin = fsn_info(f_orw),
               Orwin_target005 = fsn_info(f_orw_t), Orwin_weighted = fsn_info(f_orw_w),
               Rosenberg = fsn_info(f_rbg),
               print_Rosenthal = paste(capture.output(print(f_ros)), collapse = "\n")),
    pet_fe = coefs(pet), peese_fe = coefs(peese), pet_lm = lmcoefs(pet_lm), peese_lm = lmcoefs(peese_lm)
  )
}
# ranktest on a small no-tie set (exact p) and with ties (normal approximation with the tie-corrected variance)
small <- list(yi = c(0.1, 0.3, 0.35, 0.6, 0.2, 0.8, 0.45), vi = c(0.01, 0.02, 0.03, 0.05, 0.015, 0.08, 0.04))
tied <- list(yi = c(0.1, 0.3, 0.35, 0.6, 0.2, 0.8, 0.45, 0.5), vi = c(0.01, 0.02, 0.02, 0.05, 0.01, 0.08, 0.04, 0.05))
rk <- list()
for (nm in c("small", "tied")) {
  d <- get(nm)
  rt <- suppressWarnings(ranktest(d$yi, d$vi))
  rk[[nm]] <- list(yi = d$yi, vi = d$vi, tau = num(rt$tau), pval = num(rt$pval))
}

out <- list(datasets = datasets, selmodel = sel, empty_interval_error = empty, bias = bias, ranktest_extra = rk,
            versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor"))))
txt <- toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE)
writeLines(txt, file.path("tests", "fixtures", "meta_selection.json"))
cat("wrote tests/fixtures/meta_selection.json\n")
