# Oracle for analysis.sem.robust (estimator = "MLR": Huber-White SEs, Yuan-Bentler scaled test
# "yuan.bentler.mplus", scaled and robust CFI/TLI/RMSEA) on data made here with a fixed seed:
#   Rscript tests/oracles/sem_mlr.R
# Data (written to tests/fixtures/sem_mlr.csv; empty = missing): N = 300, two correlated factors
# with three indicators each, skewed non-normal factors and errors (centred chi-square(2) and
# exponential draws), so that the robust and the normal-theory results differ. Column `y1`..`y6`
# are complete (the CFA omits an error covariance and a cross-loading of the generating model, so it misfits); `m1`..`m6` are the same values with values deleted by a MAR rule
# (y_j, j = 2..6, missing with probability plogis(-1.5 + 0.8 * y1); y1 always observed), plus
# one row without any observed value (lavaan drops it).
# 1. complete: cfa(model, data, estimator = "MLR")            (lavaan defaults for MLR)
# 2. missing:  cfa(model, data, estimator = "MLR", missing = "ml")
# 3. multigroup: complete y1..y6 in two groups g = rep(c("a", "b"), 150) (alternate rows, not in the CSV),
#    cfa(model, data, group = "g", group.equal = "loadings", estimator = "MLR")
# 4. riclpm_fiml: the RI-CLPM by MLR with FIML on tests/fixtures/sessions_riclpm_missing.csv (below)
# Each value is what the R call in the comment beside it returns (full precision JSON).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
set.seed(20240607)
n <- 300
f1 <- (rchisq(n, 2) - 2) / 2
f2 <- 0.5 * f1 + sqrt(0.75) * (rexp(n) - 1)
e <- matrix((rchisq(n * 6, 3) - 3) / sqrt(6), n) * 0.6
e[, 5] <- e[, 5] + 0.6 * e[, 2]  # an error covariance the model omits (misfit)
Y <- cbind(f1, 0.8 * f1, 1.2 * f1, f2, 0.7 * f2, 0.9 * f2 + 0.3 * f1) + e  # and a cross-loading
Y <- sweep(Y, 2, c(2, 3, 1, 0.5, 4, 2), "+")
Y <- round(Y, 5)
colnames(Y) <- paste0("y", 1:6)
M <- Y
for (j in 2:6) {
  gone <- runif(n) < plogis(-1.5 + 0.8 * (Y[, 1] - 2))
  M[gone, j] <- NA
}
M[n, ] <- NA
colnames(M) <- paste0("m", 1:6)
dat <- data.frame(Y, M)
write.csv(dat, file.path("tests", "fixtures", "sem_mlr.csv"), row.names = FALSE, na = "")
model_y <- "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6"
model_m <- "f1 =~ m1 + m2 + m3\nf2 =~ m4 + m5 + m6"
fm_names <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
              "baseline.chisq", "baseline.df", "baseline.chisq.scaled", "baseline.chisq.scaling.factor",
              "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
              "rmsea", "rmsea.scaled", "rmsea.robust", "srmr", "logl", "unrestricted.logl", "npar", "ntotal")
one <- function(model, data, missing, group = NULL, group.equal = "") {
  fit <- cfa(model, data = data, estimator = "MLR", missing = missing, group = group, group.equal = group.equal)
  pe <- parameterEstimates(fit)
  fm <- fitMeasures(fit)
  fm <- fm[intersect(fm_names, names(fm))]
  list(
    call = sprintf('cfa(model, data, estimator = "MLR", missing = "%s")', missing),
    options = list(information = lavInspect(fit, "options")$information,
                   observed.information = lavInspect(fit, "options")$observed.information,
                   h1.information = lavInspect(fit, "options")$h1.information,
                   test = lavInspect(fit, "options")$test, se = lavInspect(fit, "options")$se),
    converged = lavInspect(fit, "converged"),
    # parameterEstimates(fit): est, se (robust.huber.white)
    params = lapply(seq_len(nrow(pe)), function(i) list(lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i],
                                                         group = if (is.null(pe$group)) 1L else pe$group[i],
                                                         est = pe$est[i], se = pe$se[i])),
    # fitMeasures(fit)[...]
    fit = as.list(fm),
    # the ML standard errors for comparison: cfa(..., estimator = "ML", missing = ...)
    se_ml = parameterEstimates(cfa(model, data = data, estimator = "ML", missing = missing, group = group,
                                   group.equal = group.equal))$se
  )
}
out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  csv = "sem_mlr.csv",
  complete = one(model_y, dat, "listwise"),
  missing = one(model_m, dat, "ml"),
  multigroup = one(model_y, transform(dat, g = rep(c("a", "b"), n / 2)), "listwise", group = "g",
                   group.equal = "loadings")
)
# 4. The RI-CLPM of analysis.sessions (syntax of tests/oracles/sessions_lavaan.R, 5 waves) by MLR with FIML
#    on tests/fixtures/sessions_riclpm_missing.csv:
#    lavaan(model, data, meanstructure = TRUE, int.ov.free = TRUE, missing = "ml", estimator = "MLR")
wm <- read.csv(file.path("tests", "fixtures", "sessions_riclpm_missing.csv"))
W <- 5
spec <- c(
  paste0("RIx =~ ", paste0("1*x", 1:W, collapse = " + ")),
  paste0("RIy =~ ", paste0("1*y", 1:W, collapse = " + ")),
  paste0("wx", 1:W, " =~ 1*x", 1:W),
  paste0("wy", 1:W, " =~ 1*y", 1:W),
  paste0("wx", 2:W, " ~ wx", 1:(W - 1), " + wy", 1:(W - 1)),
  paste0("wy", 2:W, " ~ wx", 1:(W - 1), " + wy", 1:(W - 1)),
  "wx1 ~~ wy1", paste0("wx", 2:W, " ~~ wy", 2:W),
  "RIx ~~ RIx", "RIy ~~ RIy", "RIx ~~ RIy",
  "wx1 ~~ wx1", "wy1 ~~ wy1", paste0("wx", 2:W, " ~~ wx", 2:W), paste0("wy", 2:W, " ~~ wy", 2:W)
)
rf <- suppressWarnings(lavaan(paste(spec, collapse = "\n"), data = wm, meanstructure = TRUE, int.ov.free = TRUE,
                              missing = "ml", estimator = "MLR"))
pe <- parameterEstimates(rf)
pe <- pe[pe$op %in% c("~", "~~", "~1") & !(pe$op == "~~" & pe$lhs == pe$rhs & grepl("^[xy][0-9]$", pe$lhs)) &
           !(pe$op == "~1" & !grepl("^[xy][0-9]$", pe$lhs)) & !(pe$op == "~~" & pe$se == 0), ]
out$riclpm_fiml <- list(
  call = 'lavaan(model, data, meanstructure = TRUE, int.ov.free = TRUE, missing = "ml", estimator = "MLR")',
  converged = lavInspect(rf, "converged"),
  params = lapply(seq_len(nrow(pe)), function(i) list(lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i],
                                                       est = pe$est[i], se = pe$se[i])),
  fit = as.list(fitMeasures(rf)[intersect(fm_names, names(fitMeasures(rf)))])
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path("tests", "fixtures", "sem_mlr.json"))
