# Oracle for analysis/meta_compare.py (fitstats, anova: Wald tests, contrasts, likelihood-ratio tests)
# and for analysis.meta_bias.influence on meta-regressions.
#
# Run from the repository root:   Rscript tests/oracles/meta_compare.R
# Writes tests/fixtures/meta_compare.json (17 significant digits; inputs included so the tests need no R).
# Checked with R 4.2.2, metafor 3.8.1, jsonlite.
#
# Data (read from data/raw/, the files the package ships):
#   bcg          <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg.csv)
#   landenberger <- escalc("OR", ai = n.ctrl.rec, bi = n.ctrl.non, ci = n.cbt.rec, di = n.cbt.non,
#                          data = dat.landenberger2005.csv)      # CBT for offenders (Landenberger & Lipsey, 2005)
# Exact calls (CTRL tightens metafor's convergence, see CONTRIBUTING.md):
#   CTRL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
#   res <- rma(yi, vi, mods = MODS, data = D, method = M, test = T, control = CTRL)
#   res$fit.stats; logLik(res); fitstats(res); res$parms                       # "fitstats" block
#   anova(res, btt = B, rhs = R)                                               # "wald" block
#   anova(res, X = L, rhs = R)                                                 # "contrasts" block
#   anova(full, reduced, refit = RF)                                           # "lrt" block
#   influence(res)                                                             # "influence" block
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

CTRL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-14)
METHODS <- c("FE", "DL", "REML", "ML", "PM", "HE", "SJ")
num <- function(x) as.numeric(x)

bcg_raw <- read.csv(file.path("data", "raw", "dat.bcg.csv"))
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg_raw)
bcg <- data.frame(yi = num(bcg$yi), vi = num(bcg$vi), ablat = bcg$ablat, year = bcg$year,
                  alloc = as.character(bcg$alloc))
lan_raw <- read.csv(file.path("data", "raw", "dat.landenberger2005.csv"))
lan <- escalc(measure = "OR", ai = n.ctrl.rec, bi = n.ctrl.non, ci = n.cbt.rec, di = n.cbt.non, data = lan_raw)
lan <- data.frame(yi = num(lan$yi), vi = num(lan$vi), setting = lan$setting, program = lan$program,
                  group = lan$group, country = lan$country, sessions = lan$sessions)
DATA <- list(bcg = bcg, landenberger = lan)

fit <- function(dname, mods, method, test = "z") {
  # the data and formula are put into the call itself, so that update(res, method = "ML") (used by
  # anova(..., refit = TRUE)) can re-evaluate it anywhere
  d <- DATA[[dname]]
  if (is.null(mods)) {
    cl <- bquote(rma(yi, vi, data = .(d), method = .(method), test = .(test), control = CTRL))
  } else {
    cl <- bquote(rma(yi, vi, mods = .(as.formula(mods)), data = .(d), method = .(method), test = .(test),
                     control = CTRL))
  }
  suppressWarnings(eval(cl))
}
fs_list <- function(res, col) {
  f <- res$fit.stats
  list(loglik = num(f["ll", col]), deviance = num(f["dev", col]), aic = num(f["AIC", col]),
       bic = num(f["BIC", col]), aicc = num(f["AICc", col]))
}

# ------------------------------------------------------------------ fitstats
FS_CASES <- list(
  list("bcg", NULL), list("bcg", "~ ablat"), list("bcg", "~ ablat + year"), list("bcg", "~ alloc"),
  list("landenberger", NULL), list("landenberger", "~ setting + program + group")
)
fitstats_out <- list()
for (cs in FS_CASES) for (m in METHODS) for (t in c("z", "knha")) {
  if (t == "knha" && !(m %in% c("REML", "DL"))) next
  res <- fit(cs[[1]], cs[[2]], m, t)
  fd <- fitstats(res)                                     # default column: REML for REML fits, else ML
  fitstats_out[[length(fitstats_out) + 1]] <- list(
    dataset = cs[[1]], mods = cs[[2]], method = m, test = t, parms = res$parms, tau2 = num(res$tau2),
    ml = fs_list(res, "ML"), reml = fs_list(res, "REML"),
    loglik = num(logLik(res)), fitstats = num(fd[, 1]), fitstats_column = colnames(fd)[1]
  )
}

