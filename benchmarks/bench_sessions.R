# R side of benchmarks/bench_sessions.py (not a test). Two modes:
#
#   Rscript benchmarks/bench_sessions.R lagged long.csv reps
#       Lagged within/between model, as tests/oracles/sessions_lavaan.R fits it: person-mean
#       centring (ave), the next session's symptom (merge on session - 1), then
#       lmer(symptom_next ~ a_within + a_between + symptom + (1 | patient), REML = TRUE),
#       once with lme4's default settings and once with the oracle's tight bobyqa control.
#       Each timed repetition covers the preparation and the fit (the Python side does both).
#   Rscript benchmarks/bench_sessions.R riclpm wide.csv reps
#       RI-CLPM (Hamaker et al. 2015) with the oracle's lavaan syntax and options
#       (ML, meanstructure, expected information) on the wide data x1..xW, y1..yW.
#   Rscript benchmarks/bench_sessions.R riclpm_ml wide.csv reps
#       The same RI-CLPM by full-information ML on wide data with missing values (empty
#       cells), with the options of the oracle's `riclpm_ml` block: lavaan(..., meanstructure
#       = TRUE, int.ov.free = TRUE, missing = "ml") at lavaan's defaults otherwise (observed
#       information, EM for the h1 model); warnings suppressed as there.
#
# The CSV is read once; the fits are repeated `reps` times and timed with proc.time()
# (elapsed); one JSON object goes to stdout: times, estimates and versions.
suppressPackageStartupMessages({library(lme4); library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]; d <- read.csv(args[2]); reps <- as.integer(args[3])

# the shared time_it(f, reps), from benchmarks/_timing.R beside this script
source(file.path(dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))),
                 "_timing.R"))

if (mode == "lagged") {
  prep <- function(d) {
    obs <- d[!is.na(d$alliance), ]
    obs$a_between <- ave(obs$alliance, obs$patient)
    obs$a_within <- obs$alliance - obs$a_between
    nxt <- d[, c("patient", "session", "symptom")]
    nxt$session <- nxt$session - 1
    names(nxt)[3] <- "symptom_next"
    m <- merge(obs, nxt, by = c("patient", "session"))
    m[!is.na(m$symptom) & !is.na(m$symptom_next), ]
  }
  tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                       check.conv.singular = "ignore", check.conv.grad = "ignore", calc.derivs = FALSE)
  fit_with <- function(ctrl) function() {
    m <- prep(d)
    if (is.null(ctrl)) lmer(symptom_next ~ a_within + a_between + symptom + (1 | patient), data = m, REML = TRUE)
    else lmer(symptom_next ~ a_within + a_between + symptom + (1 | patient), data = m, REML = TRUE, control = ctrl)
  }
  summ <- function(tr) {
    fit <- tr$res
    vc <- as.data.frame(VarCorr(fit))
    list(times = tr$times, fixef = as.list(fixef(fit)), se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
         tau2 = vc$vcov[vc$grp == "patient"], sigma2 = sigma(fit)^2, loglik = as.numeric(logLik(fit)),
         nobs = nobs(fit))
  }
  out <- list(default = summ(time_it(fit_with(NULL))), tight = summ(time_it(fit_with(tight))),
              version = as.character(packageVersion("lme4")))
} else if (mode %in% c("riclpm", "riclpm_ml")) {
  W <- sum(grepl("^x[0-9]+$", names(d)))
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
  model <- paste(spec, collapse = "\n")
  if (mode == "riclpm") {
    tr <- time_it(function() lavaan(model, data = d, meanstructure = TRUE, information = "expected",
                                    int.ov.free = TRUE))
    fm_names <- c("chisq", "df", "cfi", "tli", "rmsea", "srmr")
    ops <- c("~", "~~")
  } else {
    tr <- time_it(function() suppressWarnings(lavaan(model, data = d, meanstructure = TRUE, int.ov.free = TRUE,
                                                     missing = "ml")))
    fm_names <- c("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "unrestricted.logl", "ntotal")
    ops <- c("~", "~~", "~1")
  }
  fit <- tr$res
  pe <- parameterEstimates(fit)
  pe <- pe[pe$op %in% ops & !(pe$op == "~~" & pe$lhs == pe$rhs & grepl("^[xy][0-9]+$", pe$lhs)) &
             !(pe$op == "~1" & !grepl("^[xy][0-9]+$", pe$lhs)), ]
  fm <- fitMeasures(fit, fm_names)
  out <- list(times = tr$times, lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est, se = pe$se,
              fit = as.list(fm), converged = lavInspect(fit, "converged"),
              n_patterns = if (mode == "riclpm_ml") nrow(lavInspect(fit, "patterns")) else 1L,
              version = as.character(packageVersion("lavaan")))
} else {
  stop("mode must be 'lagged', 'riclpm' or 'riclpm_ml'")
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
