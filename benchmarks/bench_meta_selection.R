# R side of benchmarks/bench_meta_selection.py (not a test):
#
#   Rscript benchmarks/bench_meta_selection.R data.csv reps control [models]
#
# data.csv: yi, vi (one row per study). The ML random-effects fit is made once (not timed):
#   res <- rma(yi, vi, method = "ML", control = list(threshold = 1e-12, maxiter = 10000, tol = 1e-14))
# then each selection model is timed `reps` times:
#   selmodel(res, type = "stepfun", steps = 0.025, control = SCTRL)
#   selmodel(res, type = "halfnorm", control = SCTRL)
# control = "default": SCTRL = list() (metafor's defaults, what a user runs); "tight": the oracle's
#   list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-6, npar), intCtrl = list(rel.tol = 1e-10,
#   subdivisions = 1000L)) of tests/oracles/meta_selection.R. models: comma-separated subset of
#   stepfun,halfnorm (default both). One JSON object to stdout.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[2]); tight <- identical(args[3], "tight")
models <- if (length(args) >= 4) strsplit(args[4], ",")[[1]] else c("stepfun", "halfnorm")
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))),
                 "_timing.R"))
res <- rma(yi, vi, data = d, method = "ML", control = list(threshold = 1e-12, maxiter = 10000, tol = 1e-14))
sctrl <- function(npar) if (tight) list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-6, npar),
                                        intCtrl = list(rel.tol = 1e-10, subdivisions = 1000L)) else list()
info <- function(t) {
  s <- t$res
  list(times = I(t$times), beta = as.numeric(s$beta), se = as.numeric(s$se), tau2 = as.numeric(s$tau2),
       se_tau2 = as.numeric(s$se.tau2), delta = I(as.numeric(s$delta)), se_delta = I(as.numeric(s$se.delta)),
       ll = as.numeric(s$ll), LRT = as.numeric(s$LRT))
}
out <- list(metafor = as.character(packageVersion("metafor")))
# npar as in the oracle: p + 1 (tau^2) + number of deltas (2 for one cut-point, delta_1 included)
if ("stepfun" %in% models)
  out$stepfun <- info(time_it(function() selmodel(res, type = "stepfun", steps = 0.025, control = sctrl(4))))
if ("halfnorm" %in% models)
  out$halfnorm <- info(time_it(function() selmodel(res, type = "halfnorm", control = sctrl(3))))
cat(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null"))
