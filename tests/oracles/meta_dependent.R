# Oracle for analysis/meta_dependent.py (vcalc, aggregate), analysis/meta_mv.py (rma_mv)
# and analysis/robust.py (CR0/CR1/CR2, Satterthwaite df, HTZ Wald tests, the CHE recipe).
#
# Run from the repository root:   Rscript tests/oracles/meta_dependent.R
# Writes tests/fixtures/meta_dependent.json (17 significant digits, inputs included so that
# the tests need no R). Checked with R 4.2.2, metafor 3.8.1, clubSandwich 0.5.8, metadat.
#
# Exact calls (CTRL_MV tightens metafor's convergence, see CONTRIBUTING.md):
#   CTRL_MV <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)
#   V   <- vcalc(vi, cluster = study, obs = esid, rho = 0.6, data = dat)      # and the variants below
#   agg <- aggregate(escalc(yi = yi, vi = vi, data = dat), cluster = study, rho = 0.6)  # struct "CS"
#   res <- rma.mv(yi, V, mods = MODS, random = ~ 1 | study/esid, data = dat,
#                 method = M, test = T, control = CTRL_MV)
#   predict(res); ranef(res); confint(res, control = list(tol = 1e-12))      # profile-likelihood CIs
#   coef_test(res, vcov = "CR2", cluster = dat$study)                        # also CR0, CR1
#   Wald_test(res, constraints = constrain_zero(2:3), vcov = "CR2", test = "HTZ")
#   rma(yi, vi, mods = ~ year + overt, data = dat, method = "REML"); coef_test(., "CR2", cluster = study)
suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})

CTRL_MV <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)
CTRL_CI <- list(tol = 1e-12)
# nlminb stops with "convergence = 1" at rel.tol = 1e-12 on some of these fits: fall back to
# 1e-10 and then 1e-8, and record the control actually used in the fixture ("control").
CTRL_FALLBACK <- list(CTRL_MV, list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000),
                      list(rel.tol = 1e-8, iter.max = 10000, eval.max = 10000))
fit_mv <- function(V, data, ...) {  # data must hold the column yi
  for (ctl in CTRL_FALLBACK) {
    r <- tryCatch(rma.mv(yi, V, data = data, ..., control = ctl), error = function(e) NULL)
    if (!is.null(r)) { r$ctl_used <- ctl$rel.tol; return(r) }
  }
  stop("rma.mv did not converge")
}
num <- function(x) as.numeric(x)
out_path <- file.path("tests", "fixtures", "meta_dependent.json")

# lower-triangle (i >= j) non-zero entries of a block-diagonal matrix, 0-based indices
triplets <- function(V) {
  V <- as.matrix(V)
  idx <- which(lower.tri(V, diag = TRUE) & V != 0, arr.ind = TRUE)
  list(i = num(idx[, 1] - 1), j = num(idx[, 2] - 1), value = num(V[idx]))
}

# ---------------------------------------------------------------- vcalc variants
set.seed(20261129)
vdat <- data.frame(
  cluster = rep(c("a", "b", "c", "d"), times = c(4, 3, 1, 5)),
  obs = c(1, 2, 3, 4, 1, 2, 3, 1, 1, 2, 3, 4, 5),
  type = c("x", "x", "y", "y", "x", "y", "y", "x", "x", "y", "x", "y", "x"),
  time = c(0, 1, 2, 4, 0, 3, 6, 0, 1, 1.5, 2, 3, 5),
  grp1 = c("t1", "t2", "t3", "t4", "t1", "t2", "t3", "t1", "t1", "t2", "t3", "t4", "t5"),
  grp2 = "c",
  w1 = c(20, 25, 30, 22, 40, 41, 39, 15, 12, 14, 16, 18, 20),
  w2 = c(21, 21, 21, 21, 38, 38, 38, 17, 13, 13, 13, 13, 13),
  sub = c(1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2, 2)
)
vdat$vi <- round(runif(nrow(vdat), 0.01, 0.1), 4)
vc <- list(
  obs = list(call = 'vcalc(vi, cluster, obs = obs, rho = 0.6)',
             V = triplets(vcalc(vi, cluster, obs = obs, rho = 0.6, data = vdat))),
  type_obs = list(call = 'vcalc(vi, cluster, type = type, obs = obs, rho = c(0.5, 0.3))',
                  V = triplets(vcalc(vi, cluster, type = type, obs = obs, rho = c(0.5, 0.3), data = vdat))),
  type = list(call = 'vcalc(vi, cluster, type = type, rho = 0.4)',
              V = triplets(vcalc(vi, cluster, type = type, rho = 0.4, data = vdat))),
  obs_time = list(call = 'vcalc(vi, cluster, obs = obs, rho = 0.4, time1 = time, phi = 0.8)',
                  V = triplets(vcalc(vi, cluster, obs = obs, rho = 0.4, time1 = time, phi = 0.8, data = vdat))),
  time = list(call = 'vcalc(vi, cluster, time1 = time, phi = 0.7)',
              V = triplets(vcalc(vi, cluster, time1 = time, phi = 0.7, data = vdat))),
  grp = list(call = 'vcalc(vi, cluster, grp1 = grp1, grp2 = grp2, w1 = w1, w2 = w2)',
             V = triplets(vcalc(vi, cluster, grp1 = grp1, grp2 = grp2, w1 = w1, w2 = w2, data = vdat))),
  subgroup = list(call = 'vcalc(vi, cluster, subgroup = sub, obs = obs, rho = 0.6)',
                  V = triplets(vcalc(vi, cluster, subgroup = sub, obs = obs, rho = 0.6, data = vdat)))
)

