# R side of benchmarks/bench_psychometrics.py (not a test). Two modes:
#
#   Rscript benchmarks/bench_psychometrics.R alpha items.csv reps
#       psych::alpha(X, warnings = FALSE) on every column of items.csv (complete cases).
#   Rscript benchmarks/bench_psychometrics.R cfa items.csv reps "<lavaan model>"
#       lavaan::cfa(model, data = X, estimator = "ML") (marker identification, no mean
#       structure: the call of tests/oracles/psych_lavaan.R).
#
# The CSV is read once; the call is repeated `reps` times and timed with proc.time()
# (elapsed); one JSON object to stdout with the times, the estimates and the versions.
suppressPackageStartupMessages({library(psych); library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]; X <- read.csv(args[2]); reps <- as.integer(args[3])

time_it <- function(f) {
  times <- numeric(reps); res <- NULL
  for (i in seq_len(reps)) {
    t0 <- proc.time()[["elapsed"]]
    res <- f()
    times[i] <- proc.time()[["elapsed"]] - t0
  }
  list(times = I(times), res = res)
}

if (mode == "alpha") {
  tr <- time_it(function() psych::alpha(X, warnings = FALSE))
  a <- tr$res
  out <- list(times = tr$times, raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha,
              alpha_if_deleted = setNames(as.list(a$alpha.drop$raw_alpha), rownames(a$alpha.drop)),
              r_drop = setNames(as.list(a$item.stats$r.drop), rownames(a$item.stats)),
              version = as.character(packageVersion("psych")))
} else if (mode == "cfa") {
  model <- args[4]
  tr <- time_it(function() cfa(model, data = X, estimator = "ML"))
  f <- tr$res
  pe <- parameterEstimates(f)
  pe <- pe[pe$op %in% c("=~", "~~") & !(pe$op == "=~" & pe$se == 0), ]
  out <- list(times = tr$times, lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est, se = pe$se,
              fit = as.list(fitMeasures(f, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))),
              converged = lavInspect(f, "converged"), version = as.character(packageVersion("lavaan")))
} else {
  stop("mode must be 'alpha' or 'cfa'")
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
