# Oracle for notebook 03's random-slope and REML-vs-ML lessons: lme4::lmer fits on the data
# the notebook uses, written into tests/fixtures/multilevel_slopes.json (full precision).
#   Rscript tests/oracles/multilevel_slopes.R
# Data: tests/fixtures/multilevel_slopes_data.csv, written by notebook 03 (section 6): the
# SIMULATED Baldwin-design trial shipped in data/simulated/ (seed 20071), with a therapist-specific
# alliance slope added to the improvement: change + s_j * (alliance - therapist mean alliance),
# s_j ~ N(0, 3^2) (numpy default_rng(2025)); `post` is the shipped post score, unchanged.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                    check.conv.singular = "ignore", check.conv.grad = "ignore",
                    calc.derivs = FALSE)
data_path <- file.path("tests", "fixtures", "multilevel_slopes_data.csv")
out_path <- file.path("tests", "fixtures", "multilevel_slopes.json")

d <- read.csv(data_path)
d$therapist <- factor(d$therapist)
# group-mean centring, as analysis.multilevel.disaggregate_alliance
d$alliance_mean_between <- ave(d$alliance_mean, d$therapist)
d$alliance_mean_within <- d$alliance_mean - d$alliance_mean_between
d$pre10 <- d$pre / 10

fit_info <- function(fit) {
  vc <- as.data.frame(VarCorr(fit))
  list(
    reml = isREML(fit),
    fixef = as.list(fixef(fit)),                       # fixef(fit)
    se = as.list(sqrt(diag(as.matrix(vcov(fit))))),    # sqrt(diag(vcov(fit)))
    varcomp = lapply(seq_len(nrow(vc)), function(i)    # as.data.frame(VarCorr(fit))
      list(grp = vc$grp[i], var1 = vc$var1[i], var2 = vc$var2[i], vcov = vc$vcov[i])),
    sigma2 = sigma(fit)^2,                             # sigma(fit)^2
    loglik = as.numeric(logLik(fit)),                  # logLik(fit) (REML or ML)
    npar = attr(logLik(fit), "df"),
    singular = isSingular(fit, tol = 1e-4)
  )
}
fit2 <- function(formula) {
  list(REML = fit_info(lmer(formula, data = d, REML = TRUE, control = ctrl)),
       ML = fit_info(lmer(formula, data = d, REML = FALSE, control = ctrl)))
}

f_slope <- change ~ alliance_mean_within + alliance_mean_between + pre + arm + (1 + alliance_mean_within | therapist)
f_int <- change ~ alliance_mean_within + alliance_mean_between + pre + arm + (1 | therapist)
f_post0 <- post ~ pre + arm + (1 | therapist)
f_post1 <- post ~ pre + arm + alliance_mean + (1 | therapist)
f_post10 <- post ~ pre10 + arm + (1 | therapist)

slope <- fit2(f_slope)
int <- fit2(f_int)
post0 <- fit2(f_post0)
post1 <- fit2(f_post1)
post10 <- fit2(f_post10)

# likelihood-ratio tests as anova(m0, m1, refit = FALSE) on the ML fits
lrt <- function(m0, m1) {
  chisq <- 2 * (m1$ML$loglik - m0$ML$loglik)
  df <- m1$ML$npar - m0$ML$npar
  list(chisq = chisq, df = df, p = pchisq(chisq, df, lower.tail = FALSE))
}

fixture <- list(
  generated_by = "tests/oracles/multilevel_slopes.R",
  lme4_version = as.character(packageVersion("lme4")),
  R_version = R.version.string,
  control = "lmerControl(optimizer='bobyqa', optCtrl=list(rhoend=1e-12, maxfun=1e6))",
  data = "tests/fixtures/multilevel_slopes_data.csv",
  slope = list(formula = deparse1(f_slope), fits = slope),
  intercept = list(formula = deparse1(f_int), fits = int),
  post0 = list(formula = deparse1(f_post0), fits = post0),
  post1 = list(formula = deparse1(f_post1), fits = post1),
  post_pre10 = list(formula = deparse1(f_post10), fits = post10),
  # anova(int_ML, slope_ML): naive chi-square (df 2), the variance on its boundary under H0
  lrt_slope = lrt(int, slope),
  # anova(post0_ML, post1_ML): the fixed effect of alliance_mean, ML fits
  lrt_alliance = lrt(post0, post1)
)
write_json(fixture, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "\n")