# ---------------------------------------------------------------- Wald (btt)
WALD_CASES <- list(
  # dataset, mods, method, test, btt (R, 1-based), btt (0-based), rhs
  list("bcg", "~ ablat + year", "REML", "z", 2, list(1), NULL),
  list("bcg", "~ ablat + year", "REML", "z", 2:3, list(1, 2), NULL),
  list("bcg", "~ ablat + year", "REML", "knha", 2:3, list(1, 2), NULL),
  list("bcg", "~ ablat + year", "DL", "knha", 3, list(2), NULL),
  list("bcg", "~ ablat + year", "FE", "z", 1:2, list(0, 1), NULL),
  list("bcg", "~ ablat + year", "ML", "z", 2, list(1), -0.03),
  list("bcg", "~ alloc", "REML", "z", "alloc", "alloc", NULL),
  list("landenberger", "~ setting + program + group", "REML", "z", "program", "program", NULL),
  list("landenberger", "~ setting + program + group", "REML", "knha", "program", "program", NULL),
  list("landenberger", "~ setting + program + group", "PM", "z", c(2, 5), list(1, 4), c(0.1, -0.2))
)
wald_out <- list()
for (cs in WALD_CASES) {
  res <- fit(cs[[1]], cs[[2]], cs[[3]], cs[[4]])
  a <- if (is.null(cs[[7]])) anova(res, btt = cs[[5]]) else anova(res, btt = cs[[5]], rhs = cs[[7]])
  wald_out[[length(wald_out) + 1]] <- list(
    dataset = cs[[1]], mods = cs[[2]], method = cs[[3]], test = cs[[4]], btt = cs[[6]], rhs = cs[[7]],
    btt_r = num(a$btt), qm = num(a$QM), qm_df = num(a$QMdf[1]),
    qm_df2 = if (is.na(a$QMdf[2])) NULL else num(a$QMdf[2]), qm_pvalue = num(a$QMp)
  )
}

# ------------------------------------------------------------ contrasts (X)
CON_CASES <- list(
  list("bcg", "~ ablat + year", "REML", "z", rbind(c(1, 10, 1970), c(1, 50, 1970), c(0, 1, 0)), NULL),
  list("bcg", "~ ablat + year", "REML", "knha", rbind(c(1, 10, 1970), c(1, 50, 1970)), NULL),
  list("bcg", "~ ablat + year", "ML", "z", rbind(c(1, 10, 1970), c(1, 30, 1970), c(1, 50, 1970)), NULL),
  list("bcg", "~ ablat + year", "DL", "z", rbind(c(0, 1, 0), c(0, 0, 1)), c(-0.03, 0.01)),
  list("landenberger", "~ setting + program + group", "REML", "z", rbind(c(0, 0, 1, -1, 0)), NULL),
  list("landenberger", "~ setting + program + group", "REML", "knha",
       rbind(c(1, 0, 0, 0, 0), c(1, 1, 1, 0, 1), c(0, 0, 1, -1, 0)), 0.2)
)
con_out <- list()
for (cs in CON_CASES) {
  res <- fit(cs[[1]], cs[[2]], cs[[3]], cs[[4]])
  a <- if (is.null(cs[[6]])) anova(res, X = cs[[5]]) else anova(res, X = cs[[5]], rhs = cs[[6]])
  con_out[[length(con_out) + 1]] <- list(
    dataset = cs[[1]], mods = cs[[2]], method = cs[[3]], test = cs[[4]], X = cs[[5]], rhs = cs[[6]],
    estimate = num(a$Xb), se = num(a$se), statistic = num(a$zval), pvalue = num(a$pval),
    qm = if (is.na(a$QM)) NULL else num(a$QM), qm_df = if (is.na(a$QM)) NULL else num(a$QMdf[1]),
    qm_df2 = if (is.na(a$QM) || is.na(a$QMdf[2])) NULL else num(a$QMdf[2]),
    qm_pvalue = if (is.na(a$QM)) NULL else num(a$QMp)
  )
}

