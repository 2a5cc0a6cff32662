# Oracle for analysis.sessions: written to tests/fixtures/sessions.json (full precision).
#   Rscript tests/oracles/sessions_lavaan.R
# 1. Lagged multilevel models (lme4::lmer, REML and ML): symptom at session t+1 on the
#    person-mean-centred alliance at t (within), the person mean (between) and the symptom
#    at t, random intercept per patient. Centring, detrending and lagging are computed
#    here with base R (ave, lm, merge), independently of the Python code.
# 2. A random-intercept cross-lagged panel model (Hamaker, Kuiper & Grasman 2015) in
#    lavaan on 5 waves (ML, normal likelihood, free lagged paths per wave), with the
#    lavaan syntax of Mulder & Hamaker (2021); fit statistics too.
# 3. The same RI-CLPM on those data with values deleted by a fixed MAR rule (written to
#    tests/fixtures/sessions_riclpm_missing.csv), fitted by FIML (lavaan missing = "ml"), with free and
#    with equal lagged paths.
# The data are generated here (seeded) and written into the fixture with the results.
suppressPackageStartupMessages({library(lme4); library(lavaan); library(jsonlite)})
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                    check.conv.singular = "ignore", check.conv.grad = "ignore", calc.derivs = FALSE)
out_path <- file.path("tests", "fixtures", "sessions.json")

# ---------------------------------------------------------------- session data (unbalanced)
set.seed(20150615)
n_pat <- 60
rows <- list()
for (i in seq_len(n_pat)) {
  T_i <- sample(6:12, 1)
  b <- rnorm(1, 0, 0.4)
  trend <- rnorm(1, 0.03, 0.03)
  a <- 3.9 + b + trend * (1:T_i) + as.numeric(arima.sim(list(ar = 0.4), T_i, sd = 0.35))
  y <- numeric(T_i)
  y0 <- 16 + rnorm(1, 0, 3)
  for (t in seq_len(T_i)) {
    prev <- if (t == 1) y0 else y[t - 1]
    prev_a <- if (t == 1) 3.9 + b else a[t - 1]
    y[t] <- 2 + 0.8 * prev - 1.2 * (prev_a - (3.9 + b)) - 1.5 * b + rnorm(1, 0, 1.5)
  }
  d <- data.frame(patient = i, session = 1:T_i, alliance = round(a, 4), symptom = round(y, 3))
  drop <- if (T_i > 7) sample(2:(T_i - 1), 1) else integer(0)  # one missing session for some
  if (length(drop) && runif(1) < 0.5) d <- d[-drop, ]
  if (runif(1) < 0.2) d$alliance[sample(nrow(d), 1)] <- NA
  rows[[i]] <- d
}
sess <- do.call(rbind, rows)
rownames(sess) <- NULL

prep <- function(d, detrend) {
  obs <- d[!is.na(d$alliance), ]
  obs$a_between <- ave(obs$alliance, obs$patient)
  if (detrend) {
    obs$a_within <- NA
    for (p in unique(obs$patient)) {
      k <- obs$patient == p
      obs$a_within[k] <- residuals(lm(alliance ~ session, data = obs[k, ]))
    }
  } else {
    obs$a_within <- obs$alliance - obs$a_between
  }
  nxt <- d[, c("patient", "session", "symptom")]
  nxt$session <- nxt$session - 1
  names(nxt)[3] <- "symptom_next"
  m <- merge(obs, nxt, by = c("patient", "session"))
  m <- m[!is.na(m$symptom) & !is.na(m$symptom_next), ]
  m[order(m$patient, m$session), ]
}

lag_fit <- function(d, reml) {
  fit <- lmer(symptom_next ~ a_within + a_between + symptom + (1 | patient), data = d, REML = reml,
              control = ctrl)
  vc <- as.data.frame(VarCorr(fit))
  list(fixef = as.list(fixef(fit)), se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
       tau2 = vc$vcov[vc$grp == "patient"], sigma2 = sigma(fit)^2,
       loglik = as.numeric(logLik(fit)), nobs = nobs(fit))
}

lagged <- list()
for (detrend in c(FALSE, TRUE)) {
  d <- prep(sess, detrend)
  key <- if (detrend) "detrended" else "centred"
  lagged[[key]] <- list(REML = lag_fit(d, TRUE), ML = lag_fit(d, FALSE),
                        a_within_head = head(d$a_within, 10), n_rows = nrow(d))
}

# ---------------------------------------------------------------- RI-CLPM, 5 waves
set.seed(2015)
N <- 400; W <- 5
ri_x <- rnorm(N, 0, 1); ri_y <- 0.4 * ri_x + rnorm(N, 0, sqrt(1 - 0.16))
wx <- matrix(0, N, W); wy <- matrix(0, N, W)
wx[, 1] <- rnorm(N); wy[, 1] <- 0.3 * wx[, 1] + rnorm(N, 0, sqrt(1 - 0.09))
for (t in 2:W) {
  wx[, t] <- 0.4 * wx[, t - 1] + 0.10 * wy[, t - 1] + rnorm(N, 0, 0.8)
  wy[, t] <- -0.20 * wx[, t - 1] + 0.35 * wy[, t - 1] + rnorm(N, 0, 0.8)
}
X <- sweep(wx, 2, c(3.8, 3.9, 4.0, 4.0, 4.1), "+") + ri_x
Y <- sweep(wy, 2, c(16, 14, 12, 11, 10), "+") * 1 + ri_y
wide <- data.frame(id = 1:N, X, Y)
names(wide) <- c("id", paste0("x", 1:W), paste0("y", 1:W))
wide[, -1] <- round(wide[, -1], 5)

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
fit <- lavaan(paste(spec, collapse = "\n"), data = wide, meanstructure = TRUE, information = "expected",
              int.ov.free = TRUE)
