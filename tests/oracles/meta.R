# Oracle for analysis/meta.py, analysis/meta_bias.py and analysis/meta_multilevel.py.
#
# Run from the repository root:   Rscript tests/oracles/meta.R
# Writes tests/fixtures/meta_uni.json, meta_reg.json, meta_sens.json and meta_mv.json
# (all numbers with 17 significant digits, inputs included so the tests need no R).
# Checked with R 4.2.2, metafor 3.8.1, metadat, jsonlite.
#
# Exact calls (CTRL and CTRL_MV tighten metafor's convergence, see CONTRIBUTING.md):
#   CTRL    <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
#   CTRL_MV <- list(rel.tol = 1e-12, iter.max = 10000)
#   res <- rma(yi, vi, method = M, test = T, control = CTRL)              # M in FE DL REML ML PM HE SJ
#   confint(res, control = list(tol = 1e-14, maxiter = 10000))            # Q-profile tau^2 CI
#   predict(res)                                                          # PI
#   rma(yi, vi, mods = ~ ablat + year, data = bcg, method = M, test = T, control = CTRL)
#   rma(yi, vi, mods = ~ alloc, ...)                                      # categorical moderator
#   leave1out(res); influence(res); regtest(res); trimfill(res, estimator = E, control = CTRL);
#   cumul(res)
#   rma.mv(yi, vi, random = ~ 1 | district/school, data = dat.konstantopoulos2011,
#          method = "REML", test = "z" or "t", control = CTRL_MV)
#   confint(res_mv, control = list(tol = 1e-12))                            # profile CIs
#   rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district/school, ...)
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

CTRL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
CTRL_CI <- list(tol = 1e-14, maxiter = 10000)
CTRL_MV <- list(rel.tol = 1e-12, iter.max = 10000)
METHODS <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ")
TESTS <- c("z", "knha")

out_path <- function(name) file.path("tests", "fixtures", name)
write_fixture <- function(obj, name) {
  txt <- toJSON(obj, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE)
  writeLines(txt, out_path(name))
  cat("wrote", out_path(name), "\n")
}
num <- function(x) as.numeric(x)

# ---------------------------------------------------------------- datasets
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
              data = dat.bcg)
mol <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
nor <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
              m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
homog <- data.frame(yi = c(0.10, 0.12, 0.11, 0.09, 0.105, 0.095),
                    vi = c(0.04, 0.05, 0.03, 0.06, 0.045, 0.035))
k2 <- data.frame(yi = bcg$yi[1:2], vi = bcg$vi[1:2])
dom <- data.frame(yi = bcg$yi, vi = bcg$vi)
dom$vi[4] <- 1e-6

datasets <- list(
  bcg = data.frame(yi = num(bcg$yi), vi = num(bcg$vi)),
  molloy2014 = data.frame(yi = num(mol$yi), vi = num(mol$vi)),
  normand1999 = data.frame(yi = num(nor$yi), vi = num(nor$vi)),
  homogeneous = homog,
  k2 = k2,
  dominating = dom
)

fit_info <- function(res) {
  pr <- predict(res)
  out <- list(
    estimate = num(res$beta), se = num(res$se), statistic = num(res$zval),
    pvalue = num(res$pval), ci_low = num(res$ci.lb), ci_high = num(res$ci.ub),
    tau2 = num(res$tau2), i2 = num(res$I2), h2 = num(res$H2), q = num(res$QE),
    q_df = res$k - res$p, q_pvalue = num(res$QEp), pi_low = num(pr$pi.lb),
    pi_high = num(pr$pi.ub), weights = num(weights(res)), vt = num(res$vt),
    s2w = num(res$s2w)
  )
  if (!(res$method %in% c("FE", "EE", "CE")) && res$k > res$p) {
    ci <- confint(res, control = CTRL_CI)
    out$tau2_ci <- num(ci$random["tau^2", c("ci.lb", "ci.ub")])
    out$i2_ci <- num(ci$random["I^2(%)", c("ci.lb", "ci.ub")])
    out$h2_ci <- num(ci$random["H^2", c("ci.lb", "ci.ub")])
  }
  out
}

# --------------------------------------------------------- univariate fits
uni <- list()
for (dname in names(datasets)) {
  d <- datasets[[dname]]
  fits <- list()
  for (m in METHODS) for (t in TESTS) {
    res <- suppressWarnings(rma(d$yi, d$vi, method = m, test = t, control = CTRL))
    fits[[paste(m, t, sep = "_")]] <- fit_info(res)
  }
  uni[[dname]] <- list(yi = d$yi, vi = d$vi, fits = fits)
}
write_fixture(uni, "meta_uni.json")

