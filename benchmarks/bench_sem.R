# R side of benchmarks/bench_sem.py (not a test). Two modes:
#
#   Rscript benchmarks/bench_sem.R cfa items.csv reps "<lavaan model>"
#       lavaan::cfa(model, data = X, estimator = "ML") (complete data, marker identification).
#   Rscript benchmarks/bench_sem.R invariance items.csv reps "<lavaan model>"
#       configural, metric and scalar multi-group CFA,
#       cfa(model, data = X, group = "group", estimator = "ML", group.equal = ...),
#       one timed repetition = the three fits.
#
# The CSV is read once; the call is repeated `reps` times and timed with proc.time()
# (elapsed); one JSON object to stdout with the times, the estimates and the versions.
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]; X <- read.csv(args[2]); reps <- as.integer(args[3]); model <- args[4]
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))),
                 "_timing.R"))
FM <- c("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl")
par_block <- function(f) {
  pe <- parameterEstimates(f)
  lab <- lavInspect(f, "group.label")
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = if (length(lab)) lab[pe$group] else rep("", nrow(pe)),
       est = pe$est, se = pe$se, fit = as.list(fitMeasures(f, FM)), converged = lavInspect(f, "converged"))
}
if (mode == "cfa") {
  tr <- time_it(function() cfa(model, data = X, estimator = "ML"))
  out <- c(list(times = tr$times), par_block(tr$res))
} else if (mode == "invariance") {
  equal <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"))
  tr <- time_it(function() lapply(equal, function(ge) cfa(model, data = X, group = "group", estimator = "ML",
                                                          group.equal = ge)))
  out <- list(times = tr$times, steps = lapply(tr$res, par_block))
} else {
  stop("mode must be 'cfa' or 'invariance'")
}
out$version <- as.character(packageVersion("lavaan"))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
