# Oracle for analysis/network.py (network meta-analysis, design-by-treatment test, component model).
#
# Run from the repository root:   Rscript tests/oracles/network.R
# Writes tests/fixtures/network.json (17 significant digits; inputs are read by the tests from
# data/raw/dat.lopez2019.csv and data/raw/dat.hasselblad1998.csv, which are the metadat exports).
# Checked with R 4.2.2, metafor 3.8.1, metadat, jsonlite.
#
# Arm-based to contrast-based data, written out here by hand so that the rule is the same as the
# Python one: in each study the baseline arm is the first arm (in data order) of the first treatment
# of ORDER present in the study; every other arm gives one contrast y_arm - y_base with variance
# v_arm + v_base; two contrasts of one study share the covariance v_base.
#
# Exact calls (CTRL_MV tightens metafor's convergence, see CONTRIBUTING.md):
#   CTRL_MV <- list(rel.tol = 1e-12, iter.max = 10000)
#   rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, method = M, control = CTRL_MV)
#       (struct "CS" with rho fixed at 1/2: Var(u) = tau^2 on the diagonal, tau^2/2 between
#        different contrasts of one study, tau^2 between two rows of the same contrast)
#   design-by-treatment: mods = ~ 0 + X + Z, Z = indicators of (design, treatment); metafor drops
#       the columns of Z that are redundant given X; anova(res, btt = <the Z columns kept>)
#   component model: mods = ~ 0 + <arm-level component differences>
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
CTRL_MV <- list(rel.tol = 1e-12, iter.max = 10000)

to_contrasts <- function(arms, order) {
  arms$row <- seq_len(nrow(arms))
  arms$prio <- match(arms$treatment, order)
  out <- list()
  for (s in unique(arms$study)) {
    a <- arms[arms$study == s, ]
    a <- a[order(a$prio, a$row), ]
    base <- a[1, ]
    rest <- a[-1, ]
    rest <- rest[order(rest$row), ]
    design <- paste(sort(unique(a$treatment)), collapse = ":")
    out[[length(out) + 1]] <- data.frame(study = s, treatment1 = rest$treatment, treatment2 = base$treatment,
      arm1 = rest$row, arm2 = base$row, yi = rest$y - base$y, vi = rest$v + base$v, vbase = base$v,
      design = design, stringsAsFactors = FALSE)
  }
  d <- do.call(rbind, out)
  d$comp <- paste(d$treatment1, d$treatment2, sep = " vs ")
  V <- bldiag(lapply(split(d, factor(d$study, levels = unique(d$study))), function(x) {
    m <- matrix(x$vbase[1], nrow(x), nrow(x)); diag(m) <- x$vi; m
  }))
  list(data = d, V = V)
}

contrast_matrix <- function(d, treatments, ref) {
  others <- setdiff(treatments, ref)
  X <- sapply(others, function(t) (d$treatment1 == t) - (d$treatment2 == t))
  X <- matrix(X, nrow = nrow(d))
  colnames(X) <- others
  X
}

fit_summary <- function(res, extra = list()) {
  c(list(beta = num(res$beta), se = num(res$se), vcov = unname(as.matrix(vcov(res))), tau2 = num(res$tau2),
         loglik = num(logLik(res)), qe = num(res$QE), qe_df = res$k - res$p, qm = num(res$QM), qm_df = res$QMdf[1],
         k = res$k, p = res$p, coef_names = rownames(res$beta)), extra)
}
num <- function(x) as.numeric(x)

# rma.mv with tight convergence; when nlminb stops with "convergence = 1" at the tight tolerance
# (it happens on these fits), refit at rel.tol = 1e-10 and, failing that, with optim's BFGS at
# reltol 1e-14 (messages say which was used).
mv <- function(yi, V, X, data, method) {
  r <- tryCatch(rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, data = data, method = method,
                       control = CTRL_MV), error = function(e) { message("  ", conditionMessage(e)); NULL })
  if (is.null(r)) {
    message("  refitting with nlminb at rel.tol = 1e-10")
    r <- tryCatch(rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, data = data, method = method,
                         control = list(rel.tol = 1e-10, iter.max = 10000)),
                  error = function(e) { message("  ", conditionMessage(e)); NULL })
  }
  if (is.null(r)) {
    message("  nlminb did not converge; refitting with optim BFGS")
    r <- rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, data = data, method = method,
                control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000))
  }
  r
}

