# Reference values for the effect sizes added to analysis/effect_sizes.py in issue 14 (items 5-6):
# SMDH, ROM, RPB, PR, PLO, UCOR, PCOR, ZPCOR and SPCOR, from metafor::escalc.
#
# Run from the repository root:
#     Rscript tests/oracles/escalc_more.R
# (or `make oracles`). It writes tests/fixtures/escalc_more.json. Needs R >= 4.2 with metafor
# (3.8.1 used), metadat, jsonlite and gsl (measure="UCOR" calls gsl::hyperg_2F1;
# Debian: r-cran-metafor r-cran-metadat r-cran-jsonlite r-cran-gsl).
#
# Every case is one call of the form
#     escalc(measure = M, <arguments>, data = D, add = 1/2, to = "only0", vtype = "LS")
# i.e. metafor's defaults unless the case's "options" say otherwise; the exact call is stored in
# each case's "call" field. Numbers are written with 17 significant digits (round-trip exact).
#
# NOTE metafor versions: these values are metafor 3.8.1's. Later releases changed some of these
# measures (4.0: ZPCOR variance; 4.4: meaning of `mi` for (semi-)partial correlations and the
# PCOR variance; 4.6: SMDH variance without the J^2 factor; 4.8/5.0: ROM bias-corrected by
# default). The Python docstrings say which version they follow.
#
# Data: metadat's dat.normand1999 (means/SDs/ns: SMDH, ROM, RPB), dat.pritz1997 and
# dat.debruin2009 (events out of n: PR, PLO; pritz1997 has studies with xi = ni),
# dat.molloy2014 (correlations: UCOR), dat.aloe2013 (t of a regression coefficient, n, number of
# predictors, R^2: PCOR, ZPCOR, SPCOR); small constructed sets for zero counts and signs.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
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
  stopifnot(all(is.finite(res$yi)), all(is.finite(res$vi)))
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

# ---- two groups, means/SDs/ns: dat.normand1999 --------------------------------------------------
data(dat.normand1999, package = "metadat")
nor <- with(dat.normand1999, list(m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i))
for (m in c("SMDH", "ROM", "RPB")) {
  add_case(paste0("normand_", m), "metadat::dat.normand1999", m, nor,
           call = sprintf('escalc(measure="%s", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)', m))
}
add_case("normand_RPB_CS", "metadat::dat.normand1999", "RPB", nor, list(vtype = "CS"),
         call = 'escalc(measure="RPB", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999, vtype="CS")')

# constructed: small and unequal groups, negative and zero differences, very unequal SDs
grp <- list(m1i = c(12.1, 30.0, 5.5, 101.2, 47.0, 8.0),
            sd1i = c(3.2, 9.5, 0.8, 20.1, 12.0, 2.5),
            n1i = c(4, 25, 12, 150, 9, 30),
            m2i = c(10.4, 33.5, 5.5, 88.0, 52.5, 6.1),
            sd2i = c(2.9, 4.1, 2.2, 35.7, 6.0, 2.4),
            n2i = c(3, 31, 15, 149, 40, 8))
for (m in c("SMDH", "ROM", "RPB")) {
  add_case(paste0("constructed_", m), "constructed", m, grp,
           call = sprintf('escalc(measure="%s", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i)', m))
}
add_case("constructed_RPB_CS", "constructed", "RPB", grp, list(vtype = "CS"),
         call = 'escalc(measure="RPB", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, vtype="CS")')