# ---------------------------------------------------------- meta-regression
reg_info <- function(res) {
  out <- list(
    coef_names = rownames(res$beta), estimate = num(res$beta), se = num(res$se),
    statistic = num(res$zval), pvalue = num(res$pval), ci_low = num(res$ci.lb),
    ci_high = num(res$ci.ub), tau2 = num(res$tau2), i2 = num(res$I2), h2 = num(res$H2),
    qe = num(res$QE), qe_df = res$k - res$p, qe_pvalue = num(res$QEp),
    qm = num(res$QM), qm_df = num(res$QMdf), qm_pvalue = num(res$QMp),
    r2 = if (is.null(res$R2)) NULL else num(res$R2)
  )
  if (!(res$method %in% c("FE", "EE", "CE"))) {
    ci <- confint(res, control = CTRL_CI)
    out$tau2_ci <- num(ci$random["tau^2", c("ci.lb", "ci.ub")])
  }
  out
}
bcg_data <- data.frame(yi = num(bcg$yi), vi = num(bcg$vi), ablat = bcg$ablat,
                       year = bcg$year, alloc = as.character(bcg$alloc))
reg <- list(data = bcg_data, fits = list())
for (m in METHODS) for (t in TESTS) {
  r1 <- suppressWarnings(rma(yi, vi, mods = ~ ablat + year, data = bcg_data,
                             method = m, test = t, control = CTRL))
  r2 <- suppressWarnings(rma(yi, vi, mods = ~ alloc, data = bcg_data,
                             method = m, test = t, control = CTRL))
  reg$fits[[paste("ablat_year", m, t, sep = "_")]] <- reg_info(r1)
  reg$fits[[paste("alloc", m, t, sep = "_")]] <- reg_info(r2)
}
# singular design: R drops the redundant column (we raise instead)
bcg_data$ablat2 <- 2 * bcg_data$ablat
rs <- suppressWarnings(rma(yi, vi, mods = ~ ablat + ablat2, data = bcg_data,
                           method = "REML", control = CTRL))
reg$singular <- list(coef_names = rownames(rs$beta), estimate = num(rs$beta))
bcg_data$ablat2 <- NULL
# subgroups by allocation: (a) one tau^2 (mixed-effects test of moderators),
# (b) separate tau^2 per subgroup, then a fixed-effect test between subgroup estimates
sub <- list()
for (m in c("REML", "DL")) {
  mixed <- rma(yi, vi, mods = ~ factor(alloc), data = bcg_data, method = m, control = CTRL)
  groups <- sort(unique(bcg_data$alloc))
  per <- lapply(groups, function(g) {
    r <- rma(yi, vi, data = bcg_data, subset = alloc == g, method = m, control = CTRL)
    list(group = g, k = r$k, estimate = num(r$beta), se = num(r$se),
         ci_low = num(r$ci.lb), ci_high = num(r$ci.ub), tau2 = num(r$tau2),
         i2 = num(r$I2), q = num(r$QE), q_pvalue = num(r$QEp))
  })
  est <- sapply(per, function(z) z$estimate)
  ses <- sapply(per, function(z) z$se)
  sep <- rma(est, sei = ses, mods = ~ factor(groups), method = "FE", control = CTRL)
  sub[[m]] <- list(groups = per,
                   mixed = list(qm = num(mixed$QM), qm_df = num(mixed$QMdf[1]),
                                qm_pvalue = num(mixed$QMp), tau2 = num(mixed$tau2)),
                   separate = list(qb = num(sep$QM), qb_df = num(sep$QMdf[1]),
                                   qb_pvalue = num(sep$QMp)))
}
reg$subgroups <- sub
write_fixture(reg, "meta_reg.json")