nma <- function(arms, order, ref) {
  cd <- to_contrasts(arms, order)
  d <- cd$data; V <- cd$V
  X <- contrast_matrix(d, order, ref)
  fits <- list()
  for (M in c("REML", "ML")) {
    message(" NMA ", M)
    res <- mv(d$yi, V, X, d, M)
    fits[[M]] <- fit_summary(res)
  }
  res0 <- rma.mv(d$yi, V, mods = ~ 0 + X, data = d, method = "FE")
  fits[["FE"]] <- fit_summary(res0)
  # league: all pairwise differences b_a - b_b (treatment a vs b), from the REML fit
  res <- mv(d$yi, V, X, d, "REML")
  trts <- order
  L <- list()
  for (a in trts) for (b in trts) if (a != b) {
    cvec <- (colnames(X) == a) - (colnames(X) == b)
    pr <- predict(res, newmods = rbind(cvec))
    L[[length(L) + 1]] <- list(treatment1 = a, treatment2 = b, estimate = num(pr$pred), se = num(pr$se),
                               ci_low = num(pr$ci.lb), ci_high = num(pr$ci.ub))
  }
  # design-by-treatment interaction (Higgins et al. 2012): one indicator per (design, non-baseline treatment)
  key <- ifelse(d$treatment1 == d$treatment2, NA, paste(d$design, d$treatment1, sep = " | "))
  keys <- unique(na.omit(key))
  Z <- sapply(keys, function(k) as.numeric(!is.na(key) & key == k))
  Z <- matrix(Z, nrow = nrow(d))
  XZ <- cbind(X, Z)
  # keep the Z columns that add rank, scanning left to right (same rule as the Python side; the Wald
  # test does not depend on which basis of the extra space is used)
  keep <- seq_len(ncol(X))
  for (j in (ncol(X) + 1):ncol(XZ)) {
    if (qr(XZ[, c(keep, j)])$rank == length(keep) + 1) keep <- c(keep, j)
  }
  XI <- XZ[, keep]
  inc <- list()
  for (M in c("REML", "FE")) {
    message(" inconsistency ", M)
    ri <- if (M == "FE") rma.mv(d$yi, V, mods = ~ 0 + XI, data = d, method = "FE") else
      mv(d$yi, V, XI, d, M)
    an <- anova(ri, btt = (ncol(X) + 1):ncol(XI))
    inc[[M]] <- list(qm = num(an$QM), df = an$QMdf[1], pvalue = num(an$QMp), tau2 = num(ri$tau2),
                     loglik = num(logLik(ri)))
  }
  list(contrasts = list(study = d$study, treatment1 = d$treatment1, treatment2 = d$treatment2,
                        arm1 = d$arm1 - 1, arm2 = d$arm2 - 1, yi = d$yi, vi = d$vi, design = d$design),
       V = unname(as.matrix(V)), fits = fits, league = L, inconsistency = inc,
       inconsistency_columns = ncol(XI) - ncol(X))
}

# ---- dat.lopez2019: standardized mean change per arm
lop <- read.csv("data/raw/dat.lopez2019.csv", stringsAsFactors = FALSE)
lop$y <- lop$diff; lop$v <- lop$se^2
lorder <- c("TAU", "No treatment", "Wait list", "Placebo", "F2F CBT", "Hybrid CBT", "Multimedia CBT")
lopez <- nma(lop, lorder, "TAU")

# additive component model on the same contrasts: arm-level variables differenced within contrasts
cd <- to_contrasts(lop, lorder); d <- cd$data; V <- cd$V
lop$cbt <- as.numeric(lop$treatment %in% c("F2F CBT", "Hybrid CBT", "Multimedia CBT"))
lop$no_treatment <- as.numeric(lop$treatment == "No treatment")
lop$wait_list <- as.numeric(lop$treatment == "Wait list")
lop$placebo <- as.numeric(lop$treatment == "Placebo")
comps <- c("no_treatment", "wait_list", "placebo", "cbt", "multi", "group", "cog", "ba", "psed", "home", "prob",
           "soc", "relax", "goal", "final", "mind", "act")
XC <- sapply(comps, function(cn) lop[[cn]][d$arm1] - lop[[cn]][d$arm2])
colnames(XC) <- comps
resc <- mv(d$yi, V, XC, d, "REML")
lopez$component <- fit_summary(resc, list(components = comps,
                                         ci_low = num(resc$ci.lb), ci_high = num(resc$ci.ub)))

# ---- dat.hasselblad1998: log odds per arm, 1/2 added to every cell (metafor's example)
has <- read.csv("data/raw/dat.hasselblad1998.csv", stringsAsFactors = FALSE)
has$treatment <- has$trt
has$y <- log((has$xi + 0.5) / (has$ni - has$xi + 0.5))
has$v <- 1 / (has$xi + 0.5) + 1 / (has$ni - has$xi + 0.5)
horder <- c("no_contact", "self_help", "ind_counseling", "grp_counseling")
hassel <- nma(has, horder, "no_contact")

write_fixture <- function(obj, name) {
  txt <- toJSON(obj, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE, matrix = "rowmajor")
  writeLines(txt, file.path("tests", "fixtures", name))
  cat("wrote", file.path("tests", "fixtures", name), "\n")
}
write_fixture(list(lopez = c(lopez, list(order = lorder, reference = "TAU")),
                   hasselblad = c(hassel, list(order = horder, reference = "no_contact")),
                   versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                                   metafor = as.character(packageVersion("metafor")))),
              "network.json")
