# Oracle for analysis.growth: lme4::lmer growth models (random intercept and slope of time),
# REML and ML, with the data written beside the values into tests/fixtures/growth_lme4.json
# (full precision), so that the Python suite needs no R.
#   Rscript tests/oracles/growth_lme4.R
# Data sets:
#  1. btheb: the Beat the Blues trial in long form, exactly as HSAUR3's chapter
#     "Analysing Longitudinal Data I" builds BtheB_long (time = 2, 3, 5, 8 months), from
#     data/trials/btheb.csv (the workbook's shipped copy of HSAUR3::BtheB).
#  2. sim: unbalanced simulated growth data (120 patients, 2-8 waves, correlated intercept
#     and slope, a treatment x time interaction).
#  3. singular: slope variance 0 in truth; a seed searched until lmer reports isSingular.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                    check.conv.singular = "ignore", check.conv.grad = "ignore",
                    calc.derivs = FALSE)
out_path <- file.path("tests", "fixtures", "growth_lme4.json")

info <- function(fit, group) {
  vc <- as.data.frame(VarCorr(fit))
  re <- ranef(fit, condVar = TRUE)[[group]]
  pv <- attr(re, "postVar")
  list(
    reml = isREML(fit),
    fixef = as.list(fixef(fit)),
    se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    varcomp = lapply(seq_len(nrow(vc)), function(i) list(grp = vc$grp[i], var1 = vc$var1[i],
                                                          var2 = vc$var2[i], vcov = vc$vcov[i],
                                                          sdcor = vc$sdcor[i])),
    sigma2 = sigma(fit)^2,
    loglik = as.numeric(logLik(fit)),
    aic = AIC(fit), bic = BIC(fit),
    crit = if (isREML(fit)) as.numeric(REMLcrit(fit)) else as.numeric(deviance(fit)),
    theta = unname(getME(fit, "theta")),
    singular = isSingular(fit, tol = 1e-4),
    ranef_group = rownames(re),
    ranef = lapply(re, unname),
    ranef_sd = lapply(seq_len(ncol(re)), function(k) sqrt(pv[k, k, ])),
    resid = unname(residuals(fit)), fitted = unname(fitted(fit))
  )
}

# 1. Beat the Blues, as HSAUR3 builds it
btheb <- read.csv("data/trials/btheb.csv", check.names = FALSE)
btheb$subject <- factor(btheb$patient)
nobs <- nrow(btheb)
long <- reshape(btheb, idvar = "subject", varying = c("bdi.2m", "bdi.3m", "bdi.5m", "bdi.8m"),
                direction = "long", v.names = "bdi", times = c(2, 3, 5, 8), timevar = "time")
long$treatment <- factor(long$treatment, levels = c("TAU", "BtheB"))
long$drug <- factor(long$drug, levels = c("No", "Yes"))
long$length <- factor(long$length, levels = c("<6m", ">6m"))
long <- long[order(long$subject, long$time), ]
long <- long[!is.na(long$bdi), ]
b_data <- data.frame(subject = as.character(long$subject), time = long$time, bdi = long$bdi,
                     bdi_pre = long$bdi.pre, btheb = as.numeric(long$treatment == "BtheB"),
                     drug = as.numeric(long$drug == "Yes"), length6 = as.numeric(long$length == ">6m"))
f1 <- bdi ~ bdi_pre + time + btheb + drug + length6 + (1 | subject)
f2 <- bdi ~ bdi_pre + time + btheb + drug + length6 + (time | subject)
f3 <- bdi ~ bdi_pre + time + btheb + drug + length6 + time:btheb + (time | subject)
b1_ml <- lmer(f1, data = b_data, REML = FALSE, control = ctrl)
b2_ml <- lmer(f2, data = b_data, REML = FALSE, control = ctrl)
b3_reml <- lmer(f3, data = b_data, REML = TRUE, control = ctrl)
b2_reml <- lmer(f2, data = b_data, REML = TRUE, control = ctrl)
av <- anova(b1_ml, b2_ml)  # the HSAUR3 chapter's likelihood-ratio test
av_refit <- anova(lmer(f1, data = b_data, REML = TRUE, control = ctrl), b3_reml)  # refits by ML

# 2. Unbalanced simulated growth
set.seed(2026)
J <- 120
waves <- sample(2:8, J, replace = TRUE)
id <- rep(sprintf("P%03d", seq_len(J)), waves)
t <- unlist(lapply(waves, function(w) seq_len(w) - 1))
arm <- rep(rbinom(J, 1, 0.5), waves)
G <- matrix(c(9, -1.2, -1.2, 0.64), 2)
U <- MASS::mvrnorm(J, c(0, 0), G)
y <- 20 + U[rep(seq_len(J), waves), 1] + (-1 - 0.6 * arm + U[rep(seq_len(J), waves), 2]) * t +
  rnorm(length(t), 0, 2)
sim <- data.frame(subject = id, time = t, arm = arm, y = y)
fs <- y ~ time + arm + time:arm + (time | subject)
s_reml <- lmer(fs, data = sim, REML = TRUE, control = ctrl)
s_ml <- lmer(fs, data = sim, REML = FALSE, control = ctrl)

# 3. Singular: no slope variance
for (s in 1:2000) {
  set.seed(s)
  J3 <- 30
  id3 <- rep(sprintf("Q%02d", seq_len(J3)), each = 4)
  t3 <- rep(0:3, J3)
  y3 <- 5 + rep(rnorm(J3, 0, 1), each = 4) - 0.5 * t3 + rnorm(4 * J3, 0, 1)
  d3 <- data.frame(subject = id3, time = t3, y = y3)
  fit3 <- lmer(y ~ time + (time | subject), data = d3, REML = TRUE, control = ctrl)
  if (isSingular(fit3, tol = 1e-4)) break
}

write_json(list(
  note = paste("lme4", packageVersion("lme4"), "on R", R.version$major, ".", R.version$minor,
               "; lmerControl(optimizer = 'bobyqa', rhoend = 1e-12)"),
  btheb = list(data = b_data,
               ri_ml = info(b1_ml, "subject"), rs_ml = info(b2_ml, "subject"),
               rs_reml = info(b2_reml, "subject"), rsx_reml = info(b3_reml, "subject"),
               anova = list(npar = av$npar, AIC = av$AIC, BIC = av$BIC, logLik = av$logLik,
                            Chisq = av$Chisq[2], Df = av$Df[2], p = av[["Pr(>Chisq)"]][2]),
               anova_refit = list(npar = av_refit$npar, logLik = av_refit$logLik,
                                  Chisq = av_refit$Chisq[2], Df = av_refit$Df[2],
                                  p = av_refit[["Pr(>Chisq)"]][2])),
  sim = list(data = sim, reml = info(s_reml, "subject"), ml = info(s_ml, "subject")),
  singular = list(seed = s, data = d3, reml = info(fit3, "subject"))
), out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
message("wrote ", out_path)
