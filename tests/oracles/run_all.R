# Regenerate every R reference fixture: `make oracles` (or `Rscript tests/oracles/run_all.R`)
# from the repository root. Each script in tests/oracles/ writes JSON into tests/fixtures/.
# Needs Debian's R 4.2 with: r-cran-metafor r-cran-lme4 r-cran-lavaan r-cran-psych
# r-cran-metadat r-cran-jsonlite r-cran-hsaur3 r-cran-mice r-cran-gsl (MASS ships with R; gsl for escalc_more.R).
scripts <- setdiff(sort(list.files("tests/oracles", pattern = "\\.R$", full.names = TRUE)),
                   "tests/oracles/run_all.R")
for (s in scripts) {
  message("== ", s)
  status <- system2("Rscript", s)
  if (status != 0) stop("oracle script failed: ", s)
}
message("R ", R.version$major, ".", R.version$minor, "; metafor ", packageVersion("metafor"),
        "; lme4 ", packageVersion("lme4"), "; lavaan ", packageVersion("lavaan"),
        "; psych ", packageVersion("psych"))
