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

# ---- metafor's own arm-to-contrast step (the default of arm_to_contrast, baseline = "metafor"):
#   w <- to.wide(arms, study = "study", grp = "treatment", ref = REF, grpvars = c("treatment", "y", "v", "arm_row"))
#       (REF missing = to.wide's default, the treatment with the most arms; within a study the arms
#        are sorted by treatment level with REF last, the last arm is the baseline "treatment.2")
#   yi = y.1 - y.2, vi = v.1 + v.2, V = bldiag(per study: v.2 off the diagonal, vi on it)
#   w <- contrmat(w, grp1 = "treatment.1", grp2 = "treatment.2"); X = its columns other than REF
#   rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, method = M, control = CTRL_MV)
#       (comp = to.wide's comparison label, e.g. "Wa-F2")
# to.wide sorts studies (and character treatment labels) with order()/sort(), i.e. in the locale's
# collation; Python's sorted() is code-point order, which is R's in the C collation. The C collation
# is set here so that the rows come in the same order (another locale gives the same contrasts in
# another row order, e.g. "de Graaf (2008)" among the D's).
invisible(Sys.setlocale("LC_COLLATE", "C"))
towide_nma <- function(arms, ref = NULL, methods = c("REML", "ML", "FE")) {
  arms$arm_row <- seq_len(nrow(arms))
  if (is.null(ref)) {
    w <- to.wide(arms, study = "study", grp = "treatment", grpvars = c("treatment", "y", "v", "arm_row"))
    ref <- names(sort(table(arms$treatment), decreasing = TRUE)[1])   # to.wide's default ref
  } else {
    w <- to.wide(arms, study = "study", grp = "treatment", ref = ref, grpvars = c("treatment", "y", "v", "arm_row"))
  }
  w$yi <- w$y.1 - w$y.2
  w$vi <- w$v.1 + w$v.2
  V <- bldiag(lapply(split(w, factor(w$study, levels = unique(w$study))), function(x) {
    m <- matrix(x$v.2[1], nrow(x), nrow(x)); diag(m) <- x$vi; m
  }))
  others <- setdiff(sort(unique(arms$treatment)), ref)
  wc <- contrmat(w, grp1 = "treatment.1", grp2 = "treatment.2")
  X <- as.matrix(wc[, make.names(others), drop = FALSE])
  colnames(X) <- others
  fits <- list()
  for (M in methods) {
    message(" to.wide NMA ", M)
    res <- if (M == "FE") rma.mv(w$yi, V, mods = ~ 0 + X, data = w, method = "FE") else mv(w$yi, V, X, w, M)
    fits[[M]] <- fit_summary(res)
  }
  list(reference = ref, treatments = c(ref, others),
       contrasts = list(study = w$study, treatment1 = w$treatment.1, treatment2 = w$treatment.2,
                        arm1 = w$arm_row.1 - 1, arm2 = w$arm_row.2 - 1, yi = w$yi, vi = w$vi, comp = w$comp,
                        id = w$id),
       V = unname(as.matrix(V)), fits = fits)
}
message("dat.lopez2019, to.wide default ref")
lopez_towide <- towide_nma(lop)
message("dat.lopez2019, to.wide ref = TAU")
lopez_towide_tau <- towide_nma(lop, "TAU", methods = "REML")

# ---- a small constructed network with repeated treatments (arms of one treatment twice in s4, s5,
# s7; study labels out of order; arms of a study out of level order; A and C tie for the most arms,
# so to.wide's default ref is the first level, A)
toy <- data.frame(
  study = c("s3", "s3", "s1", "s1", "s2", "s2", "s4", "s4", "s4", "s5", "s5", "s5", "s6", "s6", "s6",
            "s7", "s7", "s7", "s8", "s8", "s9", "s9", "s10", "s10", "s11", "s11"),
  treatment = c("B", "C", "A", "B", "C", "A", "B", "A", "B", "C", "B", "C", "A", "B", "C",
                "A", "C", "A", "A", "B", "C", "B", "A", "C", "C", "A"),
  y = c(0.31, 1.12, -0.05, 0.92, 0.61, 0.10, 0.20, -0.30, 1.05, 1.40, 0.15, 0.70, 0.02, 0.41, 1.30,
        0.25, 0.83, -0.40, 0.12, 0.18, 0.95, 0.62, -0.20, 1.45, 0.58, 0.05),
  v = c(0.04, 0.05, 0.03, 0.06, 0.05, 0.04, 0.05, 0.04, 0.03, 0.06, 0.05, 0.04, 0.03, 0.05, 0.04,
        0.05, 0.04, 0.06, 0.03, 0.04, 0.05, 0.03, 0.04, 0.05, 0.06, 0.04),
  stringsAsFactors = FALSE)
message("toy, to.wide default ref")
toy_default <- towide_nma(toy, methods = c("REML", "ML"))
message("toy, to.wide ref = B")
toy_b <- towide_nma(toy, "B", methods = "REML")
message("toy, treatment a factor with levels C, A, B (to.wide's levels; default ref: C wins the A-C tie)")
toy_f <- toy; toy_f$treatment <- factor(toy$treatment, levels = c("C", "A", "B"))
toy_factor <- towide_nma(toy_f, methods = "REML")
# the other rule (baseline = "order" in Python): first arm of the first treatment of ORDER
cdo <- to_contrasts(toy, c("A", "B", "C")); d <- cdo$data
ro <- mv(d$yi, cdo$V, contrast_matrix(d, c("A", "B", "C"), "A"), d, "REML")
toy_order <- list(order = c("A", "B", "C"), fits = list(REML = fit_summary(ro)))

write_fixture <- function(obj, name) {
  txt <- toJSON(obj, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE, matrix = "rowmajor")
  writeLines(txt, file.path("tests", "fixtures", name))
  cat("wrote", file.path("tests", "fixtures", name), "\n")
}
write_fixture(list(lopez = c(lopez, list(order = lorder, reference = "TAU")),
                   hasselblad = c(hassel, list(order = horder, reference = "no_contact")),
                   lopez_towide = lopez_towide, lopez_towide_tau = lopez_towide_tau,
                   toy = list(arms = toy, towide_default = toy_default, towide_ref_b = toy_b, towide_factor_cab = toy_factor,
                              order_rule = toy_order),
                   versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                                   metafor = as.character(packageVersion("metafor")))),
              "network.json")
