# Oracle for analysis.psychometrics: reliability (psych::alpha, psych::omega) and
# CFA fit (lavaan, ML) on item-level data made here. The data are written to
# tests/fixtures/psychometrics_items.csv and the reference values (full precision)
# to tests/fixtures/psychometrics.json, so that the Python suite needs no R.
#   Rscript tests/oracles/psych_lavaan.R
# Data: 12 WAI-SR-like items (1-5) cut from a three-factor normal model
# (Task 1, 2, 10, 12; Bond 3, 5, 7, 9; Goal 4, 6, 8, 11), N = 400, two groups of 200,
# with five missing answers in the first rows. The reference values use the complete cases
# (as does the Python side), except the `fiml` block: full-information ML (missing = "ml")
# on every respondent of the file.
suppressPackageStartupMessages({library(lavaan); library(psych); library(jsonlite)})
set.seed(2006)
n <- 400
items <- sprintf("i%d", 1:12)
task <- c(1, 2, 10, 12); bond <- c(3, 5, 7, 9); goal <- c(4, 6, 8, 11)
phi <- matrix(c(1, .75, .8, .75, 1, .7, .8, .7, 1), 3)          # task, bond, goal
lam <- c(.75, .70, .80, .65, .72, .78, .70, .68, .74, .66, .77, .71)
fac <- rep(NA, 12); fac[task] <- 1; fac[bond] <- 2; fac[goal] <- 3
eta <- matrix(rnorm(n * 3), n) %*% chol(phi)
ystar <- sapply(1:12, function(j) lam[j] * eta[, fac[j]] + sqrt(1 - lam[j]^2) * rnorm(n))
cuts <- c(-1.8, -1.0, -0.2, 0.7)
y <- apply(ystar, 2, function(v) findInterval(v, cuts) + 1)
colnames(y) <- items
dat <- data.frame(respondent = sprintf("R%03d", 1:n), group = rep(c("A", "B"), each = n / 2), y)
# Group B is shifted up on item 6 (a scalar non-invariance) to give the invariance tests a target
dat$i6[dat$group == "B"] <- pmin(5, dat$i6[dat$group == "B"] + rbinom(n / 2, 1, .4))
miss <- dat
miss$i3[2] <- NA; miss$i7[2] <- NA; miss$i11[5] <- NA; miss$i1[9] <- NA; miss$i12[9] <- NA
write.csv(miss, file.path("tests", "fixtures", "psychometrics_items.csv"), row.names = FALSE, na = "")
cc <- dat[complete.cases(miss), ]
X <- cc[, items]

# ---- reliability (psych) ----
a <- psych::alpha(X, warnings = FALSE)
subscale_alpha <- lapply(list(task = task, bond = bond, goal = goal), function(ix)
  psych::alpha(X[, ix], warnings = FALSE)$total$raw_alpha)
om1 <- suppressWarnings(psych::omega(X, nfactors = 1, fm = "ml", plot = FALSE))

# ---- CFA (lavaan, ML, marker identification, no mean structure) ----
m1 <- paste("g =~", paste(items, collapse = " + "))
m3 <- "task =~ i1 + i2 + i10 + i12\n bond =~ i3 + i5 + i7 + i9\n goal =~ i4 + i6 + i8 + i11"
mb <- paste(m1, "\n", m3)
fits <- list(
  one = cfa(m1, data = X, estimator = "ML"),
  three = cfa(m3, data = X, estimator = "ML"),
  bifactor = cfa(mb, data = X, estimator = "ML", orthogonal = TRUE)
)
fm_names <- c("chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
              "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl", "ntotal")