# ---------------------------------------------------------------------- LRT
LRT_CASES <- list(
  # dataset, full mods, full method, reduced mods, reduced method, refit
  list("bcg", "~ ablat + year", "ML", "~ ablat", "ML", FALSE),
  list("bcg", "~ ablat", "ML", NULL, "ML", FALSE),
  list("bcg", NULL, "REML", NULL, "FE", FALSE),
  list("bcg", "~ ablat", "REML", "~ ablat", "FE", FALSE),
  list("bcg", "~ ablat", "FE", NULL, "FE", FALSE),
  list("bcg", "~ ablat", "ML", NULL, "FE", FALSE),
  list("bcg", "~ ablat", "REML", NULL, "REML", TRUE),
  list("bcg", "~ ablat", "DL", NULL, "DL", FALSE),
  list("bcg", "~ alloc", "ML", NULL, "ML", FALSE),
  list("landenberger", "~ setting + program + group", "ML", "~ setting", "ML", FALSE),
  list("landenberger", NULL, "REML", NULL, "FE", FALSE),
  list("landenberger", "~ setting + program + group", "REML", "~ setting", "REML", TRUE)
)
lrt_out <- list()
for (cs in LRT_CASES) {
  f <- fit(cs[[1]], cs[[2]], cs[[3]])
  r <- fit(cs[[1]], cs[[4]], cs[[5]])
  a <- suppressWarnings(anova(f, r, refit = cs[[6]]))
  fsl <- function(x) list(loglik = num(x["ll"]), deviance = num(x["dev"]), aic = num(x["AIC"]),
                          bic = num(x["BIC"]), aicc = num(x["AICc"]))
  lrt_out[[length(lrt_out) + 1]] <- list(
    dataset = cs[[1]], full_mods = cs[[2]], full_method = cs[[3]], reduced_mods = cs[[4]],
    reduced_method = cs[[5]], refit = cs[[6]],
    lrt = num(a$LRT), pvalue = num(a$pval), parms_full = num(a$parms.f), parms_reduced = num(a$parms.r),
    fit_full = fsl(a$fit.stats.f), fit_reduced = fsl(a$fit.stats.r),
    tau2_full = num(a$tau2.f), tau2_reduced = num(a$tau2.r), r2 = num(a$R2),
    qe_full = num(a$QE.f), qe_reduced = num(a$QE.r)
  )
}

# ---------------------------------------------------------------- influence
INF_CASES <- list(
  list("bcg", "~ ablat", "REML", "z"), list("bcg", "~ ablat", "REML", "knha"),
  list("bcg", "~ ablat", "DL", "z"), list("bcg", "~ ablat", "FE", "z"),
  list("bcg", "~ ablat + year", "REML", "z"),
  list("landenberger", "~ setting + program + group", "REML", "z"),
  # leaving out the one study from New Zealand makes the design singular: metafor reports NA for it
  list("landenberger", "~ country", "REML", "z"), list("landenberger", "~ country", "DL", "knha")
)
inf_out <- list()
for (cs in INF_CASES) {
  res <- fit(cs[[1]], cs[[2]], cs[[3]], cs[[4]])
  inf <- suppressWarnings(influence(res))
  dfbs <- unclass(inf$dfbs)[seq_len(res$p)]   # unclass: `[` on a list.rma subsets rows
  inf_out[[length(inf_out) + 1]] <- list(
    dataset = cs[[1]], mods = cs[[2]], method = cs[[3]], test = cs[[4]], coef_names = rownames(res$beta),
    rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits), cook_d = num(inf$inf$cook.d),
    cov_r = num(inf$inf$cov.r), tau2_del = num(inf$inf$tau2.del), qe_del = num(inf$inf$QE.del),
    hat = num(inf$inf$hat), weight = num(inf$inf$weight), dfbetas = unname(as.list(dfbs)),
    influential = inf$is.infl
  )
}

out <- list(
  data = list(bcg = bcg, landenberger = lan),
  fitstats = fitstats_out, wald = wald_out, contrasts = con_out, lrt = lrt_out, influence = inf_out
)
txt <- toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = TRUE)
path <- file.path("tests", "fixtures", "meta_compare.json")
writeLines(txt, path)
cat("wrote", path, "\n")
