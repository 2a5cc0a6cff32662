# Oracle for the meta-analysis report (analysis/report.py, template
# analysis/report_templates/meta.py) on its example file data/examples/meta_molloy2014.csv.
#
# Run from the repository root:   Rscript tests/oracles/report_meta.R
# Writes tests/fixtures/report_meta.json (17 significant digits).
# Checked with R 4.2.2, metafor 3.8.1, jsonlite.
#
# Exact calls (CTRL tightens metafor's convergence, see CONTRIBUTING.md); for T in "z", "knha":
#   dat <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = read.csv(file))
#   res <- rma(yi, vi, data = dat, method = "REML", test = T, control = CTRL)
#   predict(res)                                                   # CI and prediction interval
#   confint(res, control = CTRL_CI)                                # Q-profile tau^2 CI
#   regtest(res)                                                   # Egger (predictor "sei")
#   trimfill(res, control = CTRL)                                  # L0 estimator
#   influence(res)                                                 # rstudent, cook.d, hat, inf
#   rma(yi, vi, mods = ~ meanage, data = dat, method = "REML", test = T, control = CTRL)
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

CTRL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
CTRL_CI <- list(tol = 1e-14, maxiter = 10000)
num <- function(x) as.numeric(x)

file <- file.path("data", "examples", "meta_molloy2014.csv")
dat <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = read.csv(file))

one <- function(test) {
  res <- rma(yi, vi, data = dat, method = "REML", test = test, control = CTRL)
  pr <- predict(res)
  ci <- confint(res, control = CTRL_CI)
  eg <- regtest(res)
  tf <- trimfill(res, control = CTRL)
  inf <- influence(res)
  mr <- rma(yi, vi, mods = ~ meanage, data = dat, method = "REML", test = test, control = CTRL)
  list(
    model = list(
      estimate = num(coef(res)),          # coef(res)
      se = num(res$se),                   # res$se
      statistic = num(res$zval),          # res$zval (t for knha)
      pvalue = num(res$pval),             # res$pval
      ci_low = num(res$ci.lb),            # res$ci.lb
      ci_high = num(res$ci.ub),           # res$ci.ub
      pi_low = num(pr$pi.lb),             # predict(res)$pi.lb
      pi_high = num(pr$pi.ub),            # predict(res)$pi.ub
      tau2 = num(res$tau2),               # res$tau2
      tau2_ci_low = num(ci$random["tau^2", "ci.lb"]),   # confint(res)$random
      tau2_ci_high = num(ci$random["tau^2", "ci.ub"]),
      i2 = num(res$I2),                   # res$I2
      h2 = num(res$H2),                   # res$H2
      q = num(res$QE),                    # res$QE
      q_pvalue = num(res$QEp),            # res$QEp
      k = num(res$k)
    ),
    egger = list(
      statistic = num(eg$zval),           # regtest(res)$zval
      pvalue = num(eg$pval),              # regtest(res)$pval
      limit_estimate = num(eg$est)        # regtest(res)$est
    ),
    trimfill = list(
      k0 = num(tf$k0),                    # trimfill(res)$k0
      side = tf$side,                     # trimfill(res)$side
      estimate = num(coef(tf)),           # coef(trimfill(res))
      se = num(tf$se),
      ci_low = num(tf$ci.lb),
      ci_high = num(tf$ci.ub),
      tau2 = num(tf$tau2)
    ),
    influence = list(
      rstudent = num(inf$inf$rstudent),   # influence(res)$inf$rstudent
      cook_d = num(inf$inf$cook.d),       # influence(res)$inf$cook.d
      hat = num(inf$inf$hat),             # influence(res)$inf$hat
      influential = which(inf$inf$inf == "*")  # rows flagged (1-based)
    ),
    moderators = list(
      estimate = num(coef(mr)),           # coef(rma(..., mods = ~ meanage))
      se = num(mr$se),
      pvalue = num(mr$pval),
      tau2 = num(mr$tau2),
      qm = num(mr$QM),                    # mr$QM (F for knha)
      qm_pvalue = num(mr$QMp),
      r2 = num(mr$R2),                    # pseudo R^2 in %
      i2 = num(mr$I2)
    )
  )
}

out <- list(file = file, measure = "ZCOR", metafor = as.character(packageVersion("metafor")),
            z = one("z"), knha = one("knha"))
txt <- toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE)
writeLines(txt, file.path("tests", "fixtures", "report_meta.json"))
cat("wrote tests/fixtures/report_meta.json\n")