# ---------------------------------------------------------------- aggregate variants
agg_info <- function(a) list(cluster = as.character(a$cluster), yi = num(a$yi), vi = num(a$vi))
edat <- escalc(yi = vdat$vi * 0 + seq(-0.3, 0.9, length.out = nrow(vdat)), vi = vdat$vi)
edat$cluster <- vdat$cluster
edat$time <- vdat$time
edat$obs <- vdat$obs
vdat$yi <- num(edat$yi)
ag <- list(
  cs = list(call = 'aggregate(edat, cluster = cluster, rho = 0.6)',
            out = agg_info(aggregate(edat, cluster = cluster, rho = 0.6))),
  id = list(call = 'aggregate(edat, cluster = cluster, struct = "ID")',
            out = agg_info(aggregate(edat, cluster = cluster, struct = "ID"))),
  car = list(call = 'aggregate(edat, cluster = cluster, struct = "CAR", time = time, phi = 0.8)',
             out = agg_info(aggregate(edat, cluster = cluster, struct = "CAR", time = time, phi = 0.8))),
  cs_car = list(call = 'aggregate(edat, cluster = cluster, struct = "CS+CAR", time = time, rho = 0.3, phi = 0.8)',
                out = agg_info(aggregate(edat, cluster = cluster, struct = "CS+CAR", time = time, rho = 0.3, phi = 0.8))),
  cs_unweighted = list(call = 'aggregate(edat, cluster = cluster, rho = 0.6, weighted = FALSE)',
                       out = agg_info(aggregate(edat, cluster = cluster, rho = 0.6, weighted = FALSE)))
)

# ---------------------------------------------------------------- model summaries
mv_info <- function(res, newmods = NULL, profile = TRUE) {
  pr <- if (is.null(newmods)) predict(res) else predict(res, newmods = newmods)
  re <- ranef(res)
  out <- list(
    coef_names = rownames(res$beta), estimate = num(res$beta), se = num(res$se),
    statistic = num(res$zval), pvalue = num(res$pval), ci_low = num(res$ci.lb),
    ci_high = num(res$ci.ub), sigma2 = num(res$sigma2), s_nlevels = num(res$s.nlevels),
    qe = num(res$QE), qe_df = res$k - res$p, qe_pvalue = num(res$QEp),
    qm = num(res$QM), qm_df = num(res$QMdf), qm_pvalue = num(res$QMp),
    loglik = num(logLik(res)), deviance = num(deviance(res)), aic = num(AIC(res)),
    bic = num(BIC(res)), ddf = num(res$ddf), control_rel_tol = num(res$ctl_used),
    predict = list(pred = num(pr$pred), se = num(pr$se), ci_low = num(pr$ci.lb),
                   ci_high = num(pr$ci.ub), pi_low = num(pr$pi.lb), pi_high = num(pr$pi.ub)),
    ranef = lapply(re, function(r) list(level = rownames(r), pred = num(r$intrcpt), se = num(r$se),
                                        pi_low = num(r$pi.lb), pi_high = num(r$pi.ub)))
  )
  names(out$ranef) <- names(re)
  if (profile) {
    ci <- suppressWarnings(confint(res, control = CTRL_CI))
    if (length(res$sigma2) == 1) ci <- list(ci)
    ci <- Filter(function(z) is.list(z) && !is.null(z$random), ci)
    out$sigma2_ci_low <- sapply(ci, function(z) num(z$random[1, "ci.lb"]))
    out$sigma2_ci_high <- sapply(ci, function(z) num(z$random[1, "ci.ub"]))
  }
  out
}