# ---------------------------------------------------- sensitivity and bias
sens_info <- function(d, m, t) {
  res <- rma(d$yi, d$vi, method = m, test = t, control = CTRL)
  l1 <- leave1out(res)
  inf <- influence(res)
  rt <- regtest(res)
  cu <- cumul(res)
  tf <- list()
  for (est in c("L0", "R0")) {
    f <- suppressWarnings(trimfill(res, estimator = est, control = CTRL))
    tf[[est]] <- list(k0 = f$k0, side = f$side, estimate = num(f$beta), se = num(f$se),
                      ci_low = num(f$ci.lb), ci_high = num(f$ci.ub), tau2 = num(f$tau2),
                      pvalue = num(f$pval), yi = num(f$yi), vi = num(f$vi),
                      fill = f$fill)
  }
  list(
    leave1out = list(estimate = num(l1$estimate), se = num(l1$se), statistic = num(if (is.null(l1$zval)) l1$tval else l1$zval),
                     pvalue = num(l1$pval), ci_low = num(l1$ci.lb), ci_high = num(l1$ci.ub),
                     q = num(l1$Q), q_pvalue = num(l1$Qp), tau2 = num(l1$tau2),
                     i2 = num(l1$I2), h2 = num(l1$H2)),
    influence = list(rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
                     cook_d = num(inf$inf$cook.d), cov_r = num(inf$inf$cov.r),
                     tau2_del = num(inf$inf$tau2.del), qe_del = num(inf$inf$QE.del),
                     hat = num(inf$inf$hat), weight = num(inf$inf$weight),
                     dfbetas = num(inf$dfbs$intrcpt)),
    regtest = list(statistic = num(rt$zval), pvalue = num(rt$pval), df = num(rt$dfs),
                   limit_estimate = num(rt$est), limit_ci_low = num(rt$ci.lb),
                   limit_ci_high = num(rt$ci.ub)),
    trimfill = tf,
    cumul = list(estimate = num(cu$estimate), se = num(cu$se), statistic = num(if (is.null(cu$zval)) cu$tval else cu$zval),
                 pvalue = num(cu$pval), ci_low = num(cu$ci.lb), ci_high = num(cu$ci.ub),
                 q = num(cu$Q), q_pvalue = num(cu$Qp), tau2 = num(cu$tau2),
                 i2 = num(cu$I2), h2 = num(cu$H2))
  )
}
sens <- list()
for (dname in c("bcg", "molloy2014", "normand1999")) {
  d <- datasets[[dname]]
  fits <- list()
  for (m in c("REML", "DL", "FE")) for (t in TESTS) {
    fits[[paste(m, t, sep = "_")]] <- suppressWarnings(sens_info(d, m, t))
  }
  sens[[dname]] <- list(yi = d$yi, vi = d$vi, fits = fits)
}
write_fixture(sens, "meta_sens.json")

# ------------------------------------------------------------ three-level
kon <- dat.konstantopoulos2011
W <- diag(1 / kon$vi)
mv_info <- function(res) {
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  denom <- sum(res$sigma2) + (res$k - res$p) / sum(diag(P))
  ci <- suppressWarnings(confint(res, control = list(tol = 1e-12)))
  list(coef_names = rownames(res$beta), estimate = num(res$beta), se = num(res$se),
       statistic = num(res$zval), pvalue = num(res$pval), ci_low = num(res$ci.lb),
       ci_high = num(res$ci.ub), sigma2 = num(res$sigma2),
       # profile-likelihood CIs (metafor may fail to find a bound: then null)
       sigma2_ci_low = c(num(ci[[1]]$random[1, "ci.lb"]), num(ci[[2]]$random[1, "ci.lb"])),
       sigma2_ci_high = c(num(ci[[1]]$random[1, "ci.ub"]), num(ci[[2]]$random[1, "ci.ub"])),
       qe = num(res$QE), qe_df = res$k - res$p, qe_pvalue = num(res$QEp),
       qm = num(res$QM), qm_pvalue = num(res$QMp),
       i2_levels = num(100 * res$sigma2 / denom), i2_total = num(100 * sum(res$sigma2) / denom),
       loglik_reml = num(logLik(res)))
}
mv <- list(data = data.frame(yi = kon$yi, vi = kon$vi, district = kon$district,
                             school = kon$school, year = kon$year, year_c = kon$year - 1990),
           fits = list())
for (t in c("z", "t")) {
  r0 <- rma.mv(yi, vi, random = ~ 1 | district/school, data = kon, method = "REML",
               test = t, control = CTRL_MV)
  mv$fits[[paste("intercept", t, sep = "_")]] <- mv_info(r0)
}
kon$year_c <- kon$year - 1990  # centred: nlminb fails at rel.tol 1e-12 with raw years
r1 <- rma.mv(yi, vi, mods = ~ year_c, random = ~ 1 | district/school, data = kon,
             method = "REML", control = CTRL_MV)
mv$fits[["year_z"]] <- suppressWarnings(mv_info(r1))
write_fixture(mv, "meta_mv.json")