pe <- parameterEstimates(fit)
pe <- pe[pe$op %in% c("~", "~~") & !(pe$op == "~~" & pe$lhs == pe$rhs & grepl("^[xy][0-9]$", pe$lhs)), ]
fm <- fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "logl", "npar"))
riclpm <- list(
  wide = wide,
  params = lapply(seq_len(nrow(pe)), function(i) list(lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i],
                                                         est = pe$est[i], se = pe$se[i])),
  fit = as.list(fm),
  std_lagged = {
    ss <- standardizedSolution(fit)
    ss <- ss[ss$op == "~", ]
    lapply(seq_len(nrow(ss)), function(i) list(lhs = ss$lhs[i], rhs = ss$rhs[i], est = ss$est.std[i]))
  }
)

# ---------------------------------------------------------------- RI-CLPM with missing waves, FIML
# The same 400 x 5 data with values deleted by a fixed MAR rule (set.seed(2021)); the result is
# written to tests/fixtures/sessions_riclpm_missing.csv (wide, empty = missing):
#   a. dropout: a person still present at wave t-1 (t = 2..5) leaves before wave t (x_t..x_5 and
#      y_t..y_5 missing) with probability plogis(-2.2 + 0.9 * (y_{t-1} - m_{t-1})), m = (16, 14, 12, 11)
#      the generating wave means of y: depends on the observed y at t-1 only (MAR);
#   b. intermittent: x_t (t = 2, 3, 4) of a person still present is missing with probability
#      plogis(-2.5 + 0.7 * (y_1 - 16)) (y_1 is always observed: MAR);
#   c. persons 399 and 400 have no observed value at all (lavaan drops empty cases).
# lavaan::lavaan(..., missing = "ml") at its defaults (observed information, EM for the h1 model).
set.seed(2021)
wm <- wide
m_y <- c(16, 14, 12, 11)
present <- rep(TRUE, N)
for (t in 2:W) {
  leave <- present & (runif(N) < plogis(-2.2 + 0.9 * (wm[[paste0("y", t - 1)]] - m_y[t - 1])))
  present <- present & !leave
  for (s in t:W) {
    wm[[paste0("x", s)]][leave] <- NA
    wm[[paste0("y", s)]][leave] <- NA
  }
}
u_int <- matrix(runif(N * 3), N, 3)
for (t in 2:4) {
  gone <- u_int[, t - 1] < plogis(-2.5 + 0.7 * (wide$y1 - 16))
  wm[[paste0("x", t)]][gone] <- NA
}
wm[N - 1:0, -1] <- NA
write.csv(wm, file.path("tests", "fixtures", "sessions_riclpm_missing.csv"), row.names = FALSE, na = "")

ml_fit <- function(model) {
  f <- suppressWarnings(lavaan(model, data = wm, meanstructure = TRUE, int.ov.free = TRUE, missing = "ml"))
  pe <- parameterEstimates(f)
  pe <- pe[pe$op %in% c("~", "~~", "~1") & !(pe$op == "~~" & pe$lhs == pe$rhs & grepl("^[xy][0-9]$", pe$lhs)) &
             !(pe$op == "~1" & !grepl("^[xy][0-9]$", pe$lhs)), ]
  pe <- pe[!duplicated(pe[, c("lhs", "op", "rhs")]), ]
  fm <- fitMeasures(f, c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "srmr_bentler", "logl",
                         "unrestricted.logl", "npar", "ntotal", "baseline.chisq", "baseline.df"))
  opt <- lavInspect(f, "options")
  list(params = lapply(seq_len(nrow(pe)), function(i) list(lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i],
                                                           est = pe$est[i], se = pe$se[i])),
       fit = as.list(fm), converged = lavInspect(f, "converged"),
       information = opt$information[1], observed_information = opt$observed.information[1],
       n_patterns = nrow(lavInspect(f, "patterns")),
       h1_mean = as.numeric(lavInspect(f, "sampstat")$mean), h1_cov = unname(lavInspect(f, "sampstat")$cov[, ]))
}
spec_c <- spec
spec_c[grepl("^w[xy][0-9] ~ ", spec_c)] <- c(paste0("wx", 2:W, " ~ a*wx", 1:(W - 1), " + b*wy", 1:(W - 1)),
                                              paste0("wy", 2:W, " ~ c*wx", 1:(W - 1), " + d*wy", 1:(W - 1)))
riclpm_ml <- list(
  csv = "sessions_riclpm_missing.csv",
  rule = paste("MAR dropout after wave t-1 with p = plogis(-2.2 + 0.9 (y_{t-1} - m_{t-1})), m = 16, 14, 12, 11;",
               "x_t (t = 2..4) missing with p = plogis(-2.5 + 0.7 (y_1 - 16)); persons 399, 400 empty; set.seed(2021)"),
  n_observed_values = sum(!is.na(wm[, -1])),
  free = ml_fit(paste(spec, collapse = "\n")),
  constrained = ml_fit(paste(spec_c, collapse = "\n"))
)

out <- list(
  meta = list(R = paste(R.version$major, R.version$minor, sep = "."),
              lme4 = as.character(packageVersion("lme4")), lavaan = as.character(packageVersion("lavaan"))),
  sessions = sess, lagged = lagged, riclpm = riclpm, riclpm_ml = riclpm_ml
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", dataframe = "columns", pretty = TRUE),
           out_path)
message("wrote ", out_path)