cs_info <- function(res, cluster, constraints = list()) {
  out <- list()
  for (type in c("CR0", "CR1", "CR2")) {
    vc <- vcovCR(res, cluster = cluster, type = type)
    ct <- coef_test(res, vcov = vc, test = "Satterthwaite")
    ci <- conf_int(res, vcov = vc)
    w <- lapply(constraints, function(C) {
      wt <- Wald_test(res, constraints = C, vcov = vc, test = c("HTZ", "chi-sq", "Naive-F"))
      list(test = wt$test, Fstat = num(wt$Fstat), delta = num(wt$delta), df_num = num(wt$df_num),
           df_denom = num(wt$df_denom), p_val = num(wt$p_val))
    })
    out[[type]] <- list(vcov = num(as.matrix(vc)), estimate = num(ct$beta), se = num(ct$SE),
                        statistic = num(ct$tstat), df = num(ct$df_Satt), pvalue = num(ct$p_Satt),
                        ci_low = num(ci$CI_L), ci_high = num(ci$CI_U), wald = w)
  }
  out
}

# ---------------------------------------------------------------- (a) dat.assink2016
dat <- dat.assink2016
V6 <- vcalc(vi, cluster = study, obs = esid, rho = 0.6, data = dat)
assink <- list(
  data = data.frame(study = dat$study, esid = dat$esid, yi = num(dat$yi), vi = num(dat$vi),
                    year = num(dat$year), deltype = dat$deltype),
  V_rho06 = triplets(V6),
  aggregate_rho06 = agg_info(aggregate(escalc(yi = yi, vi = vi, data = dat), cluster = study, rho = 0.6)),
  fits = list(), robust = list()
)
# two levels, diagonal V: rma.mv(yi, vi, random = ~ 1 | study/esid)
r_diag <- fit_mv(dat$vi, random = ~ 1 | study/esid, data = dat, method = "REML")
assink$fits$diag_REML_z <- mv_info(r_diag)
assink$robust$diag_REML_z <- cs_info(r_diag, dat$study)
# CHE: V from vcalc(rho = 0.6), random = ~ 1 | study/esid, REML, then CR2
r_che <- fit_mv(V6, random = ~ 1 | study/esid, data = dat, method = "REML")
assink$fits$che_REML_z <- mv_info(r_che)
assink$robust$che_REML_z <- cs_info(r_che, dat$study)
for (m in c("REML", "ML")) for (t in c("z", "t")) {
  r <- fit_mv(V6, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat,
              method = m, test = t)
  key <- paste("che_mods", m, t, sep = "_")
  assink$fits[[key]] <- mv_info(r, newmods = rbind(c(0, 0, 0), c(1, 0, 2.5), c(0, 1, -3)))
}
# cluster-robust inference: 'covert' occurs in one study only, so its CR variance is degenerate;
# the robust fixtures use the dummy 'overt' (3 studies) and year instead
dat$overt <- as.numeric(dat$deltype == "overt")
assink$data$overt <- dat$overt
r_rob <- fit_mv(V6, mods = ~ year + overt, random = ~ 1 | study/esid, data = dat, method = "REML")
assink$fits$che_year_overt_REML_z <- mv_info(r_rob, newmods = rbind(c(0, 0), c(2.5, 1)))
assink$robust$che_year_overt_REML_z <- cs_info(r_rob, dat$study, list(both = constrain_zero(2:3),
                                                                     year = constrain_zero(2),
                                                                     equal = constrain_equal(2:3)))
# single level: random = ~ 1 | study (no within-study variance component)
r_one <- fit_mv(V6, random = ~ 1 | study, data = dat, method = "REML")
assink$fits$che_onelevel_REML_z <- mv_info(r_one)
# univariate rma.uni with clustering by study
r_uni <- rma(yi, vi, mods = ~ year + overt, data = dat, method = "REML",
             control = list(threshold = 1e-12, maxiter = 10000))
assink$uni <- list(estimate = num(r_uni$beta), tau2 = num(r_uni$tau2))
assink$robust$uni_year_overt <- cs_info(r_uni, dat$study, list(both = constrain_zero(2:3)))
r_uni0 <- rma(yi, vi, data = dat, method = "REML", control = list(threshold = 1e-12, maxiter = 10000))
assink$robust$uni_intercept <- cs_info(r_uni0, dat$study)

