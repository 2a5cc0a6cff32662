# R side of benchmarks/bench_meta.py:  Rscript benchmarks/bench_meta.R data.csv n_reps n_runs
# Times n_reps calls of rma(REML) inside system.time, n_runs times, and prints the best
# mean seconds per fit and the tau^2 estimate (metafor builds k x k matrices: at k = 3000
# one fit takes minutes, so the caller uses n_reps = n_runs = 1 there).
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); n <- as.integer(args[2]); runs <- as.integer(args[3])
CTRL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
best <- Inf
for (r in seq_len(runs)) {
  tt <- system.time(for (i in seq_len(n)) res <- rma(d$yi, d$vi, method = "REML", control = CTRL))[["elapsed"]]
  best <- min(best, tt / n)
}
cat(sprintf("%.9g %.17g\n", best, res$tau2))