fit_info <- function(f) {
  pe <- standardizedSolution(f)
  ld <- pe[pe$op == "=~", ]
  est <- parameterEstimates(f)
  lde <- est[est$op == "=~", ]
  th <- est[est$op == "~~" & est$lhs == est$rhs & est$lhs %in% items, ]
  list(
    converged = lavInspect(f, "converged"),
    fit = as.list(fitMeasures(f, fm_names)),
    std_loadings = lapply(seq_len(nrow(ld)), function(i)
      list(factor = ld$lhs[i], item = ld$rhs[i], std = ld$est.std[i])),
    loadings = lapply(seq_len(nrow(lde)), function(i)
      list(factor = lde$lhs[i], item = lde$rhs[i], est = lde$est[i], se = lde$se[i])),
    residual_var = setNames(as.list(th$est), th$lhs),
    implied_total_var = sum(lavInspect(f, "implied")$cov)
  )
}
res_fit <- lapply(fits, fit_info)
# omega from the CFAs (McDonald 1999), computed here from lavaan's unstandardised estimates:
#   omega_total (one factor) = (sum lambda)^2 psi / 1' Sigma_hat 1
#   omega_h (bifactor)      = (sum lambda_G)^2 psi_G / 1' Sigma_hat 1
#   omega_total (any model) = 1' Lambda Psi Lambda' 1 / 1' Sigma_hat 1
omega_from <- function(f) {
  est <- lavInspect(f, "est")
  L <- est$lambda; Psi <- est$psi
  tv <- sum(lavInspect(f, "implied")$cov)
  tv_obs <- sum(lavInspect(f, "sampstat")$cov)
  per <- sapply(colnames(L), function(fn) sum(L[, fn])^2 * Psi[fn, fn])
  common <- sum(L %*% Psi %*% t(L))
  list(by_factor = as.list(per / tv), total = common / tv, total_observed_denominator = common / tv_obs)
}
omegas <- lapply(fits, omega_from)

# ---- configural / metric / scalar invariance (lavaan multi-group, group = A/B) ----
cg <- cc
inv <- list(
  configural = cfa(m3, data = cg, group = "group", estimator = "ML"),
  metric = cfa(m3, data = cg, group = "group", estimator = "ML", group.equal = "loadings"),
  scalar = cfa(m3, data = cg, group = "group", estimator = "ML", group.equal = c("loadings", "intercepts"))
)
# partial scalar invariance: the intercept of item 6 (shifted in group B above) left free
inv_partial <- cfa(m3, data = cg, group = "group", estimator = "ML", group.equal = c("loadings", "intercepts"),
                   group.partial = "i6 ~ 1")
inv_fit <- lapply(inv, function(f) as.list(fitMeasures(f, c("chisq", "df", "cfi", "rmsea", "srmr", "ntotal",
                                                             "pvalue", "baseline.chisq", "baseline.df", "tli",
                                                             "npar", "logl", "rmsea.ci.lower",
                                                             "rmsea.ci.upper"))))
inv_converged <- lapply(inv, function(f) lavInspect(f, "converged"))
# every parameter of each step (fixed ones included, se = 0 there), groups by label
inv_params <- lapply(inv, function(f) {
  pe <- parameterEstimates(f)
  lab <- lavInspect(f, "group.label")
  data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = lab[pe$group], est = pe$est, se = pe$se,
             stringsAsFactors = FALSE)
})
# nested-model chi-square difference tests (standard ML: simple differences)
lrt <- lavTestLRT(inv$configural, inv$metric, inv$scalar)
inv_lrt <- data.frame(model = c("configural", "metric", "scalar"), chisq = lrt[["Chisq"]], df = lrt[["Df"]],
                      chisq_diff = lrt[["Chisq diff"]], df_diff = lrt[["Df diff"]], pvalue = lrt[["Pr(>Chisq)"]])
inv_lrt <- lapply(seq_len(nrow(inv_lrt)), function(i) Filter(function(v) !is.na(v), as.list(inv_lrt[i, ])))
# strict invariance (loadings, intercepts and residual variances equal) and partial loading
# invariance (the loading of item 6 free: group.partial = "goal =~ i6") in the metric and scalar steps
inv_fit_names <- c("chisq", "df", "cfi", "rmsea", "srmr", "ntotal", "pvalue", "baseline.chisq", "baseline.df",
                   "tli", "npar", "logl", "rmsea.ci.lower", "rmsea.ci.upper")
inv_block <- function(f, call) {
  pe <- parameterEstimates(f)
  list(fit = as.list(fitMeasures(f, inv_fit_names)), converged = lavInspect(f, "converged"),
       params = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = lavInspect(f, "group.label")[pe$group],
                           est = pe$est, se = pe$se, stringsAsFactors = FALSE),
       call = call)
}
inv_strict <- cfa(m3, data = cg, group = "group", estimator = "ML",
                  group.equal = c("loadings", "intercepts", "residuals"))