# ---------------------------------------------------------------- (b) dat.lopez2019 (CBT for depression)
lop <- dat.lopez2019
lop$arm <- seq_len(nrow(lop))
controls <- c("TAU", "Wait list", "No treatment", "Placebo")
actives <- c("F2F CBT", "Multimedia CBT", "Hybrid CBT")
rows <- list()
for (s in unique(lop$study)) {
  d <- lop[lop$study == s, ]
  ctl <- NULL
  for (cc in controls) if (is.null(ctl) && any(d$treatment == cc)) ctl <- d[d$treatment == cc, ][1, ]
  act <- d[d$treatment %in% actives, ]
  if (is.null(ctl) || nrow(act) == 0) next
  rows[[length(rows) + 1]] <- data.frame(
    study = s, es_id = seq_len(nrow(act)), treatment = act$treatment, control = ctl$treatment,
    arm = act$arm, control_arm = ctl$arm, n_t = act$n, n_c = ctl$n,
    yi = act$diff - ctl$diff, vi = act$se^2 + ctl$se^2, v_control = ctl$se^2)
}
con <- do.call(rbind, rows)
# exact covariance of contrasts sharing a control arm: Var(control) off the diagonal
Vexact <- bldiag(lapply(split(con, factor(con$study, levels = unique(con$study))), function(x) {
  v <- matrix(x$v_control[1], nrow(x), nrow(x)); diag(v) <- x$vi; v }))
Vgrp <- vcalc(vi, cluster = study, grp1 = arm, grp2 = control_arm, w1 = n_t, w2 = n_c, data = con)
Vche <- vcalc(vi, cluster = study, obs = es_id, rho = 0.6, data = con)
lopez <- list(data = con, V_grp = triplets(Vgrp), V_rho06 = triplets(Vche), fits = list(), robust = list())
r_l0 <- fit_mv(Vche, random = ~ 1 | study/es_id, data = con, method = "REML")
lopez$fits$che_REML_z <- mv_info(r_l0)
lopez$robust$che_REML_z <- cs_info(r_l0, con$study)
r_l1 <- fit_mv(Vche, mods = ~ treatment, random = ~ 1 | study/es_id, data = con,
               method = "REML", test = "t")
lopez$fits$che_treatment_REML_t <- mv_info(r_l1, newmods = rbind(c(0, 0), c(1, 0), c(0, 1)))
lopez$robust$che_treatment_REML_t <- cs_info(r_l1, con$study, list(treatment = constrain_zero(2:3)))
r_l2 <- fit_mv(Vexact, random = ~ 1 | study/es_id, data = con, method = "REML")
lopez$fits$exact_REML_z <- mv_info(r_l2)

# ---------------------------------------------------------------- (c) three nested levels (synthetic)
set.seed(11)
n_s <- 14
syn <- do.call(rbind, lapply(seq_len(n_s), function(s) {
  ns <- sample(1:3, 1)
  do.call(rbind, lapply(seq_len(ns), function(j) {
    ne <- sample(1:3, 1)
    data.frame(study = s, sample = j, es = seq_len(ne))
  }))
}))
u_s <- rnorm(n_s, 0, sqrt(0.08)); syn$u_s <- u_s[syn$study]
syn$sid <- paste(syn$study, syn$sample, sep = ".")
u_j <- rnorm(length(unique(syn$sid)), 0, sqrt(0.04)); names(u_j) <- unique(syn$sid)
syn$vi <- round(runif(nrow(syn), 0.01, 0.06), 4)
syn$x <- round(rnorm(nrow(syn)), 3)
syn$yi <- round(0.3 + 0.1 * syn$x + syn$u_s + u_j[syn$sid] + rnorm(nrow(syn), 0, sqrt(0.02 + syn$vi)), 4)
syn$u_s <- NULL
Vsyn <- vcalc(vi, cluster = sid, obs = es, rho = 0.5, data = syn)
three <- list(data = syn, V = triplets(Vsyn), fits = list(), robust = list())
for (m in c("REML", "ML")) {
  r3 <- fit_mv(Vsyn, mods = ~ x, random = ~ 1 | study/sample/es, data = syn, method = m)
  three$fits[[m]] <- mv_info(r3, newmods = c(-1, 0, 1))
  if (m == "REML") three$robust[[m]] <- cs_info(r3, syn$study, list(x = constrain_zero(2)))
}

fixture <- list(
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  metafor = as.character(packageVersion("metafor")),
                  clubSandwich = as.character(packageVersion("clubSandwich"))),
  vcalc = list(data = vdat, cases = vc),
  aggregate = ag,
  assink2016 = assink,
  lopez2019 = lopez,
  three_level = three
)
writeLines(toJSON(fixture, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE), out_path)
cat("wrote", out_path, "\n")
