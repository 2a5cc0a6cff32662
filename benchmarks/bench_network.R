# R side of benchmarks/bench_network.py (not a test):
#
#   Rscript benchmarks/bench_network.R contrasts.csv V.csv method reps
#
# contrasts.csv: one row per contrast with study, comp, yi and the design columns X_<treatment>
# (treatment vs the network reference), exactly the matrices the Python side fits; V.csv: the
# k x k sampling covariance (no header). The data are read once; then
#   rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, method = method)
# (the model of tests/oracles/network.R) is timed `reps` times with metafor's default control
# and `reps` times with the oracle's tightened control (rel.tol = 1e-12, iter.max = 10000;
# when nlminb stops without convergence there, the oracle's fallbacks: rel.tol = 1e-10, then
# optim BFGS at reltol 1e-14; `tight_control` says which was used). One JSON object to stdout.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE, stringsAsFactors = FALSE)
V <- unname(as.matrix(read.csv(args[2], header = FALSE)))
method <- args[3]; reps <- as.integer(args[4])
X <- as.matrix(d[, grepl("^X_", names(d)), drop = FALSE])
yi <- d$yi

fit <- function(control) rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, data = d,
                                 method = method, control = control)
tight_fit <- function() {
  r <- tryCatch(list(fit(list(rel.tol = 1e-12, iter.max = 10000)), "nlminb rel.tol 1e-12"),
                error = function(e) NULL)
  if (is.null(r)) r <- tryCatch(list(fit(list(rel.tol = 1e-10, iter.max = 10000)), "nlminb rel.tol 1e-10"),
                                error = function(e) NULL)
  if (is.null(r)) r <- list(fit(list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)),
                            "optim BFGS reltol 1e-14")
  r
}
# the shared time_it(f, reps), from benchmarks/_timing.R beside this script
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))),
                 "_timing.R"))
summ <- function(res) list(beta = as.numeric(res$beta), se = as.numeric(res$se), tau2 = res$tau2,
                           loglik = as.numeric(logLik(res)), names = rownames(res$beta))
td <- time_it(function() fit(list()))
tt <- time_it(tight_fit)
out <- list(default = c(list(times = I(td$times)), summ(td$res)),
            tight = c(list(times = I(tt$times), control = tt$res[[2]]), summ(tt$res[[1]])),
            version = as.character(packageVersion("metafor")))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