lrt_strict <- lavTestLRT(inv$scalar, inv_strict)
inv_strict_block <- c(inv_block(inv_strict, "group.equal = c('loadings', 'intercepts', 'residuals')"),
                      list(lrt_vs_scalar = list(chisq_diff = lrt_strict[["Chisq diff"]][2],
                                                df_diff = lrt_strict[["Df diff"]][2],
                                                pvalue = lrt_strict[["Pr(>Chisq)"]][2],
                                                call = "lavTestLRT(scalar, strict)")))
inv_partial_loading <- list(
  metric = inv_block(cfa(m3, data = cg, group = "group", estimator = "ML", group.equal = "loadings",
                         group.partial = "goal =~ i6"),
                     "group.equal = 'loadings', group.partial = 'goal =~ i6'"),
  scalar = inv_block(cfa(m3, data = cg, group = "group", estimator = "ML", group.equal = c("loadings", "intercepts"),
                         group.partial = "goal =~ i6"),
                     "group.equal = c('loadings', 'intercepts'), group.partial = 'goal =~ i6'"))
inv_groups <- lapply(split(cg, cg$group), function(d) {
  f <- cfa(m3, data = d[, items], estimator = "ML")
  as.list(fitMeasures(f, c("chisq", "df", "ntotal")))
})

# ---- full-information ML (missing = "ml") on ALL respondents of the items file ----
# lavaan's defaults with missing = "ml": meanstructure = TRUE, information = "observed"
# (observed.information = "hessian"), H1 moments by EM (em.h1.tol = 1e-5); SRMR from the
# EM-estimated H1 moments (lavInspect(f, "sampstat")).
fiml_names <- c("chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
                "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl", "unrestricted.logl", "npar", "ntotal")
fiml_params <- function(f) {
  pe <- parameterEstimates(f)
  lab <- lavInspect(f, "group.label")
  grp <- if (length(lab)) lab[pe$group] else rep("", nrow(pe))
  data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = grp, est = pe$est, se = pe$se,
             stringsAsFactors = FALSE)
}
fiml_info <- function(f) list(
  converged = lavInspect(f, "converged"),
  fit = as.list(fitMeasures(f, fiml_names)),
  params = fiml_params(f),
  information = lavInspect(f, "options")$information[1],
  observed_information = lavInspect(f, "options")$observed.information[1]
)
fiml_cfa <- cfa(m3, data = miss[, items], missing = "ml")
fiml_h1 <- lavInspect(fiml_cfa, "sampstat")
fiml_inv <- list(
  configural = cfa(m3, data = miss[, c("group", items)], group = "group", missing = "ml"),
  metric = cfa(m3, data = miss[, c("group", items)], group = "group", missing = "ml",
               group.equal = "loadings"),
  scalar = cfa(m3, data = miss[, c("group", items)], group = "group", missing = "ml",
               group.equal = c("loadings", "intercepts"))
)
fiml_lrt <- lavTestLRT(fiml_inv$configural, fiml_inv$metric, fiml_inv$scalar)
fiml_strict <- cfa(m3, data = miss[, c("group", items)], group = "group", missing = "ml",
                   group.equal = c("loadings", "intercepts", "residuals"))
fiml_lrt_strict <- lavTestLRT(fiml_inv$scalar, fiml_strict)
fiml <- list(
  call = "lavaan::cfa(three-factor, data = all 400 respondents, missing = 'ml')",
  three = c(fiml_info(fiml_cfa),
            list(h1_mean = as.list(fiml_h1$mean[items]),
                 h1_cov = lapply(items, function(it) as.list(fiml_h1$cov[it, items])))),
  invariance = lapply(fiml_inv, fiml_info),
  lrt = lapply(seq_len(nrow(fiml_lrt)), function(i)
    Filter(function(v) !is.na(v), list(model = c("configural", "metric", "scalar")[i],
                                       chisq = fiml_lrt[["Chisq"]][i], df = fiml_lrt[["Df"]][i],
                                       chisq_diff = fiml_lrt[["Chisq diff"]][i],
                                       df_diff = fiml_lrt[["Df diff"]][i],
                                       pvalue = fiml_lrt[["Pr(>Chisq)"]][i]))),
  strict = c(fiml_info(fiml_strict),
             list(lrt_vs_scalar = list(chisq_diff = fiml_lrt_strict[["Chisq diff"]][2],
                                       df_diff = fiml_lrt_strict[["Df diff"]][2],
                                       pvalue = fiml_lrt_strict[["Pr(>Chisq)"]][2]),
                  call = "group.equal = c('loadings', 'intercepts', 'residuals'), missing = 'ml'"))
)

