# Oracle for analysis.sem.ordinal: ordinal measurement invariance by WLSMV (lavaan 0.6).
#   Rscript tests/oracles/sem_ordinal_invariance.R
# Data: the shipped tests/fixtures/psychometrics_items.csv (made by tests/oracles/psych_lavaan.R:
# 12 five-category items, groups A and B of 200; group B shifted up on item 6), complete cases
# (lavaan's default for categorical data: listwise). Model: the three-factor WAI-SR structure.
# Steps, each with parameterization = "delta" and "theta":
#   configural:  cfa(m3, data, group = "group", ordered = TRUE, parameterization = par)
#   thresholds:  ... group.equal = "thresholds"
#   thresholds_loadings: ... group.equal = c("thresholds", "loadings")
#   thresholds_loadings_intercepts: ... group.equal = c("thresholds", "loadings", "intercepts")
#     (identical to the previous step: intercepts of ordered items are fixed at 0)
# lavaan's default identification for ordered multi-group models: thresholds free in every group in
# the configural model (scales and latent means fixed); once the thresholds are equal, the scaling
# factors (delta: `~*~`) or residual variances (theta: `~~`) and the latent means of the groups after
# the first are freed. Estimator WLSMV (DWLS, robust.sem SEs, scaled-shifted test).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
d <- read.csv(file.path("tests", "fixtures", "psychometrics_items.csv"))
items <- sprintf("i%d", 1:12)
d <- d[complete.cases(d[, items]), c("group", items)]
m3 <- "task =~ i1 + i2 + i10 + i12\n bond =~ i3 + i5 + i7 + i9\n goal =~ i4 + i6 + i8 + i11"
steps <- list(configural = "", thresholds = "thresholds",
              thresholds_loadings = c("thresholds", "loadings"),
              thresholds_loadings_intercepts = c("thresholds", "loadings", "intercepts"))
fm_names <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
              "chisq.scaling.factor", "chisq.shift.parameter", "baseline.chisq", "baseline.df",
              "baseline.chisq.scaled", "cfi", "tli", "cfi.scaled", "tli.scaled", "rmsea",
              "rmsea.scaled", "srmr", "ntotal", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue",
              "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled")
block <- function(f, call) {
  pe <- parameterEstimates(f)
  pt <- parTable(f)
  lab <- lavInspect(f, "group.label")
  ss <- lavInspect(f, "sampstat")
  if (is.null(pe$group)) pe$group <- 1L  # single group
  grp <- if (length(lab)) lab[pe$group] else rep("", nrow(pe))
  list(call = call,
       converged = lavInspect(f, "converged"),
       estimator = lavInspect(f, "options")$estimator,
       parameterization = lavInspect(f, "options")$parameterization,
       fit = as.list(fitMeasures(f, fm_names)),
       params = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = grp,
                           free = pt$free[match(paste(pe$lhs, pe$op, pe$rhs, pe$group),
                                                paste(pt$lhs, pt$op, pt$rhs, pt$group))] > 0,
                           est = pe$est, se = pe$se, stringsAsFactors = FALSE),
       sampstat = if (!length(lab)) NULL else lapply(setNames(lab, lab), function(g)
         list(th = as.list(ss[[g]]$th),
              cor = lapply(rownames(ss[[g]]$cov), function(it) as.list(ss[[g]]$cov[it, ])))))
}
out <- list(groups = sort(unique(d$group)), n_per_group = as.list(table(d$group)))
# nested-model tests: lavTestLRT's default for WLSMV (method = "satorra.2000", scaled.shifted = TRUE,
# A.method = "delta"; Satorra 2000, Asparouhov & Muthen 2010)
lrt_block <- function(fits) {
  lr <- lavTestLRT(fits$configural, fits$thresholds, fits$thresholds_loadings)
  list(call = "lavTestLRT(configural, thresholds, thresholds_loadings)  # method = 'satorra.2000', scaled.shifted",
       method = attr(lr, "heading"),
       rows = lapply(2:3, function(i) list(model = c("configural", "thresholds", "thresholds_loadings")[i],
                                           chisq_diff = lr[["Chisq diff"]][i], df_diff = lr[["Df diff"]][i],
                                           pvalue = lr[["Pr(>Chisq)"]][i])))
}
for (par in c("delta", "theta")) {
  fits <- lapply(steps, function(ge)
    cfa(m3, data = d, group = "group", ordered = TRUE, parameterization = par, group.equal = ge))
  out[[par]] <- lapply(names(steps), function(s) {
    call <- sprintf("cfa(m3, data, group = 'group', ordered = TRUE, parameterization = '%s', group.equal = %s)",
                    par, deparse(steps[[s]]))
    block(fits[[s]], call)
  })
  names(out[[par]]) <- names(steps)
  out[[paste0("lrt_", par)]] <- lrt_block(fits)
}
# A structural model with an equality label (single group): regressions among the factors of ordered
# items, both parameterizations, with the standardized solution (std.all).
m_sem <- paste("task =~ i1 + a*i2 + a*i10 + i12", "bond =~ i3 + i5 + i7 + i9", "goal =~ i4 + i6 + i8 + i11",
               "goal ~ task", "bond ~ goal", sep = "\n")
out$structural <- list(model = m_sem)
for (par in c("delta", "theta")) {
  f <- sem(m_sem, data = d[, items], ordered = TRUE, parameterization = par)
  b <- block(f, sprintf("sem(m_sem, data = complete cases, ordered = TRUE, parameterization = '%s')", par))
  sts <- standardizedSolution(f)  # same rows, same order as parameterEstimates(f)
  b$params$std_all <- sts$est.std
  b$params$std_all_se <- sts$se
  b$sampstat <- NULL
  out$structural[[par]] <- b
}
# Binary and five-category items together (i1 and i3 cut at 3/4): lavaan frees the scaling factors
# (delta) / residual variances (theta) of the non-binary items only once the thresholds are equal.
db <- d
db$i1 <- as.integer(db$i1 >= 4); db$i3 <- as.integer(db$i3 >= 4)
m_bin <- "task =~ i1 + i2 + i10 + i12\n bond =~ i3 + i5 + i7 + i9"
out$binary <- list(model = m_bin, data = "d with i1 and i3 recoded as (x >= 4)")
for (par in c("delta", "theta")) {
  f <- cfa(m_bin, data = db, group = "group", ordered = TRUE, parameterization = par,
           group.equal = c("thresholds", "loadings"))
  b <- block(f, sprintf("cfa(m_bin, db, group = 'group', ordered = TRUE, parameterization = '%s', group.equal = c('thresholds', 'loadings'))", par))
  b$sampstat <- NULL
  out$binary[[par]] <- b
}
out$versions <- list(R = paste(R.version$major, R.version$minor, sep = "."),
                     lavaan = as.character(packageVersion("lavaan")))
write_json(out, file.path("tests", "fixtures", "sem_ordinal_invariance.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
message("wrote tests/fixtures/sem_ordinal_invariance.json")
