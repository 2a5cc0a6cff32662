# Oracle for defined parameters (`name := expression`) in analysis.sem: estimate, delta-method SE,
# z, p value and Wald CI of each defined parameter, and its std.all (standardizedSolution) on
# data made here with a fixed seed:
#   Rscript tests/oracles/sem_defined.R
# Data (written to tests/fixtures/sem_defined.csv; empty = missing): N = 240 rows, a mediation
# x -> m -> y with a direct effect, skewed errors (centred chi-square(3)) so that ML and MLR SEs
# differ; group g = rep(c("a", "b"), 120) (alternate rows) with a smaller a-path in group b;
# m_na, y_na = m, y with values deleted (MCAR, probability 0.15; x complete).
# 1. ml:    sem(model, data)                          model = mediation with ab := a*b, total := c + a*b
# 2. mlr:   sem(model, data, estimator = "MLR")
# 3. fiml:  sem(model_na, data, missing = "ml")       same model on m_na, y_na
# 3b. mlr_fiml: sem(model_na, data, missing = "ml", estimator = "MLR")
# 4. mg:    sem(model_mg, data, group = "g")          c(a1, a2), c(b1, b2); ind1, ind2, diff := a1*b1 - a2*b2
# 5. mg_eq: sem(model_eq, data, group = "g")          model_mg plus `a1 == a2` (lavaan: an equality
#    constraint; the workbook: one free parameter, as a shared label); also the whole parameter
#    table (est, se of every row) and chisq, df
# For each: parameterEstimates(fit)[op == ":=", ] (est, se, z, pvalue, ci.lower, ci.upper; level 0.95)
# and standardizedSolution(fit)[op == ":=", "est.std"].
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
set.seed(20261129)
n <- 240
g <- rep(c("a", "b"), n / 2)
x <- rnorm(n)
a <- ifelse(g == "a", 0.6, 0.3)
m <- a * x + (rchisq(n, 3) - 3) / sqrt(6)
y <- 0.5 * m + 0.2 * x + (rchisq(n, 3) - 3) / sqrt(6)
dat <- data.frame(x = round(x, 5), m = round(m, 5), y = round(y, 5), g = g)
dat$m_na <- ifelse(runif(n) < 0.15, NA, dat$m)
dat$y_na <- ifelse(runif(n) < 0.15, NA, dat$y)
write.csv(dat, file.path("tests", "fixtures", "sem_defined.csv"), row.names = FALSE, na = "")
model <- "m ~ a*x\ny ~ b*m + c*x\nab := a*b\ntotal := c + a*b"
model_na <- "m_na ~ a*x\ny_na ~ b*m_na + c*x\nab := a*b\ntotal := c + a*b"
model_mg <- "m ~ c(a1, a2)*x\ny ~ c(b1, b2)*m + x\nind1 := a1*b1\nind2 := a2*b2\ndiff := a1*b1 - a2*b2"
model_eq <- "m ~ c(a1, a2)*x\ny ~ c(b1, b2)*m + x\na1 == a2\ndiff := a1*b1 - a2*b2"
out1 <- function(fit, model) {
  pe <- parameterEstimates(fit)
  pe <- pe[pe$op == ":=", ]
  ss <- standardizedSolution(fit)
  ss <- ss[ss$op == ":=", ]
  list(model = model, lhs = pe$lhs, rhs = pe$rhs, est = pe$est, se = pe$se, z = pe$z, pvalue = pe$pvalue,
       ci_lower = pe$ci.lower, ci_upper = pe$ci.upper, std_all = ss$est.std, std_all_se = ss$se)
}
res <- list(
  ml = out1(sem(model, dat), model),                                   # sem(model, dat)
  mlr = out1(sem(model, dat, estimator = "MLR"), model),               # sem(model, dat, estimator = "MLR")
  fiml = out1(sem(model_na, dat, missing = "ml"), model_na),           # sem(model_na, dat, missing = "ml")
  mlr_fiml = out1(sem(model_na, dat, missing = "ml", estimator = "MLR"), model_na),  # sem(model_na, dat, missing = "ml", estimator = "MLR")
  mg = out1(sem(model_mg, dat, group = "g"), model_mg),                # sem(model_mg, dat, group = "g")
  mg_eq = c(out1(fit_eq <- sem(model_eq, dat, group = "g"), model_eq),   # sem(model_eq, dat, group = "g")
            list(all = {pe <- parameterEstimates(fit_eq); pe <- pe[pe$op != ":=" & pe$op != "==", ];
                        list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = pe$group, est = pe$est, se = pe$se)},
                 chisq = unname(fitMeasures(fit_eq, "chisq")), df = unname(fitMeasures(fit_eq, "df")),
                 npar = unname(fitMeasures(fit_eq, "npar")))),
  lavaan_version = as.character(packageVersion("lavaan"))
)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path("tests", "fixtures", "sem_defined.json"))