# ---- ordinal CFA: lavaan's default for ordered = TRUE (WLSMV = DWLS estimates, robust.sem SEs,
# scaled-shifted test; delta parameterization; polychoric correlations by two-step pairwise ML),
# on the complete cases (lavaan's default for categorical data: listwise)
ord_names <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
               "chisq.scaling.factor", "baseline.chisq", "baseline.df", "baseline.chisq.scaled",
               "cfi", "tli", "cfi.scaled", "tli.scaled", "rmsea", "rmsea.scaled", "srmr", "ntotal", "npar")
ord_info <- function(f) {
  pe <- parameterEstimates(f)
  pe$std <- standardizedSolution(f)$est.std  # same rows, same order
  pe <- pe[pe$op %in% c("=~", "~~", "|"), ]
  ss <- lavInspect(f, "sampstat")
  list(converged = lavInspect(f, "converged"),
       estimator = lavInspect(f, "options")$estimator,
       parameterization = lavInspect(f, "options")$parameterization,
       fit = as.list(fitMeasures(f, ord_names)),
       params = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est, se = pe$se,
                           std = pe$std, stringsAsFactors = FALSE),
       thresholds = as.list(ss$th),
       polychoric = lapply(rownames(ss$cov), function(it) as.list(ss$cov[it, ])))
}
ordinal <- list(
  call = "lavaan::cfa(model, data = complete cases, ordered = TRUE)  # estimator WLSMV",
  three = ord_info(cfa(m3, data = X, ordered = TRUE)),
  one = ord_info(cfa(m1, data = X, ordered = TRUE))
)

out <- list(
  generator = list(seed = 2006, n = n, lambda = lam, phi = phi, cuts = cuts,
                   note = "Data in psychometrics_items.csv; reference values on its complete cases"),
  complete_respondents = cc$respondent,
  alpha = list(
    raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha,
    feldt_lower = a$feldt$lower.ci[[1]], feldt_upper = a$feldt$upper.ci[[1]],
    alpha_if_deleted = setNames(as.list(a$alpha.drop$raw_alpha), rownames(a$alpha.drop)),
    r_drop = setNames(as.list(a$item.stats$r.drop), rownames(a$item.stats)),
    subscales = subscale_alpha,
    call = "psych::alpha(X) on complete cases"
  ),
  psych_omega_1f = list(omega_tot = om1$omega.tot, call = "psych::omega(X, nfactors = 1, fm = 'ml')"),
  cfa = res_fit,
  omega = omegas,
  invariance = list(fit = inv_fit, per_group = inv_groups,
                    call = "lavaan::cfa(three-factor, group = 'group', group.equal = ...)",
                    converged = inv_converged, params = inv_params, lrt = inv_lrt,
                    lrt_call = "lavTestLRT(configural, metric, scalar)",
                    scalar_partial_i6 = list(
                      fit = as.list(fitMeasures(inv_partial, c("chisq", "df", "cfi", "rmsea", "srmr"))),
                      params = {pe <- parameterEstimates(inv_partial)
                                data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                                           group = lavInspect(inv_partial, "group.label")[pe$group],
                                           est = pe$est, se = pe$se, stringsAsFactors = FALSE)},
                      call = "group.equal = c('loadings', 'intercepts'), group.partial = 'i6 ~ 1'"),
                    strict = inv_strict_block,
                    partial_loading_i6 = inv_partial_loading),
  fiml = fiml,
  ordinal = ordinal,
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  lavaan = as.character(packageVersion("lavaan")),
                  psych = as.character(packageVersion("psych")))
)
write_json(out, file.path("tests", "fixtures", "psychometrics.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
message("wrote tests/fixtures/psychometrics.json")
