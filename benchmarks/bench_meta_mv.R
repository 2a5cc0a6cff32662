# R side of benchmarks/bench_meta_mv.py (not a test):
#
#   Rscript benchmarks/bench_meta_mv.R data.csv reps sparse [mods]
#
# data.csv: study, es_id, yi, vi and the moderators (one row per effect size). mods: the moderator
# formula as text (default "~ x"; the Metapsy row passes "~ 0 + factor(type, levels = c(...))"). The data are read once; then the CHE
# recipe (Pustejovsky & Tipton, 2022) is timed `reps` times, each step separately:
#   V   <- vcalc(vi, cluster = study, obs = es_id, rho = 0.6, data = d, sparse = SPARSE)
#   res <- rma.mv(yi, V, mods = MODS, random = ~ 1 | study/es_id, data = d, sparse = SPARSE)  # default control
#   ct  <- coef_test(res, vcov = "CR2", cluster = d$study)                                  # clubSandwich
# `sparse` = TRUE/FALSE is metafor's own option (sparse matrices throughout). One JSON object to stdout.
suppressPackageStartupMessages({library(metafor); library(clubSandwich); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
reps <- as.integer(args[2]); sparse <- as.logical(args[3])
mods <- as.formula(if (length(args) >= 4) args[4] else "~ x")
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))),
                 "_timing.R"))
tv <- time_it(function() vcalc(vi, cluster = study, obs = es_id, rho = 0.6, data = d, sparse = sparse))
V <- tv$res
tf <- time_it(function() rma.mv(yi, V, mods = mods, random = ~ 1 | study/es_id, data = d, sparse = sparse))
res <- tf$res
tc <- time_it(function() coef_test(res, vcov = "CR2", cluster = d$study))
ct <- tc$res
cat(toJSON(list(vcalc = I(tv$times), rma_mv = I(tf$times), coef_test = I(tc$times),
                beta = as.numeric(res$beta), sigma2 = as.numeric(res$sigma2), loglik = as.numeric(logLik(res)),
                se_cr2 = as.numeric(ct$SE), df_cr2 = as.numeric(ct$df_Satt), p_cr2 = as.numeric(ct$p_Satt),
                metafor = as.character(packageVersion("metafor")),
                clubSandwich = as.character(packageVersion("clubSandwich"))),
           digits = NA, auto_unbox = TRUE))
