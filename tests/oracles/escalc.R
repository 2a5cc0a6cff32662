# Reference values for analysis/effect_sizes.py from metafor::escalc (and psych for Spearman's
# correction for attenuation).
#
# Run from the repository root:
#     Rscript tests/oracles/escalc.R
# (or `make oracles`, which runs every script in tests/oracles/). It writes
# tests/fixtures/escalc.json. Needs R >= 4.2 with metafor (3.8.1 used), metadat, MASS, psych and
# jsonlite (Debian: r-cran-metafor r-cran-metadat r-cran-psych r-cran-jsonlite; MASS ships with R).
#
# Every effect-size case is one call of the form
#     escalc(measure = M, <arguments>, data = D, add = 1/2, to = "only0", vtype = "LS")
# i.e. metafor's defaults unless the case's "options" say otherwise; the exact call is stored in
# each case's "call" field. Inputs and outputs are written with 17 significant digits
# (sprintf("%.17g"), which round-trips IEEE doubles exactly; jsonlite's own `digits` stops at 15).
#
# Data: metadat's dat.bcg (2x2 counts), dat.nielweise2007 (2x2 counts with zero cells),
# dat.normand1999 (means/SDs/ns), dat.molloy2014 (correlations); MASS::anorexia (pre/post
# weights of the three treatment groups of Hand et al. 1994) for the standardized mean change;
# psych::bfi (Big Five items) for the disattenuated correlations of psych::scoreItems;
# small constructed sets for t statistics, zero cells of every kind and pre/post summaries.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
  library(psych)
})

num17 <- function(x) {
  x <- as.numeric(x)
  structure(paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ","), "]"),
            class = "json")
}

cases <- list()

add_case <- function(name, dataset, measure, inputs, options = list(), call) {
  args <- c(list(measure = measure), inputs, options)
  res <- do.call(escalc, args)
  cases[[length(cases) + 1]] <<- list(
    name = name,
    dataset = dataset,
    measure = measure,
    call = call,
    options = options,
    inputs = lapply(inputs, num17),
    yi = num17(res$yi),
    vi = num17(res$vi)
  )
}

# ---- 2x2 tables: dat.bcg ------------------------------------------------------------------------
data(dat.bcg, package = "metadat")
bcg <- list(ai = dat.bcg$tpos, bi = dat.bcg$tneg, ci = dat.bcg$cpos, di = dat.bcg$cneg)
for (m in c("OR", "RR", "RD")) {
  add_case(paste0("bcg_", m), "metadat::dat.bcg", m, bcg,
           call = sprintf('escalc(measure="%s", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)', m))
}
add_case("bcg_OR_to_all", "metadat::dat.bcg", "OR", bcg, list(add = 0.5, to = "all"),
         call = 'escalc(measure="OR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, add=1/2, to="all")')

# ---- 2x2 tables with zero cells: dat.nielweise2007 (ai, n1i, ci, n2i form) -----------------------
data(dat.nielweise2007, package = "metadat")
niel <- list(ai = dat.nielweise2007$ai, n1i = dat.nielweise2007$n1i,
             ci = dat.nielweise2007$ci, n2i = dat.nielweise2007$n2i)
for (m in c("OR", "RR", "RD")) {
  add_case(paste0("nielweise_", m), "metadat::dat.nielweise2007", m, niel,
           call = sprintf('escalc(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.nielweise2007)', m))
}
for (to in c("all", "if0all")) {
  add_case(paste0("nielweise_OR_to_", to), "metadat::dat.nielweise2007", "OR", niel,
           list(add = 0.5, to = to),
           call = sprintf('escalc(measure="OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.nielweise2007, add=1/2, to="%s")', to))
}
add_case("nielweise_RR_add1", "metadat::dat.nielweise2007", "RR", niel, list(add = 1, to = "only0"),
         call = 'escalc(measure="RR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.nielweise2007, add=1, to="only0")')

# constructed: a zero in each cell, a double-zero study, an all-event arm, and no zero at all
zero <- list(ai = c(0, 4, 3, 5, 0, 12, 7),
             bi = c(20, 0, 17, 15, 30, 0, 13),
             ci = c(6, 2, 0, 9, 0, 10, 8),
             di = c(14, 18, 25, 0, 28, 0, 12))
for (m in c("OR", "RR", "RD")) {
  add_case(paste0("zero_cells_", m), "constructed", m, zero,
           call = sprintf('escalc(measure="%s", ai=ai, bi=bi, ci=ci, di=di)', m))
}

# ---- means, SDs and ns: dat.normand1999 ----------------------------------------------------------
data(dat.normand1999, package = "metadat")
nor <- with(dat.normand1999, list(m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i))
for (m in c("SMD", "MD")) {
  add_case(paste0("normand_", m), "metadat::dat.normand1999", m, nor,
           call = sprintf('escalc(measure="%s", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)', m))
}
# d -> log odds ratio (Hasselblad & Hedges 1995): yi = pi/sqrt(3) * d, with d the uncorrected SMD
add_case("normand_D2ORL", "metadat::dat.normand1999", "D2ORL", nor,
         call = 'escalc(measure="D2ORL", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)')

# ---- t statistics of independent-groups t tests (constructed) -----------------------------------
tt <- list(ti = c(2.31, -1.05, 0.47, 3.9, 0.0, -2.75),
           n1i = c(20, 35, 12, 60, 15, 8),
           n2i = c(22, 30, 12, 58, 19, 11))