# ---- proportions: dat.pritz1997 (xi, ni; some xi = ni) and dat.debruin2009 (xi, mi) -------------
data(dat.pritz1997, package = "metadat")
pri <- list(xi = dat.pritz1997$xi, ni = dat.pritz1997$ni)
for (m in c("PR", "PLO")) {
  add_case(paste0("pritz_", m), "metadat::dat.pritz1997", m, pri,
           call = sprintf('escalc(measure="%s", xi=xi, ni=ni, data=dat.pritz1997)', m))
  for (to in c("all", "if0all")) {
    add_case(paste0("pritz_", m, "_to_", to), "metadat::dat.pritz1997", m, pri, list(add = 0.5, to = to),
             call = sprintf('escalc(measure="%s", xi=xi, ni=ni, data=dat.pritz1997, add=1/2, to="%s")', m, to))
  }
  add_case(paste0("pritz_", m, "_add1"), "metadat::dat.pritz1997", m, pri, list(add = 1, to = "only0"),
           call = sprintf('escalc(measure="%s", xi=xi, ni=ni, data=dat.pritz1997, add=1, to="only0")', m))
}
data(dat.debruin2009, package = "metadat")
deb <- list(xi = dat.debruin2009$xi, mi = dat.debruin2009$mi)
for (m in c("PR", "PLO")) {
  add_case(paste0("debruin_", m), "metadat::dat.debruin2009", m, deb,
           call = sprintf('escalc(measure="%s", xi=xi, mi=mi, data=dat.debruin2009)', m))
}
# constructed: no events, all events, neither
zp <- list(xi = c(0, 7, 12, 1, 30), ni = c(15, 7, 40, 2, 31))
for (m in c("PR", "PLO")) {
  add_case(paste0("zero_counts_", m), "constructed", m, zp,
           call = sprintf('escalc(measure="%s", xi=xi, ni=ni)', m))
}

# ---- correlations: dat.molloy2014 ----------------------------------------------------------------
data(dat.molloy2014, package = "metadat")
mol <- list(ri = dat.molloy2014$ri, ni = dat.molloy2014$ni)
add_case("molloy_UCOR", "metadat::dat.molloy2014", "UCOR", mol,
         call = 'escalc(measure="UCOR", ri=ri, ni=ni, data=dat.molloy2014)')
add_case("molloy_UCOR_UB", "metadat::dat.molloy2014", "UCOR", mol, list(vtype = "UB"),
         call = 'escalc(measure="UCOR", ri=ri, ni=ni, data=dat.molloy2014, vtype="UB")')
uc <- list(ri = c(-0.95, -0.4, 0, 0.05, 0.5, 0.9), ni = c(5, 6, 10, 30, 200, 12))
add_case("constructed_UCOR", "constructed", "UCOR", uc, call = 'escalc(measure="UCOR", ri=ri, ni=ni)')
add_case("constructed_UCOR_UB", "constructed", "UCOR", uc, list(vtype = "UB"),
         call = 'escalc(measure="UCOR", ri=ri, ni=ni, vtype="UB")')

# ---- (semi-)partial correlations: dat.aloe2013 --------------------------------------------------
data(dat.aloe2013, package = "metadat")
aloe <- with(dat.aloe2013, list(ti = tval, ni = n, mi = preds))
for (m in c("PCOR", "ZPCOR")) {
  add_case(paste0("aloe_", m), "metadat::dat.aloe2013", m, aloe,
           call = sprintf('escalc(measure="%s", ti=tval, ni=n, mi=preds, data=dat.aloe2013)', m))
}
add_case("aloe_SPCOR", "metadat::dat.aloe2013", "SPCOR", c(aloe, list(r2i = dat.aloe2013$R2)),
         call = 'escalc(measure="SPCOR", ti=tval, ni=n, mi=preds, r2i=R2, data=dat.aloe2013)')
pc <- list(ti = c(-3.1, 0, 0.8, 2.2, 10.5), ni = c(20, 45, 100, 8, 1000), mi = c(3, 1, 10, 2, 6),
           r2i = c(0.6, 0.05, 0.3, 0.8, 0.25))
for (m in c("PCOR", "ZPCOR")) {
  add_case(paste0("constructed_", m), "constructed", m, pc[c("ti", "ni", "mi")],
           call = sprintf('escalc(measure="%s", ti=ti, ni=ni, mi=mi)', m))
}
add_case("constructed_SPCOR", "constructed", "SPCOR", pc,
         call = 'escalc(measure="SPCOR", ti=ti, ni=ni, mi=mi, r2i=r2i)')

out <- list(
  generated_by = "tests/oracles/escalc_more.R",
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat")),
                  gsl = as.character(packageVersion("gsl"))),
  cases = cases
)
writeLines(toJSON(out, json_verbatim = TRUE, auto_unbox = TRUE, pretty = TRUE),
           "tests/fixtures/escalc_more.json")
message("wrote tests/fixtures/escalc_more.json: ", length(cases), " escalc cases")
