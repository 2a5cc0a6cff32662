# Oracle for analysis.multilevel: lme4::lmer fits (REML and ML) on data made here,
# written with the data into tests/fixtures/lme4.json (full precision), so that
# the Python suite needs no R.
#   Rscript tests/oracles/lme4.R
# Datasets: unbalanced caseloads with six one-patient therapists; a singular fit
# (true therapist variance 0, seed searched until lmer reports isSingular); an
# alliance disaggregation data set (random intercept, and random slope).
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                    check.conv.singular = "ignore", check.conv.grad = "ignore",
                    calc.derivs = FALSE)
out_path <- file.path("tests", "fixtures", "lme4.json")

fit_info <- function(fit, group = "therapist") {
  vc <- as.data.frame(VarCorr(fit))
  re <- ranef(fit, condVar = TRUE)[[group]]
  pv <- attr(re, "postVar")
  res <- list(
    reml = isREML(fit),
    fixef = as.list(fixef(fit)),
    se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    vcov = unname(as.matrix(vcov(fit))),
    varcomp = lapply(seq_len(nrow(vc)), function(i) list(grp = vc$grp[i], var1 = vc$var1[i],
                                                          var2 = vc$var2[i], vcov = vc$vcov[i])),
    sigma2 = sigma(fit)^2,
    loglik = as.numeric(logLik(fit)),
    deviance_crit = if (isREML(fit)) as.numeric(REMLcrit(fit)) else as.numeric(deviance(fit)),
    theta = unname(getME(fit, "theta")),
    singular = isSingular(fit, tol = 1e-4),
    ranef_group = rownames(re),
    ranef = lapply(re, unname)
  )
  if (ncol(re) == 1) res$ranef_se <- sqrt(pv[1, 1, ])
  res
}

both <- function(formula, data) {
  list(REML = fit_info(lmer(formula, data = data, REML = TRUE, control = ctrl)),
       ML = fit_info(lmer(formula, data = data, REML = FALSE, control = ctrl)))
}

# 1. Unbalanced caseloads, two covariates, modest therapist variance
set.seed(101)
J <- 60
n_j <- 1 + rnbinom(J, size = 1.5, mu = 5)
n_j[1:6] <- 1
therapist <- rep(sprintf("T%02d", seq_len(J)), n_j)
N <- length(therapist)
u <- rnorm(J, 0, 0.7)
x1 <- rnorm(N, 0, 1)
x2 <- rbinom(N, 1, 0.5)
y <- 10 + 0.5 * x1 - 1 * x2 + rep(u, n_j) + rnorm(N, 0, 2)
unbal <- data.frame(therapist = therapist, x1 = x1, x2 = x2, y = y)

# 2. Singular fit: no therapist variance, few therapists
for (s in 1:1000) {
  set.seed(s)
  J2 <- 10
  th2 <- rep(sprintf("S%02d", seq_len(J2)), each = 3)
  x <- rnorm(30)
  yy <- 1 + 0.3 * x + rnorm(30)
  d2 <- data.frame(therapist = th2, x = x, y = yy)
  f <- lmer(y ~ x + (1 | therapist), data = d2, REML = TRUE, control = ctrl)
  if (isSingular(f, tol = 1e-4)) break
}
sing <- d2
sing_seed <- s

# 3. Alliance disaggregation: within effect 0.5, between 3 (contextual 2.5)
set.seed(303)
J3 <- 40
n3 <- sample(2:12, J3, replace = TRUE)
th3 <- rep(sprintf("A%02d", seq_len(J3)), n3)
N3 <- length(th3)
a_j <- rnorm(J3, 0, 0.25)
alliance <- 3.9 + rep(a_j, n3) + rnorm(N3, 0, 0.5)
pre <- rnorm(N3, 16, 4)
slope_j <- rnorm(J3, 0, 0.6)
change <- 5 + 0.5 * (alliance - 3.9) + (3 - 0.5) * rep(a_j, n3) + rep(slope_j, n3) * (alliance - 3.9) +
  0.2 * (pre - 16) + rep(rnorm(J3, 0, 1), n3) + rnorm(N3, 0, 3)
all3 <- data.frame(therapist = th3, alliance = alliance, pre = pre, change = change)
all3$alliance_between <- ave(all3$alliance, all3$therapist)
all3$alliance_within <- all3$alliance - all3$alliance_between

fixture <- list(
  generated_by = "tests/oracles/lme4.R",
  lme4_version = as.character(packageVersion("lme4")),
  R_version = R.version.string,
  control = "lmerControl(optimizer='bobyqa', optCtrl=list(rhoend=1e-12, maxfun=1e6))",
  unbalanced = list(data = unbal, formula = "y ~ x1 + x2 + (1 | therapist)",
                    fits = both(y ~ x1 + x2 + (1 | therapist), unbal)),
  singular = list(data = sing, seed = sing_seed, formula = "y ~ x + (1 | therapist)",
                  fits = both(y ~ x + (1 | therapist), sing)),
  alliance = list(data = all3,
                  formula = "change ~ alliance_within + alliance_between + pre + (1 | therapist)",
                  fits = both(change ~ alliance_within + alliance_between + pre + (1 | therapist), all3),
                  formula_slope = "change ~ alliance_within + alliance_between + pre + (1 + alliance_within | therapist)",
                  fits_slope = both(change ~ alliance_within + alliance_between + pre +
                                      (1 + alliance_within | therapist), all3))
)
write_json(fixture, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "\n")