add_case("t_statistics_SMD", "constructed", "SMD", tt,
         call = 'escalc(measure="SMD", ti=ti, n1i=n1i, n2i=n2i)')

# ---- correlations: dat.molloy2014 ---------------------------------------------------------------
data(dat.molloy2014, package = "metadat")
mol <- list(ri = dat.molloy2014$ri, ni = dat.molloy2014$ni)
for (m in c("COR", "ZCOR")) {
  add_case(paste0("molloy_", m), "metadat::dat.molloy2014", m, mol,
           call = sprintf('escalc(measure="%s", ri=ri, ni=ni, data=dat.molloy2014)', m))
}

# ---- pre/post standardized mean change ----------------------------------------------------------
# MASS::anorexia: weights (lb) before and after treatment (CBT, family therapy, control).
# m1i = post mean, m2i = pre mean, sd1i = pre SD (the SMCR standardizer), sd2i = post SD.
an <- MASS::anorexia
grp <- split(an, an$Treat)
prepost <- list(
  m1i = sapply(grp, function(g) mean(g$Postwt)),
  m2i = sapply(grp, function(g) mean(g$Prewt)),
  sd1i = sapply(grp, function(g) sd(g$Prewt)),
  sd2i = sapply(grp, function(g) sd(g$Postwt)),
  ni = sapply(grp, nrow),
  ri = sapply(grp, function(g) cor(g$Prewt, g$Postwt))
)
add_case("anorexia_SMCR", "MASS::anorexia (per treatment group)", "SMCR", prepost[c("m1i", "m2i", "sd1i", "ni", "ri")],
         call = 'escalc(measure="SMCR", m1i=m_post, m2i=m_pre, sd1i=sd_pre, ni=ni, ri=ri)')
add_case("anorexia_SMCC", "MASS::anorexia (per treatment group)", "SMCC", prepost,
         call = 'escalc(measure="SMCC", m1i=m_post, m2i=m_pre, sd1i=sd_pre, sd2i=sd_post, ni=ni, ri=ri)')
pp <- list(m1i = c(24.1, 31.0, 12.5, 50.2, 18.0),
           m2i = c(20.3, 33.2, 10.0, 41.7, 18.0),
           sd1i = c(5.2, 7.7, 3.1, 11.4, 4.0),
           sd2i = c(6.0, 7.1, 3.9, 10.2, 4.4),
           ni = c(25, 40, 9, 120, 30),
           ri = c(0.5, 0.72, -0.2, 0.85, 0.1))
add_case("constructed_SMCR", "constructed", "SMCR", pp[c("m1i", "m2i", "sd1i", "ni", "ri")],
         call = 'escalc(measure="SMCR", m1i=m1i, m2i=m2i, sd1i=sd1i, ni=ni, ri=ri)')
add_case("constructed_SMCC", "constructed", "SMCC", pp,
         call = 'escalc(measure="SMCC", m1i=m1i, m2i=m2i, sd1i=sd1i, sd2i=sd2i, ni=ni, ri=ri)')

# ---- conversions --------------------------------------------------------------------------------
r_grid <- c(-0.99, -0.8, -0.5, -0.2, -0.01, 0, 0.05, 0.3, 0.6, 0.9, 0.999)
z_grid <- c(-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 5)
m_grid <- c(2, 3, 4, 5, 8, 10, 18, 30, 58, 100, 309, 1000, 10000)
conversions <- list(
  rtoz = list(call = "metafor::transf.rtoz(r)", r = num17(r_grid), z = num17(transf.rtoz(r_grid))),
  ztor = list(call = "metafor::transf.ztor(z)", z = num17(z_grid), r = num17(transf.ztor(z_grid))),
  cmi = list(call = "metafor:::.cmicalc(m)  # Hedges' exact bias correction J(m)",
             m = num17(m_grid), J = num17(metafor:::.cmicalc(m_grid)))
)

# ---- Spearman's correction for attenuation: psych::scoreItems on psych::bfi -----------------------
# $corrected holds raw correlations below the diagonal, alphas on it, disattenuated above it.
keys <- list(A = c("-A1", "A2", "A3", "A4", "A5"), C = c("C1", "C2", "C3", "-C4", "-C5"),
             E = c("-E1", "-E2", "E3", "E4", "E5"), N = c("N1", "N2", "N3", "N4", "N5"),
             O = c("O1", "-O2", "O3", "O4", "-O5"))
sc <- scoreItems(keys, psych::bfi[1:25])
cc <- sc$corrected
idx <- which(lower.tri(cc), arr.ind = TRUE)
attenuation <- list(
  call = "psych::scoreItems(keys, bfi[1:25])$corrected (Big Five scales of psych::bfi)",
  ri = num17(cc[idx]),
  rxx = num17(diag(cc)[idx[, 1]]),
  ryy = num17(diag(cc)[idx[, 2]]),
  corrected = num17(cc[idx[, c(2, 1)]])
)

out <- list(
  generated_by = "tests/oracles/escalc.R",
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  psych = as.character(packageVersion("psych"))),
  cases = cases,
  conversions = conversions,
  attenuation = attenuation
)
writeLines(toJSON(out, json_verbatim = TRUE, auto_unbox = TRUE, pretty = TRUE),
           "tests/fixtures/escalc.json")
message("wrote tests/fixtures/escalc.json: ", length(cases), " escalc cases")
