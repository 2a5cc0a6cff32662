# Oracle for analysis/sem (the SEM engine): general SEMs with regressions, labels/equalities,
# exogenous covariates (fixed.x), std.lv, multi-group, standardized solutions and modification
# indices, all by lavaan (ML, complete data).
#
# Run from the repository root:   Rscript tests/oracles/sem.R
# Writes tests/fixtures/sem.json (numbers with 17 significant digits) and the data it used,
# tests/fixtures/sem_politicaldemocracy.csv and tests/fixtures/sem_holzinger.csv (lavaan's
# PoliticalDemocracy and HolzingerSwineford1939), so that the Python tests need no R.
#
# Exact calls (CTRL is lavaan's default nlminb rel.tol 1e-10 with more iterations; a tighter rel.tol
# (1e-12, 1e-14) makes nlminb report a false non-convergence on these models):
#   CTRL <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
#   sem(PD_MODEL, data = PoliticalDemocracy, control = CTRL)                      # "poldem"
#   cfa(HS_MODEL, data = HolzingerSwineford1939, std.lv = TRUE, control = CTRL)   # "hs_stdlv"
#   sem(HS_MIMIC, data = HolzingerSwineford1939, control = CTRL)                  # "hs_mimic" (fixed.x)
#   cfa(HS_MODEL, data = HS, group = "school", group.equal = c("loadings", "intercepts"),
#       group.partial = "x3 ~ 1", control = CTRL)                                  # "hs_scalar"
#   cfa(HS_MODEL, data = HolzingerSwineford1939, meanstructure = TRUE, control = CTRL)  # "hs_means"
# and for each: parameterEstimates(fit), standardizedSolution(fit, type = "std.all"/"std.lv"),
# fitMeasures(fit), modindices(fit).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})

CTRL <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
out_path <- function(name) file.path("tests", "fixtures", name)

PD_MODEL <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
HS_MODEL <- "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
HS_MIMIC <- paste(HS_MODEL, "\n visual ~ ageyr + grade\n speed ~ grade + visual")

HS <- HolzingerSwineford1939[, c("id", "school", "ageyr", "grade", paste0("x", 1:9))]
HS <- HS[complete.cases(HS), ]
write.csv(PoliticalDemocracy, out_path("sem_politicaldemocracy.csv"), row.names = FALSE)
write.csv(HS, out_path("sem_holzinger.csv"), row.names = FALSE)

fits <- list(
  poldem = list(fit = sem(PD_MODEL, data = PoliticalDemocracy, control = CTRL),
                call = "sem(PD_MODEL, data = PoliticalDemocracy)", model = PD_MODEL, data = "sem_politicaldemocracy.csv"),
  hs_stdlv = list(fit = cfa(HS_MODEL, data = HS, std.lv = TRUE, control = CTRL),
                  call = "cfa(HS_MODEL, data = HS, std.lv = TRUE)", model = HS_MODEL, data = "sem_holzinger.csv"),
  hs_mimic = list(fit = sem(HS_MIMIC, data = HS, control = CTRL),
                  call = "sem(HS_MIMIC, data = HS)  # fixed.x = TRUE: ageyr, grade exogenous", model = HS_MIMIC,
                  data = "sem_holzinger.csv"),
  hs_scalar = list(fit = cfa(HS_MODEL, data = HS, group = "school", group.equal = c("loadings", "intercepts"),
                             group.partial = "x3 ~ 1", control = CTRL),
                   call = "cfa(HS_MODEL, data = HS, group = 'school', group.equal = c('loadings', 'intercepts'), group.partial = 'x3 ~ 1')",
                   model = HS_MODEL, data = "sem_holzinger.csv"),
  hs_means = list(fit = cfa(HS_MODEL, data = HS, meanstructure = TRUE, control = CTRL),
                  call = "cfa(HS_MODEL, data = HS, meanstructure = TRUE)", model = HS_MODEL, data = "sem_holzinger.csv")
)

FM <- c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "baseline.pvalue", "cfi", "tli",
        "logl", "unrestricted.logl", "aic", "bic", "bic2", "ntotal", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
        "rmsea.pvalue", "srmr")

block <- function(x) {
  f <- x$fit
  lab <- lavInspect(f, "group.label")
  grp <- function(g) if (length(lab)) lab[g] else rep("", length(g))
  pe <- parameterEstimates(f)
  sa <- standardizedSolution(f, type = "std.all")
  sl <- standardizedSolution(f, type = "std.lv")
  mi <- modindices(f)
  list(
    call = x$call, model = x$model, data = x$data, converged = lavInspect(f, "converged"),
    group_labels = as.list(lab),
    fit = as.list(fitMeasures(f, FM)),
    params = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = grp(if (is.null(pe$group)) rep(1, nrow(pe)) else pe$group),
                        label = if (is.null(pe$label)) rep("", nrow(pe)) else pe$label, est = pe$est, se = pe$se, z = pe$z, pvalue = pe$pvalue,
                        ci_lower = pe$ci.lower, ci_upper = pe$ci.upper,
                        std_all = sa$est.std, std_all_se = sa$se, std_lv = sl$est.std, std_lv_se = sl$se,
                        stringsAsFactors = FALSE),
    modindices = data.frame(lhs = mi$lhs, op = mi$op, rhs = mi$rhs,
                            group = grp(if (is.null(mi$group)) rep(1, nrow(mi)) else mi$group),
                            mi = mi$mi, epc = mi$epc, sepc_lv = mi$sepc.lv, sepc_all = mi$sepc.all,
                            stringsAsFactors = FALSE)
  )
}

out <- lapply(fits, block)
out$versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")))
txt <- toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = FALSE, dataframe = "rows")
writeLines(txt, out_path("sem.json"))
cat("wrote", out_path("sem.json"), "\n")
